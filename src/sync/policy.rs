//! The error policy: a failed Discord call -> what becomes of the record (repost, orphaned,
//! failed with the reason in words, retry after a delay, or pause every call). Pure; the
//! jitter is passed in so each rule is a plain unit test.

use std::time::Duration;

use super::api::{codes, ApiError};
use crate::domain::ChannelId;
use crate::guild::SyncKind;

/// Which call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Create,
    Edit,
    Delete,
    Pin,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The message is gone: post it again (shop items).
    Repost,
    /// The message is gone: leave it to an admin (tasks, announcements, embeds).
    Orphaned(String),
    /// The call's goal is already met (deleting a message that is gone).
    Done,
    /// Refused for good: no retry until a new version or an admin's retry.
    Failed(String),
    /// Try again after this long (backoff, or a route's rate limit).
    RetryAfter { delay: Duration, error: String },
    /// A global rate limit: every call waits this long; the record is retried after it.
    PauseAll { delay: Duration, error: String },
}

pub const BACKOFF_START: Duration = Duration::from_secs(1);
pub const BACKOFF_CAP: Duration = Duration::from_secs(600);

/// 1 s doubling per attempt to a 10 min cap; `jitter` in [0, 1) takes up to a quarter off,
/// so records that failed together do not all come back at once.
pub fn backoff(attempts: u32, jitter: f64) -> Duration {
    let base = BACKOFF_START
        .saturating_mul(1u32.checked_shl(attempts.min(20)).unwrap_or(u32::MAX))
        .min(BACKOFF_CAP);
    base.mul_f64(1.0 - jitter.clamp(0.0, 0.999) / 4.0)
}

fn doing(call: Call) -> &'static str {
    match call {
        Call::Create => "send messages in",
        Call::Edit => "edit its message in",
        Call::Delete => "delete its message in",
        Call::Pin => "pin messages in",
    }
}

/// The rule for `err` from `call` on a `kind` record in `channel`, after `attempts` failures.
pub fn on_error(
    kind: SyncKind,
    call: Call,
    channel: ChannelId,
    err: &ApiError,
    attempts: u32,
    jitter: f64,
) -> Verdict {
    let error = err.to_string();
    match (err.status, err.code) {
        (Some(429), _) => {
            let delay = err.retry_after.unwrap_or(BACKOFF_START);
            if err.global {
                Verdict::PauseAll { delay, error }
            } else {
                Verdict::RetryAfter { delay, error }
            }
        }
        // Deleting what is already gone (message or its whole channel) is done.
        (_, Some(codes::UNKNOWN_MESSAGE | codes::UNKNOWN_CHANNEL)) if call == Call::Delete => {
            Verdict::Done
        }
        // We cannot tell an admin's deliberate delete from any other, so only shop items
        // (which always belong in the shop) come back by themselves.
        (_, Some(codes::UNKNOWN_MESSAGE)) => match kind {
            SyncKind::ShopItem => Verdict::Repost,
            _ => Verdict::Orphaned(format!(
                "the message in channel {channel} was deleted on Discord (Unknown Message)"
            )),
        },
        (_, Some(codes::UNKNOWN_GUILD)) => {
            Verdict::Failed("the bot is not in this server any more (Unknown Guild)".into())
        }
        (_, Some(codes::UNKNOWN_CHANNEL)) => Verdict::Failed(format!(
            "channel {channel} does not exist any more (Unknown Channel)"
        )),
        (_, Some(codes::MISSING_ACCESS)) => Verdict::Failed(format!(
            "the bot cannot see channel {channel} (Missing Access)"
        )),
        (_, Some(codes::MISSING_PERMISSIONS)) => Verdict::Failed(format!(
            "the bot cannot {} channel {channel} (Missing Permissions)",
            doing(call)
        )),
        (None, _) | (Some(500..=599), _) => Verdict::RetryAfter {
            delay: backoff(attempts, jitter),
            error,
        },
        (Some(_), _) => Verdict::Failed(format!("Discord refused the request: {error}")),
    }
}

/// Whether a failure is about the whole server rather than one channel (the bot was removed,
/// or its token no longer works): every other record of the guild waits for the next pass.
pub fn is_guild_wide(err: &ApiError) -> bool {
    err.status == Some(401) || err.code == Some(codes::UNKNOWN_GUILD)
}

/// After this many channels of one server fail in a pass, the server is parked for the rest
/// of it: its other records wait for the next pass instead of each costing a call.
pub const GUILD_PARK_AFTER: usize = 3;

/// The rule for a role grant: `Err(reason)` fails it for good, `Ok(delay)` retries.
pub fn on_role_error(err: &ApiError, attempts: u32, jitter: f64) -> Result<Duration, String> {
    match (err.status, err.code) {
        (Some(429), _) => Ok(err.retry_after.unwrap_or(BACKOFF_START)),
        (_, Some(codes::MISSING_PERMISSIONS)) => Err(
            "the bot may not give this role: it needs Manage Roles and a role above it (Missing Permissions)"
                .into(),
        ),
        (_, Some(codes::MISSING_ACCESS)) => Err("the bot cannot manage this server's roles (Missing Access)".into()),
        (_, Some(codes::UNKNOWN_ROLE)) => Err("the role no longer exists (Unknown Role)".into()),
        (_, Some(codes::UNKNOWN_MEMBER)) => Err("the member has left the server (Unknown Member)".into()),
        (None, _) | (Some(500..=599), _) => Ok(backoff(attempts, jitter)),
        (Some(_), _) => Err(format!("Discord refused the role change: {err}")),
    }
}

