//! Task embeds and buttons: the task message (embed + Claim button) the reconciler posts, the
//! `/tasks` and `/mytasks` lists, the review message moderators act on, its outcome, and the DMs
//! members get. Pure functions over the task, claim and guild settings.

use poise::serenity_prelude as serenity;

use super::{full_time, join_lines, mention, relative_time, ChannelMessage};
use crate::discord::reply::Reply;
use crate::discord::tasks::TaskAction;
use crate::domain::tasks::{Claim, ClaimStatus, Review, ReviewOutcome, Task, TaskStatus};
use crate::domain::{Actor, GuildConfig};
use crate::guild::{SyncRecord, SyncState};
use crate::tasks::ClaimWithTask;

const GREEN: u32 = 0x2ECC71;
const RED: u32 = 0xE74C3C;
const ORANGE: u32 = 0xE67E22;
const GREY: u32 = 0x95A5A6;
const PURPLE: u32 = 0x9B59B6;

/// "12 hours", "3 days", "1 day 6 hours".
pub fn fmt_hours(h: u32) -> String {
    let plural = |n: u32, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (h / 24, h % 24) {
        (0, h) => plural(h, "hour"),
        (d, 0) => plural(d, "day"),
        (d, h) => format!("{} {}", plural(d, "day"), plural(h, "hour")),
    }
}

/// "3 of 5 left", or "Unlimited".
pub fn spots_left(task: &Task) -> String {
    if task.max_claims < 0 {
        "Unlimited".into()
    } else {
        let left = (task.max_claims - task.current_claims).max(0);
        format!("{left} of {} left", task.max_claims)
    }
}

/// The message for a task in the task channel: what it pays, how long a claimant has, spots
/// left, and a Claim button (disabled and relabelled when the task can't be claimed).
pub fn task_message(task: &Task, cfg: &GuildConfig) -> ChannelMessage {
    let mut embed = serenity::CreateEmbed::new()
        .title(format!("📋 {}", task.name))
        .colour(if task.status == TaskStatus::Active {
            GREEN
        } else {
            GREY
        })
        .field("Reward", cfg.fmt_amount(task.reward.get()), true)
        .field("Time to finish", fmt_hours(task.duration_hours), true)
        .field("Spots", spots_left(task), true)
        .footer(serenity::CreateEmbedFooter::new(format!(
            "Task {} · {} · {} completed",
            task.id, task.category, task.completed
        )));
    if !task.description.is_empty() {
        embed = embed.description(task.description.clone());
    }
    if let Some(role) = task.role_id {
        embed = embed.field("Role reward", format!("<@&{role}>"), true);
    }
    if let Some(at) = task.expires_at {
        embed = embed.field("Open until", full_time(at), true);
    }
    let (label, open) = match task.status {
        TaskStatus::Active if task.has_room() => ("Claim", true),
        TaskStatus::Active => ("Full", false),
        TaskStatus::Closed => ("Closed", false),
        TaskStatus::Expired => ("Expired", false),
    };
    let button = serenity::CreateButton::new(TaskAction::Claim { task: task.id }.custom_id())
        .label(label)
        .style(serenity::ButtonStyle::Success)
        .disabled(!open);
    ChannelMessage {
        embed,
        components: vec![serenity::CreateActionRow::Buttons(vec![button])],
    }
}

/// `/tasks`: the open tasks with reward, spots left and time to finish.
pub fn task_list(cfg: &GuildConfig, tasks: &[Task], total: u64) -> Reply {
    let body = if tasks.is_empty() {
        "No open tasks right now. Check back later!".to_owned()
    } else {
        join_lines(tasks.iter().map(|t| {
            format!(
                "**{}** (#{}) — {} · {} to finish · spots: {}",
                t.name,
                t.id,
                cfg.fmt_amount(t.reward.get()),
                fmt_hours(t.duration_hours),
                spots_left(t)
            )
        }))
    };
    let embed = serenity::CreateEmbed::new()
        .title("Open tasks")
        .colour(PURPLE)
        .description(body)
        .footer(serenity::CreateEmbedFooter::new(format!(
            "{total} open · claim one with /claim or a button"
        )));
    let buttons = tasks
        .iter()
        .filter(|t| t.has_room())
        .map(|t| {
            serenity::CreateButton::new(
                crate::discord::tasks::TaskAction::Claim { task: t.id }.custom_id(),
            )
            .label(button_label("Claim", &t.name))
            .style(serenity::ButtonStyle::Primary)
        })
        .collect();
    Reply::embed(embed, false).with_buttons(buttons)
}

