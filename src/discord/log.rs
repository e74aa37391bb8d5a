//! Writes one command-log row per command use, after its reply: name, guild, user, duration and
//! outcome. A failure to write is logged, never shown to the user.

use super::{reply, BotData, Ctx};
use crate::domain::GuildId;
use crate::guild::NewCommandLog;
use crate::services::blocking;

/// Records the invocation in `ctx` with `outcome` (`ok` or an error kind).
pub async fn record(ctx: Ctx<'_>, outcome: &str) {
    let started = reply::invocation(ctx).await.started;
    let duration_ms = started.map_or(0, |s| s.elapsed().as_millis().min(u64::MAX as u128) as u64);
    let guild = ctx.guild_id().map(super::guild_id).unwrap_or(GuildId(0));
    let entry = NewCommandLog {
        command: ctx.command().qualified_name.clone(),
        kind: "command".into(),
        user: super::user_id(ctx.author().id),
        duration_ms,
        outcome: outcome.to_owned(),
    };
    tracing::info!(
        command = %entry.command,
        guild = %guild,
        user = %entry.user,
        ms = duration_ms,
        outcome,
        "command"
    );
    write(ctx.data(), guild, entry).await;
}

/// Appends `entry` to `guild`'s command log; failures are only logged.
pub async fn write(data: &BotData, guild: GuildId, entry: NewCommandLog) {
    crate::metrics::global().command(
        &entry.command,
        &entry.outcome,
        std::time::Duration::from_millis(entry.duration_ms),
    );
    let Ok(services) = data.services() else {
        tracing::debug!("shutting down; command log row not written");
        return;
    };
    let log = services.command_log;
    let res = blocking(move || log.append(guild, entry).map(drop)).await;
    if let Err(e) = res {
        tracing::warn!(error = %super::error::chain(&e), "could not write the command log");
    }
}