/// A response that counts against Discord's invalid-request limit (401, 403, 429).
pub fn is_invalid(err: &ApiError) -> bool {
    matches!(err.status, Some(401 | 403 | 429))
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::tests::fake::api_error as err;

    const C: ChannelId = ChannelId(123);

    fn verdict(kind: SyncKind, call: Call, e: &ApiError) -> Verdict {
        on_error(kind, call, C, e, 0, 0.0)
    }

    #[test]
    fn unknown_message_on_edit_reposts_shop_items_and_orphans_the_rest() {
        let e = err(Some(404), Some(codes::UNKNOWN_MESSAGE));
        assert_eq!(verdict(SyncKind::ShopItem, Call::Edit, &e), Verdict::Repost);
        for kind in [SyncKind::Task, SyncKind::Announcement, SyncKind::Embed] {
            assert!(
                matches!(verdict(kind, Call::Edit, &e), Verdict::Orphaned(r) if r.contains("deleted on Discord"))
            );
        }
    }

    #[test]
    fn unknown_message_on_delete_counts_as_done() {
        let e = err(Some(404), Some(codes::UNKNOWN_MESSAGE));
        assert_eq!(verdict(SyncKind::Task, Call::Delete, &e), Verdict::Done);
        let e = err(Some(404), Some(codes::UNKNOWN_CHANNEL));
        assert_eq!(verdict(SyncKind::ShopItem, Call::Delete, &e), Verdict::Done);
    }

    #[test]
    fn missing_access_permissions_and_unknown_channel_fail_with_the_reason_in_words() {
        let cases = [
            (
                codes::MISSING_PERMISSIONS,
                Call::Create,
                "the bot cannot send messages in channel 123 (Missing Permissions)",
            ),
            (
                codes::MISSING_PERMISSIONS,
                Call::Pin,
                "the bot cannot pin messages in channel 123 (Missing Permissions)",
            ),
            (
                codes::MISSING_ACCESS,
                Call::Edit,
                "the bot cannot see channel 123 (Missing Access)",
            ),
            (
                codes::UNKNOWN_CHANNEL,
                Call::Create,
                "channel 123 does not exist any more (Unknown Channel)",
            ),
        ];
        for (code, call, words) in cases {
            let e = err(Some(403), Some(code));
            assert_eq!(
                verdict(SyncKind::ShopItem, call, &e),
                Verdict::Failed(words.into())
            );
        }
    }

    #[test]
    fn a_429_waits_retry_after_and_a_global_one_pauses_everything() {
        let mut e = err(Some(429), None);
        e.retry_after = Some(Duration::from_millis(1500));
        assert!(
            matches!(verdict(SyncKind::Task, Call::Edit, &e), Verdict::RetryAfter { delay, .. } if delay == Duration::from_millis(1500))
        );
        e.global = true;
        assert!(
            matches!(verdict(SyncKind::Task, Call::Edit, &e), Verdict::PauseAll { delay, .. } if delay == Duration::from_millis(1500))
        );
    }

    #[test]
    fn server_errors_and_timeouts_back_off_exponentially_to_a_cap() {
        for e in [err(Some(500), None), err(Some(503), None), err(None, None)] {
            let delays: Vec<_> = (0..4)
                .map(
                    |a| match on_error(SyncKind::Task, Call::Create, C, &e, a, 0.0) {
                        Verdict::RetryAfter { delay, .. } => delay.as_secs(),
                        other => panic!("{other:?}"),
                    },
                )
                .collect();
            assert_eq!(delays, vec![1, 2, 4, 8]);
        }
        assert_eq!(backoff(10, 0.0), BACKOFF_CAP);
        assert_eq!(backoff(u32::MAX, 0.0), BACKOFF_CAP);
        let jittered = backoff(3, 0.999);
        assert!(jittered < Duration::from_secs(8) && jittered >= Duration::from_secs(6));
    }

    #[test]
    fn other_client_errors_fail_rather_than_loop() {
        assert!(matches!(
            verdict(SyncKind::Task, Call::Create, &err(Some(400), Some(50035))),
            Verdict::Failed(_)
        ));
    }

    #[test]
    fn role_grants_fail_on_permissions_and_retry_on_server_errors() {
        let e = err(Some(403), Some(codes::MISSING_PERMISSIONS));
        assert!(on_role_error(&e, 0, 0.0)
            .unwrap_err()
            .contains("Missing Permissions"));
        assert_eq!(
            on_role_error(&err(Some(502), None), 2, 0.0),
            Ok(Duration::from_secs(4))
        );
        assert!(is_invalid(&e) && !is_invalid(&err(Some(500), None)));
    }
}