/// "Claim: Write a guide", cut to Discord's 80-character button label limit.
pub fn button_label(verb: &str, name: &str) -> String {
    let label = format!("{verb}: {name}");
    if label.chars().count() <= 80 {
        label
    } else {
        let cut: String = label.chars().take(79).collect();
        format!("{cut}…")
    }
}

fn status_label(s: ClaimStatus) -> &'static str {
    match s {
        ClaimStatus::InProgress => "🕒 in progress",
        ClaimStatus::Submitted => "📨 waiting for review",
        ClaimStatus::Accepted => "✅ accepted",
        ClaimStatus::Expired => "⌛ expired",
    }
}

/// `/mytasks`: the caller's claims, live ones first.
pub fn my_tasks(cfg: &GuildConfig, claims: &[ClaimWithTask]) -> Reply {
    let body = if claims.is_empty() {
        "You haven't claimed any tasks yet. See `/tasks`.".to_owned()
    } else {
        join_lines(claims.iter().map(|c| {
            let mut line = format!(
                "**{}** (#{}) — {} · {}",
                c.task.name,
                c.task.id,
                cfg.fmt_amount(c.task.reward.get()),
                status_label(c.claim.status)
            );
            if c.claim.status.is_live() {
                line.push_str(&format!(" · due {}", relative_time(c.claim.deadline)));
            }
            if c.claim.status == ClaimStatus::InProgress {
                if let Some(reason) = &c.claim.review_message {
                    line.push_str(&format!("\n  ↳ last rejection: {reason}"));
                }
            }
            line
        }))
    };
    let embed = serenity::CreateEmbed::new()
        .title("Your tasks")
        .colour(PURPLE)
        .description(body);
    Reply::embed(embed, true)
}

/// The private answer to a submission, saying whether its review message reached the task
/// channel (`posted`: the review's sync record as the worker left it).
pub fn submitted(task: &Task, posted: Option<&Option<SyncRecord>>) -> Reply {
    let rec = posted.and_then(|r| r.as_ref());
    match rec.map(|r| (r.state, r.last_error.as_deref())) {
        Some((SyncState::Synced, _)) => Reply::private(format!(
            "Your proof for **{}** was sent to the moderators. You'll get a DM when it is reviewed.",
            task.name
        )),
        Some((SyncState::Failed | SyncState::Orphaned, why)) => Reply::private(format!(
            "Your proof for **{}** was saved, but I couldn't post it in the task channel ({}). \
             Please tell a moderator: they can review it on the dashboard, and `/admin sync retry` \
             posts it once my permissions are fixed.",
            task.name,
            why.unwrap_or("Discord refused")
        )),
        _ => Reply::private(format!(
            "Your proof for **{}** was saved and is being posted for the moderators. \
             You'll get a DM when it is reviewed.",
            task.name
        )),
    }
}

/// The private answer to a claim.
pub fn claimed(cfg: &GuildConfig, task: &Task, claim: &Claim) -> Reply {
    Reply::private(format!(
        "You claimed **{}** (reward {}). Submit your proof with `/task_submit` before {} ({}).",
        task.name,
        cfg.fmt_amount(task.reward.get()),
        full_time(claim.deadline),
        relative_time(claim.deadline)
    ))
}

/// The review message in the task channel: the proof and Accept / Reject buttons.
pub fn review_message(cfg: &GuildConfig, task: &Task, claim: &Claim) -> ChannelMessage {
    let ids = (claim.task_id, claim.user);
    let accept = serenity::CreateButton::new(
        TaskAction::Accept {
            task: ids.0,
            user: ids.1,
        }
        .custom_id(),
    )
    .label("Accept")
    .style(serenity::ButtonStyle::Success);
    let reject = serenity::CreateButton::new(
        TaskAction::Reject {
            task: ids.0,
            user: ids.1,
        }
        .custom_id(),
    )
    .label("Reject")
    .style(serenity::ButtonStyle::Danger);
    ChannelMessage {
        embed: review_embed(cfg, task, claim).colour(ORANGE),
        components: vec![serenity::CreateActionRow::Buttons(vec![accept, reject])],
    }
}

