//! What happened on a server: the Discord sync state of its messages (retry, repost), the
//! audit log of admin changes and the command log. Through `api::guild`, `api::audit` and
//! `api::command_log`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::html;
use serde_json::Value;

use super::forms::{form_error, input, FieldErrors, Fields};
use super::guild::{frame, Params};
use super::layout::{layout, pager, q, slice, time, GuildHead};
use super::shop::sync_badge;
use super::{csrf_field, done, Page, PageResult};
use crate::domain::GuildId;
use crate::web::api::audit::{audit_log, AuditQuery};
use crate::web::api::command_log::{command_log, CommandLogQuery};
use crate::web::api::guild::{repost_sync, retry_sync, sync_records, SyncQuery};
use crate::web::error::{Path, Query as ApiQuery};
use crate::web::WebState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/servers/{g}/sync", get(sync))
        .route("/servers/{g}/sync/{kind}/{id}", post(sync_action))
        .route("/servers/{g}/audit", get(audit))
        .route("/servers/{g}/command-log", get(commands_used))
}

/// `GET /servers/{g}/sync`: every Discord message Coffer keeps, with retry / repost.
async fn sync(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Query(p): Query<Params>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    let state = p.state.clone().filter(|v| !v.is_empty());
    let sq = SyncQuery {
        kind: p.kind.as_deref().and_then(|v| v.parse().ok()),
        state: state.as_deref().and_then(|v| v.parse().ok()),
    };
    let list = sync_records(
        State(s.clone()),
        page.auth.clone(),
        Path(head.id),
        ApiQuery(sq),
    )
    .await?
    .0;
    let (shown, n, pages) = slice(&list, p.page.unwrap_or(1), 50);
    let body = html! {
        form.filters method="get" action=(head.url("/sync")) {
            div.field { label for="f-state" { "State" }
                select #f-state name="state" {
                    @for v in ["", "pending", "synced", "orphaned", "failed"] {
                        option value=(v) selected[state.as_deref().unwrap_or("") == v] { @if v.is_empty() { "All" } @else { (v) } }
                    }
                } }
            button type="submit" { "Filter" }
        }
        div.table-wrap #sync-records data-live="sync_changed" {
            table {
                thead { tr { th { "What" } th { "State" } th { "Attempts" } th { "Next try" } th { "Error" } th { "" } } }
                tbody {
                    @for r in shown {
                        tr {
                            td { (r.kind.as_str()) " " (r.object) }
                            td { (sync_badge(Some(r))) }
                            td { (r.attempts) }
                            td { (time(r.next_attempt_at)) }
                            td.error { (r.last_error.clone().unwrap_or_default()) }
                            td { @if page.can_write() {
                                form.inline method="post" action=(head.url(&format!("/sync/{}/{}", r.kind.as_str(), r.object))) {
                                    (csrf_field(&page))
                                    button.small type="submit" name="action" value="retry" { "Retry" }
                                    button.small type="submit" name="action" value="repost" { "Repost" }
                                }
                            } }
                        }
                    }
                    @if list.is_empty() { tr { td colspan="6" { "Nothing to show." } } }
                }
            }
        }
        (pager(&head.url(&format!("/sync?state={}", state.as_deref().unwrap_or(""))), n, pages))
        p.muted { "Failed: Discord refused (missing access or permissions); fix it, then retry. Orphaned: the message was deleted on Discord; repost it." }
    };
    Ok(layout(
        frame(&page, &head, "Discord sync", "sync", p.done.as_deref()),
        body,
    )
    .into_response())
}

