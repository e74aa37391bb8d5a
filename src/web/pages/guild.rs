//! A server's settings and records: config (the merge patch `PUT /api/{id}/config` takes, with
//! the role grants), custom commands, Discord sync state (retry, repost), the audit log and the
//! command log. Through `api::guild`, `api::commands`, `api::audit`, `api::command_log`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::forms::{checkbox, form_error, input, select, textarea, FieldErrors, Fields, Filled};
use super::layout::{layout, pager, q, time, Frame, GuildHead};
use super::shop::sync_badge;
use super::{csrf_field, done, Page, PageResult};
use crate::domain::{GuildConfig, GuildId};
use crate::web::api::audit::{audit_log, AuditQuery};
use crate::web::api::command_log::{command_log, CommandLogQuery};
use crate::web::api::commands::{create_command, delete_command, list_commands, CommandRequest};
use crate::web::api::guild::{
    channels, get_config, put_config, repost_sync, retry_sync, role_grants, sync_records,
    ChannelQuery, GrantQuery, SyncQuery,
};
use crate::web::auth::IdempotencyKey;
use crate::web::error::{Json, Path, Query as ApiQuery};
use crate::web::WebState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/servers/{g}/config", get(config).post(save_config))
        .route("/servers/{g}/commands", get(commands).post(create))
        .route("/servers/{g}/commands/{name}/delete", post(delete))
        .route("/servers/{g}/sync", get(sync))
        .route("/servers/{g}/sync/{kind}/{id}", post(sync_action))
        .route("/servers/{g}/audit", get(audit))
        .route("/servers/{g}/command-log", get(commands_used))
}

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    pub page: Option<u64>,
    pub done: Option<String>,
    pub state: Option<String>,
    pub kind: Option<String>,
    pub action: Option<String>,
    pub user: Option<String>,
    pub command: Option<String>,
    pub outcome: Option<String>,
}

fn frame<'a>(
    page: &'a Page,
    head: &'a GuildHead,
    title: &'a str,
    active: &'a str,
    note: Option<&'a str>,
) -> Frame<'a> {
    Frame {
        page,
        title,
        guild: Some(head),
        active,
        note,
    }
}

/// Text fields of the config form: (field, label).
const TEXT: &[(&str, &str)] = &[
    ("currency_name", "Currency name"),
    ("currency_symbol", "Currency symbol"),
];
/// Whole-number fields of the config form.
const NUMBERS: &[(&str, &str)] = &[
    ("daily_amount", "Daily reward"),
    ("daily_cooldown_hours", "Hours between dailies"),
    ("starting_balance", "Starting balance"),
    (
        "min_account_age_hours",
        "Account age before sending (hours)",
    ),
    ("transfer_tax_percent", "Transfer tax (%)"),
    (
        "rate_limit_per_minute",
        "Operations per minute per member (0: no limit)",
    ),
    ("max_tasks_per_user", "Most tasks per member"),
];
/// Optional whole numbers (blank clears).
const OPT_NUMBERS: &[(&str, &str)] = &[
    ("max_transfer", "Largest transfer (blank: no limit)"),
    (
        "max_transfer_per_day",
        "Most sent per day (blank: no limit)",
    ),
];
const CHANNELS: &[(&str, &str)] = &[
    ("task_channel_id", "Task channel"),
    ("shop_channel_id", "Shop channel"),
    ("announcement_channel_id", "Announcement channel"),
    ("log_channel", "Log channel"),
];
const FLAGS: &[(&str, &str)] = &[
    ("allow_user_tasks", "Members may create tasks"),
    ("require_proof", "Task submissions need proof"),
    ("auto_expire_enabled", "Tasks close at their end time"),
];

fn config_form(
    page: &Page,
    head: &GuildHead,
    c: &Value,
    chans: &[(String, String)],
    f: &Filled,
) -> Markup {
    let e = &f.errors;
    let cur = |k: &str| match &c[k] {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let filled = !f.fields.0.is_empty();
    html! {
        form.panel method="post" action=(head.url("/config")) #config-form {
            (csrf_field(page))
            (form_error(e))
            div.grid {
                @for (k, l) in TEXT.iter().chain(NUMBERS).chain(OPT_NUMBERS) {
                    (input(l, k, "text", &f.value(k, &cur(k)), e, false))
                }
                @for (k, l) in CHANNELS {
                    (select(l, k, chans, &f.value(k, &cur(k)), e))
                }
            }
            @for (k, l) in FLAGS {
                (checkbox(l, k, if filled { f.fields.checked(k) } else { c[*k].as_bool().unwrap_or(false) }))
            }
            button type="submit" { "Save settings" }
        }
    }
}

