//! A server's settings: the form sends what changed as the merge patch `PUT /api/{id}/config`
//! takes; below it, the role rewards and their state. Through `api::guild`.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::forms::{checkbox, form_error, input, select, FieldErrors, Fields, Filled};
use super::guild::respond;
use super::guild::Params;
use super::layout::{pager, slice, time, GuildHead};
use super::{csrf_field, done, Page, PageResult};
use crate::domain::{GuildConfig, GuildId};
use crate::web::api::guild::{
    channels, get_config, put_config, role_grants, ChannelQuery, GrantQuery,
};
use crate::web::error::{Path, Query as ApiQuery};
use crate::web::WebState;

/// Role rewards shown per page, newest first.
const GRANTS_PER_PAGE: u64 = 25;

pub fn routes() -> Router<WebState> {
    Router::new().route("/servers/{g}/config", get(config).post(save_config))
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
    render_config(&s, &page, &head, Filled::visit(p.done, p.page)).await
}

async fn render_config(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    form: Filled,
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
    let newest_first: Vec<_> = grants.iter().rev().collect();
    let (shown, n, pages) = slice(&newest_first, form.n, GRANTS_PER_PAGE);
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
                    @for g in shown {
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
        (pager(&head.url("/config"), n, pages))
        p.muted { "A failed role reward needs Coffer's role above the reward role, and the Manage Roles permission." }
    };
    Ok(respond(page, head, ("Config", "config"), &form, body))
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
            page.idem(&f),
            Path(head.id),
            crate::web::body::Body(patch),
        )
        .await
        .map(|_| ())
        .map_err(|e| FieldErrors::from_api(&e, &[], Some("_form"))),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(done(&head.url("/config"), "Settings saved.")),
        Err(errors) => render_config(&s, &page, &head, Filled::new(f, errors)).await,
    }
}
