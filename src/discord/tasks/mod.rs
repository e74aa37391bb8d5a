//! Task buttons and the reject-reason modal. Custom ids are persistent and carry only ids
//! (`task:claim:7`, `task:accept:7:<user>`, `task:reject:7:<user>`): the guild always comes from
//! the interaction, so a button keeps working after a restart and a forged id changes nothing.

mod buttons;
mod modal;
pub mod review;

use crate::domain::UserId;

pub use buttons::route;
pub use modal::handle_modal;

/// The custom id prefix every task component uses.
pub const PREFIX: &str = "task";

/// What a task component asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskAction {
    /// The Claim button on a task message.
    Claim { task: u64 },
    /// Accept on a review message.
    Accept { task: u64, user: UserId },
    /// Reject on a review message (opens the reason modal).
    Reject { task: u64, user: UserId },
    /// The reason modal was submitted.
    RejectReason { task: u64, user: UserId },
}

impl TaskAction {
    /// The full custom id (`task:...`).
    pub fn custom_id(self) -> String {
        match self {
            TaskAction::Claim { task } => format!("{PREFIX}:claim:{task}"),
            TaskAction::Accept { task, user } => format!("{PREFIX}:accept:{task}:{user}"),
            TaskAction::Reject { task, user } => format!("{PREFIX}:reject:{task}:{user}"),
            TaskAction::RejectReason { task, user } => {
                format!("{PREFIX}:reject-reason:{task}:{user}")
            }
        }
    }

    /// Parses the part after `task:` (`claim:7`, `accept:7:42`, ...). `None` for anything else,
    /// including extra parts and ids that are not positive numbers.
    pub fn parse_arg(arg: &str) -> Option<TaskAction> {
        let parts: Vec<&str> = arg.split(':').collect();
        let id = |s: &str| s.parse::<u64>().ok().filter(|v| *v > 0);
        match parts.as_slice() {
            ["claim", t] => Some(TaskAction::Claim { task: id(t)? }),
            [kind, t, u] => {
                let (task, user) = (id(t)?, UserId(id(u)?));
                match *kind {
                    "accept" => Some(TaskAction::Accept { task, user }),
                    "reject" => Some(TaskAction::Reject { task, user }),
                    "reject-reason" => Some(TaskAction::RejectReason { task, user }),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Parses a full custom id (`task:claim:7`).
    pub fn parse(custom_id: &str) -> Option<TaskAction> {
        let (prefix, arg) = crate::discord::components::split_custom_id(custom_id);
        (prefix == PREFIX)
            .then(|| TaskAction::parse_arg(arg))
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_round_trip_through_parse() {
        let all = [
            TaskAction::Claim { task: 7 },
            TaskAction::Accept {
                task: 7,
                user: UserId(111_000_000_000_000_001),
            },
            TaskAction::Reject {
                task: 3,
                user: UserId(42),
            },
            TaskAction::RejectReason {
                task: 3,
                user: UserId(42),
            },
        ];
        for a in all {
            let id = a.custom_id();
            assert!(id.len() <= 100, "Discord's custom_id limit: {id}");
            assert_eq!(TaskAction::parse(&id), Some(a), "{id}");
        }
        assert_eq!(TaskAction::Claim { task: 7 }.custom_id(), "task:claim:7");
    }

    #[test]
    fn malformed_or_forged_custom_ids_parse_to_nothing() {
        for bad in [
            "task",
            "task:",
            "task:claim",
            "task:claim:",
            "task:claim:0",
            "task:claim:-1",
            "task:claim:abc",
            "task:claim:7:8",
            "task:accept:7",
            "task:accept:7:x",
            "task:accept:7:0",
            "task:pay:7:8",
            "shop-buy:7",
            "task:claim:99999999999999999999999",
        ] {
            assert_eq!(TaskAction::parse(bad), None, "{bad}");
        }
    }
}
