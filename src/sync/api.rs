//! The small Discord surface the reconciler and the side-effect worker need. Production
//! implements it over `discord::Rest` (`sync/rest.rs`); unit tests use a scripted in-memory
//! fake. Every call is "make it so": callers may repeat it safely (a create carries a nonce
//! with `enforce_nonce`, so Discord answers a repeat with the first message).

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

use crate::domain::{ChannelId, GuildId, MessageId, RoleId, UserId};

/// Discord's JSON error codes the sync rules look at.
pub mod codes {
    pub const UNKNOWN_CHANNEL: i64 = 10003;
    pub const UNKNOWN_GUILD: i64 = 10004;
    pub const UNKNOWN_MESSAGE: i64 = 10008;
    pub const UNKNOWN_ROLE: i64 = 10011;
    pub const UNKNOWN_MEMBER: i64 = 10007;
    pub const MISSING_ACCESS: i64 = 50001;
    pub const CANNOT_DM: i64 = 50007;
    pub const MISSING_PERMISSIONS: i64 = 50013;
}

/// A failed Discord call, as the error policy sees it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ApiError {
    /// The HTTP status; `None` when Discord never answered (timeout, connection error).
    pub status: Option<u16>,
    /// Discord's JSON error code (`{"code": 50013}`), when there is one.
    pub code: Option<i64>,
    /// Discord's message, or what went wrong on the way.
    pub message: String,
    /// For a 429: how long to wait (body `retry_after` or the `Retry-After` header, seconds as
    /// a float).
    pub retry_after: Option<Duration>,
    /// For a 429: the limit is global (every call must pause), not per route.
    pub global: bool,
}

impl ApiError {
    fn describe(&self) -> String {
        match (self.status, self.code) {
            (Some(s), Some(c)) => format!("Discord answered {s} (code {c}): {}", self.message),
            (Some(s), None) => format!("Discord answered {s}: {}", self.message),
            (None, _) => format!("could not reach Discord: {}", self.message),
        }
    }
}

/// A message body as Discord's REST API takes it (`content`, `embeds`, `components`,
/// `allowed_mentions`), without the nonce (the call adds it).
pub type MessageBody = Value;

/// What the reconciler and the side-effect worker may ask of Discord.
pub trait DiscordApi: Send + Sync + 'static {
    /// `POST /channels/{channel}/messages` with `nonce` and `enforce_nonce: true`; the new
    /// message's id (the first message's id when Discord already saw the nonce).
    fn create_message(
        &self,
        channel: ChannelId,
        body: &MessageBody,
        nonce: &str,
    ) -> impl Future<Output = Result<MessageId, ApiError>> + Send;

    /// `PATCH /channels/{channel}/messages/{message}`.
    fn edit_message(
        &self,
        channel: ChannelId,
        message: MessageId,
        body: &MessageBody,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// `DELETE /channels/{channel}/messages/{message}`.
    fn delete_message(
        &self,
        channel: ChannelId,
        message: MessageId,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// `PUT` (pinned) or `DELETE` (not pinned) `/channels/{channel}/pins/{message}`.
    fn set_pinned(
        &self,
        channel: ChannelId,
        message: MessageId,
        pinned: bool,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// `PUT /guilds/{guild}/members/{user}/roles/{role}`.
    fn add_member_role(
        &self,
        guild: GuildId,
        user: UserId,
        role: RoleId,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Opens (or reuses) the DM channel with `user` and posts `body` there.
    fn send_dm(
        &self,
        user: UserId,
        body: &MessageBody,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}