/// The merge patch the form describes (only what differs from `current`), or field errors.
fn config_patch(f: &Fields, current: &Value) -> Result<Value, FieldErrors> {
    let mut e = FieldErrors::default();
    let mut patch = Map::new();
    let mut set = |k: &str, v: Value| {
        if current[k] != v {
            patch.insert(k.to_owned(), v);
        }
    };
    for (k, _) in TEXT {
        set(k, json!(f.get(k)));
    }
    for (k, _) in NUMBERS {
        if let Some(v) = f.int(k, &mut e) {
            set(k, json!(v));
        }
    }
    for (k, _) in OPT_NUMBERS {
        if let Some(v) = f.opt_int(k, &mut e) {
            set(k, json!(v));
        }
    }
    for (k, _) in CHANNELS {
        match f.get(k) {
            "" => set(k, Value::Null),
            v if v.chars().all(|c| c.is_ascii_digit()) => set(k, json!(v)),
            _ => e.add(k, "Pick a channel from the list."),
        }
    }
    for (k, _) in FLAGS {
        set(k, json!(f.checked(k)));
    }
    if e.is_empty() {
        Ok(Value::Object(patch))
    } else {
        Err(e)
    }
}

async fn channel_options(
    s: &WebState,
    page: &Page,
    g: GuildId,
) -> PageResult<Vec<(String, String)>> {
    let list = channels(
        State(s.clone()),
        page.auth.clone(),
        Path(g),
        ApiQuery(ChannelQuery {
            postable_only: Some(true),
        }),
    )
    .await?
    .0;
    let mut out = vec![(String::new(), "— none —".to_owned())];
    out.extend(
        list.into_iter()
            .map(|c| (c.id.to_string(), format!("#{}", c.name))),
    );
    Ok(out)
}

async fn current_config(s: &WebState, page: &Page, g: GuildId) -> PageResult<(GuildConfig, Value)> {
    let c = get_config(State(s.clone()), page.auth.clone(), Path(g))
        .await?
        .0;
    let v = serde_json::to_value(&c).unwrap_or_default();
    Ok((c, v))
}

/// `GET /servers/{g}/config`.
async fn config(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Query(p): Query<Params>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    render_config(
        &s,
        &page,
        &head,
        p.done.as_deref(),
        Filled::default(),
        StatusCode::OK,
    )
    .await
}

async fn render_config(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    note: Option<&str>,
    form: Filled,
    code: StatusCode,
) -> PageResult<Response> {
    let (_, cur) = current_config(s, page, head.id).await?;
    let chans = channel_options(s, page, head.id).await?;
    let grants = role_grants(
        State(s.clone()),
        page.auth.clone(),
        Path(head.id),
        ApiQuery(GrantQuery::default()),
    )
    .await?
    .0;
    let body = html! {
        @if page.can_write() {
            (config_form(page, head, &cur, &chans, &form))
        } @else {
            div.table-wrap { table { tbody {
                @if let Value::Object(m) = &cur {
                    @for (k, v) in m { tr { th { (k) } td { (v.to_string()) } } }
                }
            } } }
        }
        h2 #role-grants { "Role rewards" }
        div.table-wrap #grants data-live="role_grant_recorded" {
            table {
                thead { tr { th { "Member" } th { "Role" } th { "Why" } th { "State" } th { "Updated" } } }
                tbody {
                    @for g in grants.iter().rev().take(100) {
                        @let st = serde_json::to_value(g.state).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                        tr {
                            td { (g.user) } td { (g.role) } td { (g.reason) }
                            td { span.badge.ok[st == "granted"].bad[st == "failed"] { (st) } @if let Some(err) = &g.error { " " span.error { (err) } } }
                            td { (time(g.updated_at)) }
                        }
                    }
                    @if grants.is_empty() { tr { td colspan="5" { "No role rewards given yet." } } }
                }
            }
        }
        p.muted { "A failed role reward needs Coffer's role above the reward role, and the Manage Roles permission." }
    };
    Ok((
        code,
        layout(frame(page, head, "Config", "config", note), body),
    )
        .into_response())
}

