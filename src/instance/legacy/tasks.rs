//! The tasks file: settings, tasks and the members' claims (`user_tasks`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::reader::{epoch, Reader};
use crate::domain::tasks::{Claim, ClaimStatus, Task, TaskStatus};
use crate::domain::{Actor, ChannelId, GuildConfig, Money, UserId};

pub(super) fn read_tasks(
    r: &mut Reader,
    t: &Map<String, Value>,
    config: &mut GuildConfig,
) -> (Vec<Task>, Vec<Claim>) {
    if let Some(Value::Object(s)) = t.get("settings") {
        config.allow_user_tasks =
            r.flag(s, "allow_user_tasks", "$.settings", config.allow_user_tasks);
        config.auto_expire_enabled = r.flag(
            s,
            "auto_expire_enabled",
            "$.settings",
            config.auto_expire_enabled,
        );
        config.require_proof = r.flag(s, "require_proof", "$.settings", config.require_proof);
        if let Some(n) = r.int(s, "max_tasks_per_user", "$.settings", false) {
            config.max_tasks_per_user = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        }
        config.announcement_channel_id = r
            .id(
                s.get("announcement_channel_id"),
                "$.settings.announcement_channel_id",
            )
            .map(ChannelId);
    }
    let mut tasks = BTreeMap::new();
    if let Some(all) = t.get("tasks").and_then(Value::as_object) {
        for (key, v) in all {
            let path = format!("$.tasks.{key}");
            let Some(o) = v.as_object() else {
                r.problem(&path, "expected an object");
                continue;
            };
            let id = r.int(o, "id", &path, false).or_else(|| key.parse().ok());
            let Some(id) = id.filter(|i| *i > 0).map(|i| i as u64) else {
                r.problem(
                    &format!("{path}.id"),
                    "no task number (neither `id` nor the key)",
                );
                continue;
            };
            let Some(name) = r.text(o, "name", &path) else {
                r.problem(&format!("{path}.name"), "missing");
                continue;
            };
            let reward = r.int(o, "reward", &path, true);
            let status_text = r
                .text(o, "status", &path)
                .unwrap_or_else(|| "active".into());
            let status = match status_text.as_str() {
                "completed" | "cancelled" | "canceled" => Some(TaskStatus::Closed),
                s => TaskStatus::parse(s),
            };
            let Some(status) = status else {
                r.problem(
                    &format!("{path}.status"),
                    format!("unknown status \"{status_text}\""),
                );
                continue;
            };
            let Some(reward) = reward.filter(|r| *r >= 0) else {
                r.problem(&format!("{path}.reward"), "must be 0 or more");
                continue;
            };
            let created = r.time(o, "created", &path).unwrap_or_else(epoch);
            tasks.insert(
                id,
                Task {
                    id,
                    name,
                    description: r.text(o, "description", &path).unwrap_or_default(),
                    reward: Money::new(reward),
                    duration_hours: u32::try_from(
                        r.int(o, "duration_hours", &path, false)
                            .unwrap_or(24)
                            .max(0),
                    )
                    .unwrap_or(u32::MAX),
                    status,
                    expires_at: r.time(o, "expires_at", &path),
                    max_claims: r.int(o, "max_claims", &path, false).unwrap_or(-1),
                    current_claims: 0,
                    category: r
                        .text(o, "category", &path)
                        .unwrap_or_else(|| "General".into()),
                    role_id: None,
                    role_name: r.text(o, "role_name", &path),
                    created_by: Actor::System,
                    created_at: created,
                    updated_at: created,
                    completed: 0,
                },
            );
        }
    }
    let mut claims = Vec::new();
    if let Some(all) = t.get("user_tasks").and_then(Value::as_object) {
        for (uid, held) in all {
            let upath = format!("$.user_tasks.{uid}");
            let Some(user) = r.id(Some(&Value::String(uid.clone())), &upath).map(UserId) else {
                continue;
            };
            let Some(held) = held.as_object() else {
                r.problem(&upath, "expected an object of task ids");
                continue;
            };
            for (tid, c) in held {
                let path = format!("{upath}.{tid}");
                let Some(task) = tid.parse::<u64>().ok().filter(|t| tasks.contains_key(t)) else {
                    r.problem(&path, format!("task {tid} is not in $.tasks"));
                    continue;
                };
                let Some(c) = c.as_object() else {
                    r.problem(&path, "expected an object");
                    continue;
                };
                let st = r
                    .text(c, "status", &path)
                    .unwrap_or_else(|| "in_progress".into());
                let (status, rejections) = match st.as_str() {
                    "in_progress" | "claimed" => (ClaimStatus::InProgress, 0),
                    "submitted" | "pending_review" | "pending" => (ClaimStatus::Submitted, 0),
                    "completed" | "accepted" | "approved" => (ClaimStatus::Accepted, 0),
                    "expired" | "failed" => (ClaimStatus::Expired, 0),
                    "rejected" => {
                        r.note(
                            &format!("{path}.status"),
                            "rejected: open again (in progress), as Coffer does after a rejection",
                        );
                        (ClaimStatus::InProgress, 1)
                    }
                    other => {
                        r.problem(
                            &format!("{path}.status"),
                            format!("unknown status \"{other}\""),
                        );
                        continue;
                    }
                };
                let claimed_at = r.time(c, "claimed_at", &path).unwrap_or_else(epoch);
                let deadline = r.time(c, "deadline", &path).unwrap_or(claimed_at);
                let proof_attachments = match c.get("proof_attachments") {
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                    _ => Vec::new(),
                };
                let completed_at = r.time(c, "completed_at", &path);
                if let Some(t) = tasks.get_mut(&task) {
                    if status != ClaimStatus::Expired {
                        t.current_claims += 1;
                    }
                    if status == ClaimStatus::Accepted {
                        t.completed += 1;
                    }
                }
                claims.push(Claim {
                    task_id: task,
                    user,
                    status,
                    claimed_at,
                    deadline,
                    proof_content: r.text(c, "proof_content", &path).unwrap_or_default(),
                    proof_attachments,
                    submitted_at: r.time(c, "submitted_at", &path),
                    completed_at,
                    reviewer: None,
                    reviewed_at: completed_at,
                    review_message: r.text(c, "notes", &path).filter(|n| !n.is_empty()),
                    rejections,
                    expired_at: (status == ClaimStatus::Expired).then_some(deadline),
                    reward_transaction: None,
                    role_grant: None,
                    review_id: None,
                });
            }
        }
    }
    claims.sort_by_key(|c| (c.task_id, c.user));
    (tasks.into_values().collect(), claims)
}