fn review_embed(cfg: &GuildConfig, task: &Task, claim: &Claim) -> serenity::CreateEmbed {
    let proof = if claim.proof_content.is_empty() {
        "*(no text)*".to_owned()
    } else {
        claim.proof_content.clone()
    };
    let mut embed = serenity::CreateEmbed::new()
        .title(format!("Submission: {}", task.name))
        .description(format!("From {}\n\n{proof}", mention(claim.user)))
        .field("Reward", cfg.fmt_amount(task.reward.get()), true)
        .field("Deadline", full_time(claim.deadline), true)
        .footer(serenity::CreateEmbedFooter::new(format!(
            "Task {} · member {}",
            task.id, claim.user
        )));
    if !claim.proof_attachments.is_empty() {
        let links = claim
            .proof_attachments
            .iter()
            .enumerate()
            .map(|(i, url)| format!("[attachment {}]({url})", i + 1))
            .collect::<Vec<_>>()
            .join("\n");
        embed = embed.field("Attachments", links, false);
        if let Some(first) = claim.proof_attachments.first() {
            embed = embed.image(first.clone());
        }
    }
    embed
}

/// Who reviewed, as the channel shows it: a mention for a member, the account for the dashboard.
fn reviewer(by: &Actor) -> String {
    match by {
        Actor::User(u) => mention(*u),
        Actor::Dashboard(name) => format!("{name} (dashboard)"),
        Actor::System | Actor::Cli => "Coffer".into(),
    }
}

/// The review message as it should be now: Accept / Reject while waiting, the outcome (no
/// buttons) after.
pub fn review(cfg: &GuildConfig, task: &Task, r: &Review) -> ChannelMessage {
    if r.outcome == ReviewOutcome::Waiting {
        review_message(cfg, task, &r.claim)
    } else {
        review_outcome(cfg, task, &r.claim, &r.outcome)
    }
}

