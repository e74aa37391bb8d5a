//! The production `DiscordApi`: Coffer's REST client (`discord::Rest`), one attempt per call
//! (the reconciler's error policy decides retries) with a request timeout; a global 429 still
//! pauses every call. Discord's answers become `ApiError`s; nothing here retries or sleeps.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::api::{ApiError, DiscordApi, MessageBody};
use crate::discord::{Rest, RestError};
use crate::domain::ids::deserialize_u64_or_string;
use crate::domain::{ChannelId, GuildId, MessageId, RoleId, UserId};

/// `DiscordApi` over `Rest`.
#[derive(Debug, Clone)]
pub struct RestApi {
    rest: Arc<Rest>,
    timeout: Duration,
}

/// The id of a created message or opened DM channel.
#[derive(Debug, Deserialize)]
struct Created {
    #[serde(deserialize_with = "deserialize_u64_or_string")]
    id: u64,
}

impl RestApi {
    /// Every request gives up after `timeout` (`SyncOptions::request_timeout`).
    pub fn new(rest: Arc<Rest>, timeout: Duration) -> RestApi {
        RestApi { rest, timeout }
    }

    async fn once<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, ApiError> {
        self.rest
            .call_once(method, path, body, self.timeout)
            .await
            .map_err(api_error)
    }

    async fn post_message(&self, channel: u64, body: &Value) -> Result<MessageId, ApiError> {
        let path = format!("/channels/{channel}/messages");
        let m: Created = self.once(Method::POST, &path, Some(body)).await?;
        Ok(MessageId(m.id))
    }

    /// A call whose answer carries nothing we use (204, or a message we already know).
    async fn act(&self, method: Method, path: &str, body: Option<&Value>) -> Result<(), ApiError> {
        let _: Value = self.once(method, path, body).await?;
        Ok(())
    }
}

/// `body` with `nonce` and `enforce_nonce: true`, so Discord answers a repeat with the first
/// message instead of posting a second one.
fn with_nonce(body: &MessageBody, nonce: &str) -> Result<Value, ApiError> {
    let mut body = body.clone();
    let Some(obj) = body.as_object_mut() else {
        return Err(ApiError {
            status: None,
            code: None,
            message: "a message body must be a JSON object".into(),
            retry_after: None,
            global: false,
        });
    };
    obj.insert("nonce".into(), Value::String(nonce.to_owned()));
    obj.insert("enforce_nonce".into(), Value::Bool(true));
    Ok(body)
}

/// How the error policy sees a failed REST call.
pub fn api_error(e: RestError) -> ApiError {
    let (status, code, message, retry_after, global) = match e {
        RestError::Status {
            status,
            code,
            message,
            ..
        } => (
            Some(status),
            (code != 0).then_some(code),
            message,
            None,
            false,
        ),
        RestError::RateLimited {
            retry_after,
            global,
            ..
        } => (
            Some(429),
            None,
            "rate limited".to_owned(),
            Some(retry_after),
            global,
        ),
        RestError::Network { source, .. } if source.is_timeout() => {
            (None, None, "the request timed out".to_owned(), None, false)
        }
        e @ (RestError::Network { .. }
        | RestError::Decode { .. }
        | RestError::NoApplicationId
        | RestError::DeadlinePassed { .. }) => (None, None, e.to_string(), None, false),
    };
    ApiError {
        status,
        code,
        message,
        retry_after,
        global,
    }
}

impl DiscordApi for RestApi {
    async fn create_message(
        &self,
        channel: ChannelId,
        body: &MessageBody,
        nonce: &str,
    ) -> Result<MessageId, ApiError> {
        let body = with_nonce(body, nonce)?;
        self.post_message(channel.0, &body).await
    }

    async fn edit_message(
        &self,
        channel: ChannelId,
        message: MessageId,
        body: &MessageBody,
    ) -> Result<(), ApiError> {
        let path = format!("/channels/{}/messages/{}", channel.0, message.0);
        self.act(Method::PATCH, &path, Some(body)).await
    }

    async fn delete_message(&self, channel: ChannelId, message: MessageId) -> Result<(), ApiError> {
        let path = format!("/channels/{}/messages/{}", channel.0, message.0);
        self.act(Method::DELETE, &path, None).await
    }

    async fn set_pinned(
        &self,
        channel: ChannelId,
        message: MessageId,
        pinned: bool,
    ) -> Result<(), ApiError> {
        let path = format!("/channels/{}/pins/{}", channel.0, message.0);
        let method = if pinned { Method::PUT } else { Method::DELETE };
        self.act(method, &path, None).await
    }

    async fn add_member_role(
        &self,
        guild: GuildId,
        user: UserId,
        role: RoleId,
    ) -> Result<(), ApiError> {
        let path = format!("/guilds/{}/members/{}/roles/{}", guild.0, user.0, role.0);
        self.act(Method::PUT, &path, None).await
    }

    async fn send_dm(&self, user: UserId, body: &MessageBody) -> Result<(), ApiError> {
        let open = serde_json::json!({ "recipient_id": user.0.to_string() });
        let dm: Created = self
            .once(Method::POST, "/users/@me/channels", Some(&open))
            .await?;
        self.post_message(dm.id, body).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonce_is_added_to_an_object_body_and_other_bodies_are_refused() {
        let b = with_nonce(&serde_json::json!({"content": "hi"}), "shop_item:3:2").unwrap();
        assert_eq!(b["nonce"], "shop_item:3:2");
        assert_eq!(b["enforce_nonce"], true);
        assert_eq!(b["content"], "hi");
        assert!(with_nonce(&serde_json::json!("hi"), "n").is_err());
    }

    #[test]
    fn status_errors_keep_status_code_and_message_and_code_zero_is_none() {
        let e = api_error(RestError::Status {
            status: 403,
            method: Method::POST,
            path: "/channels/1/messages".into(),
            code: 50013,
            message: "Missing Permissions".into(),
        });
        assert_eq!(e.status, Some(403));
        assert_eq!(e.code, Some(50013));
        assert_eq!(e.message, "Missing Permissions");
        let e = api_error(RestError::Status {
            status: 502,
            method: Method::GET,
            path: "/x".into(),
            code: 0,
            message: "bad gateway".into(),
        });
        assert_eq!(e.code, None);
    }

    #[test]
    fn a_rate_limit_carries_retry_after_and_global() {
        let e = api_error(RestError::RateLimited {
            method: Method::PATCH,
            path: "/x".into(),
            retry_after: Duration::from_millis(1500),
            global: true,
        });
        assert_eq!(e.status, Some(429));
        assert_eq!(e.retry_after, Some(Duration::from_millis(1500)));
        assert!(e.global);
    }
}
