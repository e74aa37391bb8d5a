//! Messages, DMs and role changes Coffer sends on its own (not as an interaction answer), all
//! through `Rest` so 429s and 5xx are retried. Callers decide which failures matter: a closed
//! DM (403, code 50007) is routine and only logged.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::rest::{Rest, RestError};
use crate::domain::ids::deserialize_u64_or_string;

/// Discord's "Cannot send messages to this user" (DMs closed, or no shared server).
pub const CANNOT_DM: i64 = 50007;

/// The ids of a message Discord created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct PostedMessage {
    #[serde(deserialize_with = "deserialize_u64_or_string")]
    pub id: u64,
    #[serde(deserialize_with = "deserialize_u64_or_string")]
    pub channel_id: u64,
}

#[derive(Debug, Deserialize)]
struct DmChannel {
    #[serde(deserialize_with = "deserialize_u64_or_string")]
    id: u64,
}

impl Rest {
    /// `POST /channels/{channel}/messages`.
    pub async fn create_message<B: Serialize>(
        &self,
        channel: u64,
        body: &B,
    ) -> Result<PostedMessage, RestError> {
        let path = format!("/channels/{channel}/messages");
        self.call(Method::POST, &path, Some(body)).await
    }

    /// `PATCH /channels/{channel}/messages/{message}`.
    pub async fn edit_message<B: Serialize>(
        &self,
        channel: u64,
        message: u64,
        body: &B,
    ) -> Result<(), RestError> {
        let path = format!("/channels/{channel}/messages/{message}");
        let _: serde_json::Value = self.call(Method::PATCH, &path, Some(body)).await?;
        Ok(())
    }

    /// Opens (or reuses) the DM channel with `user` and posts `body` there.
    pub async fn direct_message<B: Serialize>(
        &self,
        user: u64,
        body: &B,
    ) -> Result<PostedMessage, RestError> {
        let dm: DmChannel = self
            .call(
                Method::POST,
                "/users/@me/channels",
                Some(&serde_json::json!({ "recipient_id": user.to_string() })),
            )
            .await?;
        self.create_message(dm.id, body).await
    }

    /// `PUT /guilds/{guild}/members/{user}/roles/{role}`.
    pub async fn add_member_role(&self, guild: u64, user: u64, role: u64) -> Result<(), RestError> {
        let path = format!("/guilds/{guild}/members/{user}/roles/{role}");
        let _: serde_json::Value = self.call(Method::PUT, &path, None::<&()>).await?;
        Ok(())
    }
}

/// True when the failure means the member doesn't accept DMs from the bot.
pub fn is_closed_dm(e: &RestError) -> bool {
    matches!(e, RestError::Status { status: 403, .. })
        || matches!(e, RestError::Status { code, .. } if *code == CANNOT_DM)
}