/// `POST /servers/{g}/config`: sends what changed as one merge patch.
async fn save_config(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let head = GuildHead::load(&s, g).await?;
    let (_, cur) = current_config(&s, &page, head.id).await?;
    let result = match config_patch(&f, &cur) {
        Ok(patch) => put_config(
            State(s.clone()),
            page.auth.clone(),
            IdempotencyKey(None),
            Path(head.id),
            Json(patch),
        )
        .await
        .map(|_| ())
        .map_err(|e| FieldErrors::from_api(&e, &[], Some("_form"))),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(done(&head.url("/config"), "Settings saved.")),
        Err(errors) => {
            render_config(
                &s,
                &page,
                &head,
                None,
                Filled::new(f, errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `GET /servers/{g}/commands`.
async fn commands(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Query(p): Query<Params>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    render_commands(
        &s,
        &page,
        &head,
        p.done.as_deref(),
        Filled::default(),
        StatusCode::OK,
    )
    .await
}

async fn render_commands(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    note: Option<&str>,
    form: Filled,
    code: StatusCode,
) -> PageResult<Response> {
    let list = list_commands(State(s.clone()), page.auth.clone(), Path(head.id))
        .await?
        .0;
    let e = &form.errors;
    let body = html! {
        div.table-wrap #commands data-live="custom_command_changed" {
            table {
                thead { tr { th { "Command" } th { "Reply" } th { "Changed" } th { "" } } }
                tbody {
                    @for c in &list {
                        tr {
                            td { code { "/" (c.name) } }
                            td { (c.response) }
                            td { (time(c.updated_at)) }
                            td { @if page.can_write() {
                                details.confirm-step {
                                    summary.button.small.danger { "Delete…" }
                                    form method="post" action=(head.url(&format!("/commands/{}/delete", q(&c.name)))) {
                                        (csrf_field(page))
                                        input type="hidden" name="confirm" value="yes";
                                        button.small.danger type="submit" { "Yes, delete /" (c.name) }
                                    }
                                }
                            } }
                        }
                    }
                    @if list.is_empty() { tr { td colspan="4" { "No custom commands." } } }
                }
            }
        }
        @if page.can_write() {
            form.panel method="post" action=(head.url("/commands")) #create-command {
                h2 { "New command" }
                (csrf_field(page))
                (form_error(e))
                (input("Name (a-z, 0-9, - and _)", "name", "text", &form.value("name", ""), e, true))
                (textarea("Reply ({user}, {server}, {balance} and {currency} are filled in)", "response", &form.value("response", ""), e))
                (checkbox("Replace a command of that name", "overwrite", form.fields.checked("overwrite")))
                button type="submit" { "Save command" }
            }
        }
    };
    Ok((
        code,
        layout(frame(page, head, "Custom commands", "commands", note), body),
    )
        .into_response())
}

/// `POST /servers/{g}/commands`.
async fn create(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let head = GuildHead::load(&s, g).await?;
    let req = CommandRequest {
        name: f.get("name").to_owned(),
        response: f.get("response").to_owned(),
        overwrite: f.checked("overwrite"),
    };
    match create_command(
        State(s.clone()),
        page.auth.clone(),
        IdempotencyKey(None),
        Path(head.id),
        Json(req),
    )
    .await
    {
        Ok((_, c)) => Ok(done(
            &head.url("/commands"),
            &format!("Saved /{}.", c.0.name),
        )),
        Err(e) => {
            let errors = FieldErrors::from_api(&e, &[], Some("name"));
            render_commands(
                &s,
                &page,
                &head,
                None,
                Filled::new(f, errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /servers/{g}/commands/{name}/delete` (after the confirmation step).
async fn delete(
    State(s): State<WebState>,
    page: Page,
    Path((g, name)): Path<(GuildId, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let g = super::server(g)?;
    if f.get("confirm") != "yes" {
        return Ok(done(
            &format!("/servers/{g}/commands"),
            "Nothing was deleted: confirm first.",
        ));
    }
    delete_command(
        State(s),
        page.auth.clone(),
        IdempotencyKey(None),
        Path((g, name.clone())),
    )
    .await?;
    Ok(done(
        &format!("/servers/{g}/commands"),
        &format!("Deleted /{name}."),
    ))
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
        kind: p.kind.clone().filter(|v| !v.is_empty()),
        state: state.clone(),
    };
    let list = sync_records(
        State(s.clone()),
        page.auth.clone(),
        Path(head.id),
        ApiQuery(sq),
    )
    .await?
    .0;
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
                    @for r in &list {
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
    let (auth, key) = (page.auth.clone(), IdempotencyKey(None));
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
        page: Some(n),
        per_page: Some(50),
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
        limit: Some(50),
        offset: Some((n - 1) * 50),
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
