//! Instance pages: the overview (servers, bot status, uptime, totals), the notification centre
//! (what needs an admin, each linking to where it is fixed) and the system page (uptime,
//! memory, command rate and latency).

use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{layout, time, Frame};
use super::{Page, PageResult};
use crate::domain::money::group_thousands;
use crate::domain::GuildId;
use crate::guild::{GrantState, SyncState};
use crate::web::api::blocking;
use crate::web::api::command_log::{command_log, CommandLogQuery};
use crate::web::api::instance::get_settings;
use crate::web::api::status::{servers, status};
use crate::web::error::{Path, Query as ApiQuery};
use crate::web::WebState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/notifications", get(notifications))
        .route("/system", get(system))
}

#[derive(Debug, Default, Deserialize)]
pub struct Note {
    pub done: Option<String>,
}

pub fn uptime(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    match (d, h) {
        (0, 0) => format!("{m} min"),
        (0, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

/// `GET /`: every server with its member and account counts, and the bot.
pub async fn overview(
    State(s): State<WebState>,
    page: Page,
    Query(note): Query<Note>,
) -> PageResult<Markup> {
    let st = status(State(s.clone())).await?.0;
    let list = servers(State(s.clone()), page.auth.clone()).await?.0;
    let accounts: u64 = list.iter().map(|g| g.accounts).sum();
    let notice = get_settings(State(s.clone()), page.auth.clone())
        .await?
        .0
        .runtime
        .dashboard_notice;
    let body = html! {
        @if let Some(n) = notice { p.note role="note" { (n) } }
        div.cards #overview-cards data-live="account_created,guild_updated,bot_status_changed" {
            div.card { div.muted { "Discord" } div.big #bot-status { (st.discord) } }
            div.card { div.muted { "Servers" } div.big { (st.guilds) } }
            div.card { div.muted { "Accounts" } div.big { (group_thousands(accounts as i64)) } }
            div.card { div.muted { "Uptime" } div.big { (uptime(st.uptime_seconds)) } }
            div.card { div.muted { "Version" } div.big { (st.version) } }
        }
        h2 { "Servers" }
        @if list.is_empty() {
            p.muted { "No servers yet. Invite the bot to a server, or use the API; servers appear here once Coffer holds anything for them." }
        } @else {
            div.table-wrap #servers data-live="account_created,guild_updated" {
                table {
                    thead { tr { th { "Server" } th.num { "Members" } th.num { "Accounts" } th { "Joined" } th { "" } } }
                    tbody {
                        @for g in &list {
                            tr {
                                td {
                                    a href=(format!("/servers/{}/users", g.id)) {
                                        @if g.name.is_empty() { "Server " (g.id) } @else { (g.name) }
                                    }
                                    @if g.left_at.is_some() { " " span.badge.warn { "left" } }
                                }
                                td.num { (group_thousands(g.member_count as i64)) }
                                td.num { (group_thousands(g.accounts as i64)) }
                                td { (super::layout::time_opt(g.joined_at)) }
                                td { a href=(format!("/servers/{}/transactions", g.id)) { "Transactions" } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(
        Frame {
            page: &page,
            title: "Overview",
            guild: None,
            active: "/",
            note: note.done.as_deref(),
        },
        body,
    ))
}

/// One thing that needs an admin, with the page where it is fixed.
struct Notice {
    severity: &'static str,
    text: String,
    link: String,
    link_text: &'static str,
}

/// What needs attention across every server.
async fn collect(s: &WebState) -> PageResult<Vec<Notice>> {
    let every = s.services.backup_every_hours;
    let (per_guild, backups, backup_failed) = blocking(s, move |svc| {
        let mut out = Vec::new();
        for g in svc.instance.guild_ids()? {
            let sync = svc.guilds.sync_records(g)?;
            let grants = svc.guilds.role_grants(g, false)?;
            let report = svc.economy.validate_guild(g)?;
            out.push((g, sync, grants, report.ok));
        }
        Ok((out, svc.backups.list(), svc.backups.failing()?))
    })
    .await?;
    let mut notes = Vec::new();
    for (g, sync, grants, ok) in per_guild {
        let failed = sync.iter().filter(|r| r.state == SyncState::Failed).count();
        let orphaned = sync
            .iter()
            .filter(|r| r.state == SyncState::Orphaned)
            .count();
        let grants_failed = grants
            .iter()
            .filter(|r| r.state == GrantState::Failed)
            .count();
        let g: GuildId = g;
        if failed > 0 {
            notes.push(Notice {
                severity: "bad",
                text: format!("Server {g}: {failed} Discord message(s) failed to sync."),
                link: format!("/servers/{g}/sync?state=failed"),
                link_text: "Retry on the sync page",
            });
        }
        if orphaned > 0 {
            notes.push(Notice {
                severity: "warn",
                text: format!("Server {g}: {orphaned} message(s) were deleted on Discord."),
                link: format!("/servers/{g}/sync?state=orphaned"),
                link_text: "Repost on the sync page",
            });
        }
        if grants_failed > 0 {
            notes.push(Notice {
                severity: "bad",
                text: format!("Server {g}: {grants_failed} role reward(s) could not be given."),
                link: format!("/servers/{g}/config#role-grants"),
                link_text: "See the role grants",
            });
        }
        if !ok {
            notes.push(Notice {
                severity: "bad",
                text: format!("Server {g}: stored balances do not match the ledger."),
                link: format!("/servers/{g}/transactions#validate"),
                link_text: "Validate the ledger",
            });
        }
    }
    let backups = match backups {
        Ok(list) => list,
        Err(e) => {
            notes.push(Notice {
                severity: "bad",
                text: format!("The backup folder cannot be read: {e}"),
                link: "/backups".into(),
                link_text: "Backups",
            });
            Vec::new()
        }
    };
    if let Some(failed) = backup_failed {
        notes.push(Notice {
            severity: "bad",
            text: format!(
                "The last backup ({}) failed at {}: {}",
                failed.trigger.as_words(),
                failed.at.format("%Y-%m-%d %H:%M UTC"),
                failed.error.as_deref().unwrap_or("no reason recorded")
            ),
            link: "/backups#attempts".into(),
            link_text: "See the attempts and take one now",
        });
    } else if let Some(hours) = every {
        let newest = backups.iter().map(|b| b.created_at).max();
        let late = chrono::Duration::hours(i64::from(hours) * 2);
        let now = s.services.now();
        if newest.is_none_or(|t| now - t > late)
            && s.started.elapsed().as_secs() > hours as u64 * 7200
        {
            notes.push(Notice {
                severity: "bad",
                text: format!(
                    "No backup in the last {} h although one is scheduled every {hours} h: scheduled backups are failing (see the log).",
                    hours * 2
                ),
                link: "/backups".into(),
                link_text: "Backups",
            });
        }
    }
    Ok(notes)
}

/// `GET /notifications`.
pub async fn notifications(
    State(s): State<WebState>,
    page: Page,
    Query(note): Query<Note>,
) -> PageResult<Markup> {
    let notes = collect(&s).await?;
    let body = html! {
        div #notices data-live="sync_changed,role_grant_recorded,balance_changed" {
            @if notes.is_empty() {
                p { span.badge.ok { "all clear" } " Nothing needs your attention: every message is in sync, every role reward was given, every ledger matches its balances." }
            } @else {
                ul.notices {
                    @for n in &notes {
                        li {
                            span.badge.(n.severity) { (if n.severity == "bad" { "problem" } else { "attention" }) }
                            " " (n.text) " "
                            a href=(n.link) { (n.link_text) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(
        Frame {
            page: &page,
            title: "Notifications",
            guild: None,
            active: "/notifications",
            note: note.done.as_deref(),
        },
        body,
    ))
}

/// This process's resident and peak memory, from `/proc/self/status` (Linux; `None` elsewhere).
pub fn memory() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((kb("VmRSS:")?, kb("VmHWM:").unwrap_or(0)))
}

/// Commands in the last hour across servers, and their median / 95th percentile latency.
async fn command_stats(s: &WebState, page: &Page) -> PageResult<(u64, Option<u64>, Option<u64>)> {
    let guilds = blocking(s, |svc| svc.instance.guild_ids()).await?;
    let since = (s.services.now() - chrono::Duration::hours(1)).to_rfc3339();
    let mut ms = Vec::new();
    let mut total = 0;
    for g in guilds {
        let q = CommandLogQuery {
            start_date: Some(since.clone()),
            limit: Some(super::ranged(500)),
            ..Default::default()
        };
        let got = command_log(State(s.clone()), page.auth.clone(), Path(g), ApiQuery(q))
            .await?
            .0;
        total += got.total;
        ms.extend(got.items.iter().map(|e| e.duration_ms));
    }
    ms.sort_unstable();
    let pct = |p: usize| (!ms.is_empty()).then(|| ms[(ms.len() - 1) * p / 100]);
    Ok((total, pct(50), pct(95)))
}

/// `GET /system`.
pub async fn system(
    State(s): State<WebState>,
    page: Page,
    Query(note): Query<Note>,
) -> PageResult<Markup> {
    let st = status(State(s.clone())).await?.0;
    let (per_hour, p50, p95) = command_stats(&s, &page).await?;
    let mem = memory();
    let started = s.services.now() - chrono::Duration::seconds(st.uptime_seconds as i64);
    let body = html! {
        div.cards #system data-poll="10000" {
            div.card { div.muted { "Uptime" } div.big { (uptime(st.uptime_seconds)) } div.muted { "since " (time(started)) } }
            div.card { div.muted { "Memory (resident)" } div.big {
                @match mem { Some((rss, _)) => { (group_thousands((rss / 1024) as i64)) " MB" }, None => "—" } }
                @if let Some((_, peak)) = mem { div.muted { "peak " (group_thousands((peak / 1024) as i64)) " MB" } }
            }
            div.card { div.muted { "Commands, last hour" } div.big { (group_thousands(per_hour as i64)) } }
            div.card { div.muted { "Latency p50 / p95" } div.big {
                @match (p50, p95) { (Some(a), Some(b)) => { (a) " / " (b) " ms" }, _ => "—" } } }
            div.card { div.muted { "Discord" } div.big { (st.discord) } div.muted { (st.discord_guilds) " servers on the gateway" } }
            div.card { div.muted { "Version" } div.big { (st.version) } }
        }
    };
    Ok(layout(
        Frame {
            page: &page,
            title: "System",
            guild: None,
            active: "/system",
            note: note.done.as_deref(),
        },
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_reads_in_the_largest_units() {
        assert_eq!(uptime(59), "0 min");
        assert_eq!(uptime(3_700), "1 h 1 min");
        assert_eq!(uptime(90_000), "1 d 1 h");
    }

    #[test]
    fn memory_comes_from_proc_on_linux() {
        if cfg!(target_os = "linux") {
            let (rss, _) = memory().expect("VmRSS");
            assert!(rss > 0);
        }
    }
}
