//! Instance pages: backups (list, take one, download), the log viewer (level filter, search,
//! refreshed live, the level changeable at runtime, clear after a confirmation step) and the
//! settings. Through `api::backups` and `api::instance`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::json;

use super::forms::{form_error, input, select, textarea, FieldErrors, Fields, Filled};
use super::layout::{layout, q, time, Frame};
use super::{csrf_field, done, Page, PageResult};
use crate::domain::money::group_thousands;
use crate::web::api::backups::{backup_attempts, create_backup, list_backups};
use crate::web::api::instance::{clear_logs, get_logs, get_settings, put_settings, LogQuery};
use crate::web::error::Query as ApiQuery;
use crate::web::WebState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/backups", get(backups).post(take_backup))
        .route("/logs", get(logs))
        .route("/logs/level", post(log_level))
        .route("/logs/clear", post(logs_clear))
        .route("/settings", get(settings).post(save_settings))
}

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    pub done: Option<String>,
    pub level: Option<String>,
    pub q: Option<String>,
}

fn frame<'a>(page: &'a Page, title: &'a str, active: &'a str, note: Option<&'a str>) -> Frame<'a> {
    Frame {
        page,
        title,
        guild: None,
        active,
        note,
    }
}

const LEVELS: [&str; 5] = ["trace", "debug", "info", "warn", "error"];

fn level_options(with_all: bool) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    if with_all {
        v.push((String::new(), "All levels".into()));
    }
    v.extend(LEVELS.iter().map(|l| (l.to_string(), l.to_string())));
    v
}

/// `GET /backups` (admin accounts only: a snapshot holds every password hash).
async fn backups(
    State(s): State<WebState>,
    page: Page,
    Query(p): Query<Params>,
) -> PageResult<Response> {
    let body: Markup = if !page.can_write() {
        html! { p { "Backups hold every account's password hash: only admin accounts may see them." } }
    } else {
        let (list, unreadable) = match list_backups(State(s.clone()), page.auth.clone()).await {
            Ok(list) => (list.0, None),
            Err(e) => (Vec::new(), Some(e.message)),
        };
        let attempts = backup_attempts(State(s.clone()), page.auth.clone())
            .await?
            .0;
        let every = s.services.backup_every_hours;
        html! {
            p.muted { @match every { Some(h) => { "A backup is taken every " (h) " h; old ones are pruned." }, None => "No scheduled backups (storage.backup_every_hours)." } }
            form.inline method="post" action="/backups" {
                (csrf_field(&page))
                button type="submit" { "Take a backup now" }
            }
            @if let Some(why) = &unreadable { p.error role="alert" { (why) } }
            div.table-wrap #backups {
                table {
                    thead { tr { th { "Backup" } th { "Taken" } th.num { "Size" } th { "Checksum" } th { "" } } }
                    tbody {
                        @for b in &list {
                            tr {
                                td { code { (b.name) } }
                                td { (time(b.created_at)) }
                                td.num { (group_thousands((b.bytes / 1024) as i64)) " KB" }
                                td { @if b.checksummed { span.badge.ok { "sha256" } } @else { span.badge.warn { "none" } } }
                                td { a href=(format!("/api/backups/{}", q(&b.name))) download { "Download" } }
                            }
                        }
                        @if list.is_empty() { tr { td colspan="5" { "No backups yet." } } }
                    }
                }
            }
            p.muted { "To restore one, stop Coffer and run " code { "coffer restore <name>" } "." }
            h2 #attempts { "Recent attempts" }
            @if attempts.first().is_some_and(|a| !a.ok) {
                p.error { "The last backup failed. Check that the backup folder ("
                    code { (s.services.backups.dir().display()) }
                    ") exists, is writable and has free space, then take one now." }
            }
            div.table-wrap {
                table {
                    thead { tr { th { "When" } th { "Why" } th { "Result" } } }
                    tbody {
                        @for a in attempts.iter().take(20) {
                            tr {
                                td { (time(a.at)) }
                                td { (a.trigger.as_words()) }
                                td {
                                    @if a.ok {
                                        span.badge.ok { "ok" } " " code { (a.name.as_deref().unwrap_or("")) }
                                    } @else {
                                        span.badge.bad { "failed" } " " (a.error.as_deref().unwrap_or(""))
                                    }
                                }
                            }
                        }
                        @if attempts.is_empty() { tr { td colspan="3" { "None recorded yet." } } }
                    }
                }
            }
        }
    };
    Ok(layout(frame(&page, "Backups", "/backups", p.done.as_deref()), body).into_response())
}

/// `POST /backups`.
async fn take_backup(
    State(s): State<WebState>,
    page: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let (_, made) = create_backup(State(s), page.auth.clone()).await?;
    Ok(done("/backups", &format!("Backup {} taken.", made.0.name)))
}