/// `POST /servers/{g}/sync/{kind}/{id}` (`action` = retry or repost).
async fn sync_action(
    State(s): State<WebState>,
    page: Page,
    Path((g, kind, id)): Path<(GuildId, String, u64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let g = super::server(g)?;
    let (auth, key) = (page.auth.clone(), page.idem(&f));
    let note = if f.get("action") == "repost" {
        repost_sync(State(s), auth, key, Path((g, kind.clone(), id))).await?;
        format!("{kind} {id} will be posted again.")
    } else {
        retry_sync(State(s), auth, key, Path((g, kind.clone(), id))).await?;
        format!("{kind} {id} is retried now.")
    };
    Ok(done(&format!("/servers/{g}/sync"), &note))
}

fn pretty(v: &Option<Value>) -> String {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

/// `GET /servers/{g}/audit`.
async fn audit(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Query(p): Query<Params>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    let n = p.page.unwrap_or(1).max(1);
    let action = p.action.clone().unwrap_or_default();
    let aq = AuditQuery {
        action: Some(action.clone()).filter(|a| !a.is_empty()),
        page: Some(super::ranged(n)),
        per_page: Some(super::ranged(50)),
    };
    let found = audit_log(
        State(s.clone()),
        page.auth.clone(),
        Path(head.id),
        ApiQuery(aq),
    )
    .await?
    .0;
    let body = html! {
        form.filters method="get" action=(head.url("/audit")) {
            (input("Action starts with", "action", "text", &action, &FieldErrors::default(), false))
            button type="submit" { "Filter" }
        }
        div.table-wrap #audit {
            table {
                thead { tr { th { "When" } th { "Who" } th { "Action" } th { "Target" } th { "Before" } th { "After" } } }
                tbody {
                    @for e in &found.items {
                        tr { td { (time(e.at)) } td { (e.actor) } td { (e.action) } td { (e.target) }
                             td { code { (pretty(&e.before)) } } td { code { (pretty(&e.after)) } } }
                    }
                    @if found.items.is_empty() { tr { td colspan="6" { "No admin changes recorded." } } }
                }
            }
        }
        (pager(&head.url(&format!("/audit?action={}", q(&action))), n, found.total.div_ceil(50)))
    };
    Ok(layout(
        frame(&page, &head, "Audit log", "audit", p.done.as_deref()),
        body,
    )
    .into_response())
}

/// `GET /servers/{g}/command-log`.
async fn commands_used(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Query(p): Query<Params>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    let n = p.page.unwrap_or(1).max(1);
    let cq = CommandLogQuery {
        user: p.user.clone(),
        command: p.command.clone(),
        outcome: p.outcome.clone(),
        limit: Some(super::ranged(50)),
        offset: Some(super::ranged((n - 1) * 50)),
        ..Default::default()
    };
    let (list, errors) = match command_log(
        State(s.clone()),
        page.auth.clone(),
        Path(head.id),
        ApiQuery(cq),
    )
    .await
    {
        Ok(l) => (Some(l.0), FieldErrors::default()),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            (None, FieldErrors::from_api(&e, &[], Some("_form")))
        }
        Err(e) => return Err(e.into()),
    };
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let body = html! {
        form.filters method="get" action=(head.url("/command-log")) {
            (input("Member id", "user", "text", &v(&p.user), &errors, false))
            (input("Command", "command", "text", &v(&p.command), &errors, false))
            (input("Outcome (ok, error, denied…)", "outcome", "text", &v(&p.outcome), &errors, false))
            button type="submit" { "Filter" }
        }
        (form_error(&errors))
        @if let Some(list) = &list {
            div.table-wrap #command-log {
                table {
                    thead { tr { th { "When" } th { "Command" } th { "Member" } th.num { "ms" } th { "Outcome" } } }
                    tbody {
                        @for e in &list.items {
                            tr { td { (time(e.at)) } td { (e.command) } td { (e.user_id) } td.num { (e.duration_ms) }
                                 td { span.badge.ok[e.outcome == "ok"].bad[e.outcome != "ok"] { (e.outcome) } } }
                        }
                        @if list.items.is_empty() { tr { td colspan="5" { "No commands match." } } }
                    }
                }
            }
            (pager(&head.url(&format!("/command-log?user={}&command={}&outcome={}", q(&v(&p.user)), q(&v(&p.command)), q(&v(&p.outcome)))), n, list.total.div_ceil(50)))
        }
    };
    Ok(layout(
        frame(
            &page,
            &head,
            "Command log",
            "command-log",
            p.done.as_deref(),
        ),
        body,
    )
    .into_response())
}