/// The review message after the decision: the outcome, no buttons.
pub fn review_outcome(
    cfg: &GuildConfig,
    task: &Task,
    claim: &Claim,
    outcome: &ReviewOutcome,
) -> ChannelMessage {
    let embed = review_embed(cfg, task, claim);
    let embed = match outcome {
        ReviewOutcome::Waiting => embed.colour(ORANGE),
        ReviewOutcome::Accepted { by } => embed.colour(GREEN).field(
            "Outcome",
            format!(
                "✅ Accepted by {} · {} paid",
                reviewer(by),
                cfg.fmt_amount(task.reward.get())
            ),
            false,
        ),
        ReviewOutcome::Rejected { by, reason } => embed.colour(RED).field(
            "Outcome",
            format!("❌ Rejected by {}: {reason}", reviewer(by)),
            false,
        ),
        ReviewOutcome::Expired => embed.colour(GREY).field(
            "Outcome",
            "⌛ The claim expired before it was reviewed",
            false,
        ),
    };
    ChannelMessage {
        embed,
        components: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Money, RoleId, UserId};

    fn task(status: TaskStatus, max: i64, current: i64) -> Task {
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        Task {
            id: 7,
            name: "Write a guide".into(),
            description: "A beginner guide".into(),
            reward: Money::new(1500),
            duration_hours: 30,
            status,
            expires_at: None,
            max_claims: max,
            current_claims: current,
            category: "General".into(),
            role_id: Some(RoleId(55)),
            role_name: None,
            created_by: Actor::System,
            created_at: now,
            updated_at: now,
            completed: 0,
        }
    }

    fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
        serde_json::to_value(v).unwrap()
    }

    #[test]
    fn a_task_message_shows_reward_time_and_spots_with_a_claim_button() {
        let cfg = GuildConfig::default();
        let m = json(&task_message(&task(TaskStatus::Active, 5, 2), &cfg).create());
        let text = m.to_string();
        assert!(text.contains("🪙 1,500 coins"), "{text}");
        assert!(text.contains("1 day 6 hours"), "{text}");
        assert!(text.contains("3 of 5 left"), "{text}");
        assert!(text.contains("<@&55>"), "{text}");
        let button = &m["components"][0]["components"][0];
        assert_eq!(button["custom_id"], "task:claim:7");
        assert_eq!(button["label"], "Claim");
        assert_eq!(button["disabled"], false);
    }

    #[test]
    fn a_full_or_closed_task_has_a_disabled_button() {
        let cfg = GuildConfig::default();
        for (t, label) in [
            (task(TaskStatus::Active, 2, 2), "Full"),
            (task(TaskStatus::Closed, -1, 0), "Closed"),
            (task(TaskStatus::Expired, -1, 0), "Expired"),
        ] {
            let m = json(&task_message(&t, &cfg).create());
            let button = &m["components"][0]["components"][0];
            assert_eq!(button["label"], label);
            assert_eq!(button["disabled"], true);
        }
        assert_eq!(spots_left(&task(TaskStatus::Active, -1, 9)), "Unlimited");
    }

    #[test]
    fn a_review_message_carries_the_proof_and_ids_only_buttons_and_the_outcome_drops_them() {
        let cfg = GuildConfig::default();
        let t = task(TaskStatus::Active, -1, 1);
        let mut claim = Claim::new(&t, UserId(42), t.created_at);
        claim.proof_content = "done, see link".into();
        claim.proof_attachments = vec!["https://cdn.example/a.png".into()];
        let m = json(&review_message(&cfg, &t, &claim).create());
        let ids: Vec<&str> = m["components"][0]["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["custom_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["task:accept:7:42", "task:reject:7:42"]);
        let text = m.to_string();
        assert!(text.contains("done, see link") && text.contains("https://cdn.example/a.png"));
        let mut r = Review {
            id: 1,
            channel: None,
            claim,
            outcome: ReviewOutcome::Waiting,
        };
        assert_eq!(json(&review(&cfg, &t, &r).create()), m);
        r.outcome = ReviewOutcome::Rejected {
            by: Actor::User(UserId(9)),
            reason: "blurry".into(),
        };
        let out = json(&review(&cfg, &t, &r).edit());
        assert_eq!(out["components"], serde_json::json!([]));
        assert!(out.to_string().contains("Rejected by <@9>: blurry"));
        r.outcome = ReviewOutcome::Accepted {
            by: Actor::Dashboard("ann".into()),
        };
        let out = json(&review(&cfg, &t, &r).edit()).to_string();
        assert!(out.contains("Accepted by ann (dashboard)"), "{out}");
        r.outcome = ReviewOutcome::Expired;
        let out = json(&review(&cfg, &t, &r).edit()).to_string();
        assert!(out.contains("expired before it was reviewed"), "{out}");
    }

    #[test]
    fn hours_read_as_days_and_hours() {
        assert_eq!(fmt_hours(1), "1 hour");
        assert_eq!(fmt_hours(24), "1 day");
        assert_eq!(fmt_hours(49), "2 days 1 hour");
    }

    #[test]
    fn the_submission_reply_says_whether_the_review_message_was_posted() {
        let t = task(TaskStatus::Active, -1, 1);
        let now = t.created_at;
        let rec = |state: SyncState, error: Option<&str>| SyncRecord {
            state,
            last_error: error.map(Into::into),
            ..SyncRecord::new(crate::guild::SyncKind::Review, 1, None, now)
        };
        let sent = submitted(&t, Some(&Some(rec(SyncState::Synced, None))));
        assert!(sent
            .content
            .unwrap_or_default()
            .contains("was sent to the moderators"));
        let failed = submitted(
            &t,
            Some(&Some(rec(
                SyncState::Failed,
                Some("the bot cannot send messages in channel 5"),
            ))),
        );
        let text = failed.content.unwrap_or_default();
        assert!(text.contains("was saved, but I couldn't post it"), "{text}");
        assert!(text.contains("cannot send messages in channel 5"), "{text}");
        let pending = submitted(&t, Some(&Some(rec(SyncState::Pending, None))));
        assert!(pending
            .content
            .unwrap_or_default()
            .contains("is being posted"));
        assert!(submitted(&t, None)
            .content
            .unwrap_or_default()
            .contains("is being posted"));
    }
}