/// `GET /logs`: the newest 500 lines, refreshed every few seconds by the script.
async fn logs(
    State(s): State<WebState>,
    page: Page,
    Query(p): Query<Params>,
) -> PageResult<Response> {
    let level = p.level.clone().unwrap_or_default();
    let search = p.q.clone().unwrap_or_default();
    // Empty: every level.
    let wanted = match level.as_str() {
        "" => Ok(None),
        l => l
            .parse::<crate::web::contract::LevelWord>()
            .map(Some)
            .map_err(|m| crate::web::error::ApiError::invalid_param("level", format!("level {m}"))),
    };
    let answer = match wanted {
        Ok(level) => {
            let lq = LogQuery {
                level,
                q: Some(search.clone()),
                limit: Some(super::ranged(500)),
            };
            get_logs(State(s.clone()), page.auth.clone(), ApiQuery(lq)).await
        }
        Err(e) => Err(e),
    };
    let (lines, errors) = match answer {
        Ok(v) => (v.0.lines, FieldErrors::default()),
        Err(e) => (Vec::new(), FieldErrors::from_api(&e, &[], Some("level"))),
    };
    let current = get_settings(State(s.clone()), page.auth.clone())
        .await?
        .0
        .runtime
        .log_buffer_level;
    let body = html! {
        form.filters method="get" action="/logs" {
            (select("Level", "level", &level_options(true), &level, &errors))
            (input("Search", "q", "search", &search, &errors, false))
            button type="submit" { "Show" }
        }
        pre.log #log-lines data-poll="3000" aria-live="off" {
            @for l in &lines {
                span class=(l.level.as_str()) { (l.at.format("%H:%M:%S")) " " (l.level.to_uppercase()) " " (l.target) ": " (l.message) } "\n"
            }
            @if lines.is_empty() { "No log lines match." }
        }
        @if page.can_write() {
            section.panel {
                h2 { "Log level" }
                p.muted { "Kept until the next start. The current level is " strong { (current) } "." }
                form.inline method="post" action="/logs/level" {
                    (csrf_field(&page))
                    (select("Level", "level", &level_options(false), &current, &FieldErrors::default()))
                    button type="submit" { "Change" }
                }
                details.confirm-step {
                    summary.button.danger { "Clear the log…" }
                    form.inline method="post" action="/logs/clear" {
                        (csrf_field(&page))
                        input type="hidden" name="confirm" value="yes";
                        button.danger type="submit" { "Yes, clear it" }
                    }
                }
            }
        }
    };
    Ok(layout(frame(&page, "Logs", "/logs", p.done.as_deref()), body).into_response())
}

/// `POST /logs/level`: the same settings change as `PUT /api/settings`.
async fn log_level(
    State(s): State<WebState>,
    page: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let patch = json!({ "log_buffer_level": f.get("level") });
    let next = put_settings(
        State(s),
        page.auth.clone(),
        page.idem(&f),
        crate::web::body::Body(patch),
    )
    .await?
    .0;
    Ok(done(
        "/logs",
        &format!("Log level is now {}.", next.log_buffer_level),
    ))
}

/// `POST /logs/clear` (after the confirmation step).
async fn logs_clear(
    State(s): State<WebState>,
    page: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    if f.get("confirm") != "yes" {
        return Ok(done("/logs", "Nothing was cleared: confirm first."));
    }
    let n = clear_logs(State(s), page.auth.clone()).await?.0.cleared;
    Ok(done("/logs", &format!("Cleared {n} lines.")))
}

/// `GET /settings`.
async fn settings(
    State(s): State<WebState>,
    page: Page,
    Query(p): Query<Params>,
) -> PageResult<Response> {
    render_settings(&s, &page, Filled::visit(p.done, None)).await
}

async fn render_settings(s: &WebState, page: &Page, form: Filled) -> PageResult<Response> {
    let v = get_settings(State(s.clone()), page.auth.clone()).await?.0;
    let defaults = serde_json::to_value(&v.guild_defaults).unwrap_or_default();
    let e = &form.errors;
    let body = html! {
        p { "Coffer " (v.version) " · Discord " @if v.discord_enabled { "on" } @else { "off (no DISCORD_TOKEN)" } }
        @if page.can_write() {
            form.panel method="post" action="/settings" {
                h2 { "Runtime settings" }
                (csrf_field(page))
                (form_error(e))
                (textarea("Notice shown to every dashboard user (blank: none)", "dashboard_notice", &form.value("dashboard_notice", v.runtime.dashboard_notice.as_deref().unwrap_or("")), e))
                (select("Log level", "log_buffer_level", &level_options(false), &form.value("log_buffer_level", &v.runtime.log_buffer_level), e))
                button type="submit" { "Save" }
            }
        } @else {
            p { "Notice: " (v.runtime.dashboard_notice.clone().unwrap_or_else(|| "none".into())) " · log level " (v.runtime.log_buffer_level) }
        }
        h2 { "Defaults for new servers (config.toml)" }
        div.table-wrap { table { tbody {
            @if let serde_json::Value::Object(m) = &defaults {
                @for (k, val) in m { tr { th { (k) } td { (val.to_string()) } } }
            }
        } } }
    };
    Ok((
        form.status(),
        layout(frame(page, "Settings", "/settings", form.note()), body),
    )
        .into_response())
}

/// `POST /settings`.
async fn save_settings(
    State(s): State<WebState>,
    page: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let notice = f.opt("dashboard_notice");
    let patch =
        json!({ "dashboard_notice": notice, "log_buffer_level": f.get("log_buffer_level") });
    match put_settings(
        State(s.clone()),
        page.auth.clone(),
        page.idem(&f),
        crate::web::body::Body(patch),
    )
    .await
    {
        Ok(_) => Ok(done("/settings", "Settings saved.")),
        Err(e) => {
            let errors = FieldErrors::from_api(&e, &[], Some("_form"));
            render_settings(&s, &page, Filled::new(f, errors)).await
        }
    }
}
