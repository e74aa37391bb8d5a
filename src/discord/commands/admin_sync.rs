//! `/admin sync ...`: where Coffer's own messages stand (tasks, shop items, announcements,
//! embeds, task reviews), and the manual actions the dashboard also has: retry failed ones, repost a message
//! that was deleted on Discord. The admin level is re-checked here.

use super::admin_shop::ensure_admin;
use super::{guild, op_meta};
use crate::discord::reply::{respond_blocking, Reply};
use crate::discord::{BotError, Ctx};
use crate::guild::{SyncKind, SyncRecord, SyncState};

/// Which kind of object a message shows.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum KindChoice {
    #[name = "task"]
    Task,
    #[name = "shop item"]
    ShopItem,
    #[name = "announcement"]
    Announcement,
    #[name = "embed"]
    Embed,
    #[name = "task review"]
    Review,
}

impl From<KindChoice> for SyncKind {
    fn from(k: KindChoice) -> SyncKind {
        match k {
            KindChoice::Task => SyncKind::Task,
            KindChoice::ShopItem => SyncKind::ShopItem,
            KindChoice::Announcement => SyncKind::Announcement,
            KindChoice::Embed => SyncKind::Embed,
            KindChoice::Review => SyncKind::Review,
        }
    }
}

/// Coffer's messages in this server: status, retry, repost.
#[poise::command(
    slash_command,
    subcommands("sync_status", "sync_retry", "sync_repost"),
    subcommand_required,
    rename = "sync"
)]
pub async fn admin_sync(_ctx: Ctx<'_>) -> Result<(), BotError> {
    Ok(())
}

fn line(r: &SyncRecord) -> String {
    let what = format!("{} {}", r.kind.as_str().replace('_', " "), r.object);
    match (&r.state, &r.last_error) {
        (_, Some(e)) => format!("• {what}: {} — {e}", state_word(r.state)),
        _ => format!("• {what}: {}", state_word(r.state)),
    }
}

fn state_word(s: SyncState) -> &'static str {
    match s {
        SyncState::Pending => "waiting to be posted or updated",
        SyncState::Synced => "up to date",
        SyncState::Orphaned => "deleted on Discord (repost it to bring it back)",
        SyncState::Failed => "failed",
    }
}

/// The status of the bot's messages: how many are up to date, and every one that is not.
pub fn status_text(records: &[SyncRecord]) -> String {
    let count = |s| records.iter().filter(|r| r.state == s).count();
    let mut text = format!(
        "{} up to date · {} waiting · {} failed · {} deleted on Discord",
        count(SyncState::Synced),
        count(SyncState::Pending),
        count(SyncState::Failed),
        count(SyncState::Orphaned)
    );
    let troubled: Vec<String> = records
        .iter()
        .filter(|r| r.state != SyncState::Synced)
        .take(20)
        .map(line)
        .collect();
    if !troubled.is_empty() {
        text.push_str("\n\n");
        text.push_str(&troubled.join("\n"));
    }
    text
}

/// Show which of the bot's messages are up to date and which failed (and why).
#[poise::command(slash_command, rename = "status")]
pub async fn sync_status(ctx: Ctx<'_>) -> Result<(), BotError> {
    ensure_admin(ctx).await?;
    let guild = guild(ctx)?;
    respond_blocking(ctx, true, move |s| {
        Ok(Reply::private(status_text(&s.guilds.sync_records(guild)?)))
    })
    .await
}

/// Try failed messages again now: one (kind and id), or every failed one.
#[poise::command(slash_command, rename = "retry")]
pub async fn sync_retry(
    ctx: Ctx<'_>,
    #[description = "What the message shows (leave out to retry every failed message)"]
    kind: Option<KindChoice>,
    #[description = "Its id"] id: Option<u64>,
) -> Result<(), BotError> {
    ensure_admin(ctx).await?;
    let guild = guild(ctx)?;
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        Ok(Reply::private(match (kind, id) {
            (Some(k), Some(id)) => {
                let r = s.guilds.retry_sync(guild, k.into(), id, &meta)?;
                format!("Retrying: {}", line(&r))
            }
            (None, None) => match s.guilds.retry_failed_sync(guild, &meta)?.len() {
                0 => "No message has failed; nothing to retry.".to_owned(),
                n => format!("Retrying {n} failed message(s) now."),
            },
            _ => "Give both the kind and the id, or neither to retry every failed message."
                .to_owned(),
        }))
    })
    .await
}

/// Post a message again that was deleted on Discord.
#[poise::command(slash_command, rename = "repost")]
pub async fn sync_repost(
    ctx: Ctx<'_>,
    #[description = "What the message shows"] kind: KindChoice,
    #[description = "Its id"] id: u64,
) -> Result<(), BotError> {
    ensure_admin(ctx).await?;
    let guild = guild(ctx)?;
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let r = s.guilds.repost_sync(guild, kind.into(), id, &meta)?;
        Ok(Reply::private(format!("Reposting: {}", line(&r))))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_counts_states_and_names_what_is_wrong() {
        let now = chrono::Utc::now();
        let rec = |object: u64, state: SyncState, err: Option<&str>| SyncRecord {
            state,
            last_error: err.map(str::to_owned),
            ..SyncRecord::new(SyncKind::ShopItem, object, None, now)
        };
        let text = status_text(&[
            rec(1, SyncState::Synced, None),
            rec(
                2,
                SyncState::Failed,
                Some("the bot cannot send messages in channel 5"),
            ),
            rec(3, SyncState::Orphaned, None),
        ]);
        assert!(text.starts_with("1 up to date · 0 waiting · 1 failed · 1 deleted on Discord"));
        assert!(text.contains("shop item 2: failed — the bot cannot send messages in channel 5"));
        assert!(text.contains("shop item 3: deleted on Discord"));
        assert!(!text.contains("shop item 1"));
    }
}
