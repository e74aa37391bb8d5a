//! The pure planner: one outbox record plus the message its object should have now -> the one
//! action that makes Discord match, and when to look again. No I/O, no clock: `now` is passed.

use chrono::{DateTime, Utc};

use super::api::MessageBody;
use crate::domain::{ChannelId, MessageId};
use crate::guild::{SyncRecord, SyncState};

/// The message an object should have on Discord right now.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub channel: ChannelId,
    pub body: MessageBody,
    /// `Some` for objects that can be pinned (announcements).
    pub pinned: Option<bool>,
}

/// What the object asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Show this message.
    Show(Desired),
    /// No message: the object is hidden, inactive or has no channel (`exists`), or gone.
    Absent { exists: bool },
    /// Not before this time (a scheduled announcement).
    NotBefore(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing to do (in sync, parked as failed/orphaned, or not yet due).
    Nothing,
    /// Nothing to call on Discord, but the record is settled: the message is already absent.
    Settle,
    Create(Desired),
    Edit {
        message: MessageId,
        desired: Desired,
    },
    Delete {
        channel: ChannelId,
        message: MessageId,
    },
    /// The channel changed: delete the old message, post in the new channel.
    Move {
        from: ChannelId,
        message: MessageId,
        desired: Desired,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub action: Action,
    /// Look at the record again at this time even without an event.
    pub recheck_at: Option<DateTime<Utc>>,
}

impl Plan {
    fn now(action: Action) -> Plan {
        Plan {
            action,
            recheck_at: None,
        }
    }
}

/// Decides the action for `record` whose object now asks for `target`.
pub fn plan(record: &SyncRecord, target: &Target, now: DateTime<Utc>) -> Plan {
    if record.state != SyncState::Pending {
        // Synced, or parked (failed / orphaned) until a new version or an admin's retry.
        return Plan::now(Action::Nothing);
    }
    if record.next_attempt_at > now {
        return Plan {
            action: Action::Nothing,
            recheck_at: Some(record.next_attempt_at),
        };
    }
    let posted_in = record.posted_channel.or(record.channel);
    let wanted = match target {
        _ if record.delete => None,
        Target::Absent { .. } => None,
        Target::NotBefore(at) if *at > now => {
            return Plan {
                action: Action::Nothing,
                recheck_at: Some(*at),
            }
        }
        // A scheduled time that has passed but a target that did not render: look again soon.
        Target::NotBefore(_) => return Plan::now(Action::Nothing),
        Target::Show(d) => Some(d),
    };
    let action = match (wanted, record.message_id, posted_in) {
        // The object is gone but its message stays up (`delete_message` false).
        (None, Some(_), _) if record.delete && !record.delete_message => Action::Settle,
        (None, Some(message), Some(channel)) => Action::Delete { channel, message },
        (None, _, _) => Action::Settle,
        (Some(d), None, _) => Action::Create(d.clone()),
        (Some(d), Some(message), Some(from)) if from != d.channel => Action::Move {
            from,
            message,
            desired: d.clone(),
        },
        (Some(d), Some(message), _) => Action::Edit {
            message,
            desired: d.clone(),
        },
    };
    Plan::now(action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guild::SyncKind;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    fn rec(message: Option<u64>, channel: Option<u64>) -> SyncRecord {
        SyncRecord {
            message_id: message.map(MessageId),
            desired_version: 2,
            synced_version: 1,
            ..SyncRecord::new(SyncKind::ShopItem, 1, channel.map(ChannelId), now())
        }
    }

    fn show(channel: u64) -> Target {
        Target::Show(desired(channel))
    }

    fn desired(channel: u64) -> Desired {
        Desired {
            channel: ChannelId(channel),
            body: serde_json::json!({"content": "x"}),
            pinned: None,
        }
    }

    #[test]
    fn the_planner_table() {
        let later = now() + chrono::Duration::minutes(5);
        let mut synced = rec(Some(9), Some(5));
        synced.state = SyncState::Synced;
        let mut failed = rec(Some(9), Some(5));
        failed.state = SyncState::Failed;
        let mut orphaned = rec(None, Some(5));
        orphaned.state = SyncState::Orphaned;
        let mut backing_off = rec(Some(9), Some(5));
        backing_off.next_attempt_at = later;
        let mut deleted = rec(Some(9), Some(5));
        deleted.delete = true;
        let mut deleted_keep = deleted.clone();
        deleted_keep.delete_message = false;
        let mut deleted_never_posted = rec(None, Some(5));
        deleted_never_posted.delete = true;
        let mut moved = rec(Some(9), Some(6));
        moved.posted_channel = Some(ChannelId(5));

        let d5 = desired(5);
        let d6 = desired(6);
        let edit9 = |d: &Desired| Action::Edit {
            message: MessageId(9),
            desired: d.clone(),
        };
        let table: Vec<(&str, SyncRecord, Target, Plan)> = vec![
            (
                "never posted: create",
                rec(None, Some(5)),
                show(5),
                Plan::now(Action::Create(d5.clone())),
            ),
            (
                "posted, new version: edit",
                rec(Some(9), Some(5)),
                show(5),
                Plan::now(edit9(&d5)),
            ),
            (
                "old record without posted_channel: edit in place",
                rec(Some(9), Some(5)),
                show(5),
                Plan::now(edit9(&d5)),
            ),
            (
                "channel changed: move",
                moved.clone(),
                show(6),
                Plan::now(Action::Move {
                    from: ChannelId(5),
                    message: MessageId(9),
                    desired: d6.clone(),
                }),
            ),
            (
                "config channel changed without a touch: move",
                rec(Some(9), Some(5)),
                show(6),
                Plan::now(Action::Move {
                    from: ChannelId(5),
                    message: MessageId(9),
                    desired: d6.clone(),
                }),
            ),
            (
                "hidden item with a message: delete",
                rec(Some(9), Some(5)),
                Target::Absent { exists: true },
                Plan::now(Action::Delete {
                    channel: ChannelId(5),
                    message: MessageId(9),
                }),
            ),
            (
                "hidden item without a message: settle",
                rec(None, Some(5)),
                Target::Absent { exists: true },
                Plan::now(Action::Settle),
            ),
            (
                "deleted object: delete its message",
                deleted,
                Target::Absent { exists: false },
                Plan::now(Action::Delete {
                    channel: ChannelId(5),
                    message: MessageId(9),
                }),
            ),
            (
                "deleted, message kept up: settle",
                deleted_keep,
                Target::Absent { exists: false },
                Plan::now(Action::Settle),
            ),
            (
                "deleted, never posted: settle",
                deleted_never_posted,
                Target::Absent { exists: false },
                Plan::now(Action::Settle),
            ),
            (
                "no channel yet: settle",
                rec(None, None),
                Target::Absent { exists: true },
                Plan::now(Action::Settle),
            ),
            (
                "in sync: nothing",
                synced,
                show(5),
                Plan::now(Action::Nothing),
            ),
            (
                "failed: nothing until retried",
                failed,
                show(5),
                Plan::now(Action::Nothing),
            ),
            (
                "orphaned: nothing until reposted",
                orphaned,
                show(5),
                Plan::now(Action::Nothing),
            ),
            (
                "backing off: look again then",
                backing_off,
                show(5),
                Plan {
                    action: Action::Nothing,
                    recheck_at: Some(later),
                },
            ),
            (
                "scheduled later: look again then",
                rec(None, Some(5)),
                Target::NotBefore(later),
                Plan {
                    action: Action::Nothing,
                    recheck_at: Some(later),
                },
            ),
        ];
        for (name, record, target, want) in table {
            assert_eq!(plan(&record, &target, now()), want, "{name}");
        }
    }

    #[test]
    fn an_announcement_pin_change_edits_and_carries_the_pin_state() {
        let mut d = desired(5);
        d.pinned = Some(true);
        let p = plan(&rec(Some(9), Some(5)), &Target::Show(d.clone()), now());
        assert_eq!(
            p.action,
            Action::Edit {
                message: MessageId(9),
                desired: d
            }
        );
    }
}
