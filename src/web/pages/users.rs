//! Members of a server: the paged, sortable, searchable list with a balance form, and one
//! member's page (balance, inventory, recent entries, balance-over-time chart). Both read and
//! change through the API's own handlers (`api::users`, `api::shop::inventory`,
//! `api::transactions`), so a page and its endpoint share one service call.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::Deserialize;

use super::charts::balance_line;
use super::forms::{form_error, input, select, textarea, FieldErrors, Fields, Filled};
use super::guild::respond;
use super::layout::{money, pager, q, time, GuildHead};
use super::{csrf_field, done, Page, PageError, PageResult};
use crate::domain::{GuildId, UserId};
use crate::web::api::shop::inventory;
use crate::web::api::transactions::{list_transactions, TxQuery};
use crate::web::api::users::{get_user, list_users, set_balance, BalanceRequest, UserListQuery};
use crate::web::error::{Path, Query as ApiQuery};
use crate::web::WebState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/servers/{g}", get(to_users))
        .route("/servers/{g}/users", get(users))
        .route("/servers/{g}/users/balance", post(quick_balance))
        .route("/servers/{g}/users/{u}", get(user))
        .route("/servers/{g}/users/{u}/balance", post(user_balance))
}

/// Balance events that change what these pages show.
pub const BALANCE_EVENTS: &str = "balance_changed,account_created,daily_claimed,transfer_completed,transaction_reversed,accounts_deactivated,account_reactivated";

const PER_PAGE: u64 = 25;

async fn to_users(Path(g): Path<GuildId>) -> Response {
    axum::response::Redirect::to(&format!("/servers/{g}/users")).into_response()
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct ListParams {
    pub page: Option<u64>,
    pub sort_by: Option<String>,
    pub order: Option<String>,
    pub search: Option<String>,
    pub done: Option<String>,
}

fn balance_form(page: &Page, action: &str, with_user: bool, f: &Filled) -> Markup {
    let modes = [
        ("add".to_owned(), "Add".to_owned()),
        ("remove".to_owned(), "Remove".to_owned()),
        ("set".to_owned(), "Set to".to_owned()),
    ];
    html! {
        form.panel method="post" action=(action) #balance-form {
            h2 { "Change a balance" }
            (csrf_field(page))
            (form_error(&f.errors))
            div.grid {
                @if with_user { (input("User id", "user_id", "text", &f.value("user_id", ""), &f.errors, true)) }
                (select("Change", "mode", &modes, &f.value("mode", "add"), &f.errors))
                (input("Amount", "amount", "text", &f.value("amount", ""), &f.errors, true))
            }
            (textarea("Reason (kept in the ledger and the audit log)", "reason", &f.value("reason", ""), &f.errors))
            button type="submit" { "Apply" }
        }
    }
}

/// `GET /servers/{g}/users`.
async fn users(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Query(p): Query<ListParams>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    let form = Filled::visit(p.done.clone(), p.page);
    render_users(&s, &page, &head, p, form).await
}

async fn render_users(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    p: ListParams,
    form: Filled,
) -> PageResult<Response> {
    let sort = p.sort_by.clone().unwrap_or_else(|| "balance".into());
    let order = p.order.clone().unwrap_or_else(|| "desc".into());
    let search = p.search.clone().unwrap_or_default();
    let query = UserListQuery {
        page: p.page.map(super::ranged),
        per_page: Some(super::ranged(PER_PAGE)),
        sort_by: sort.parse().ok(),
        order: order.parse().ok(),
        include_inactive: Some(true),
        search: Some(search.clone()),
    };
    let mut filter_errors = FieldErrors::default();
    let list = match list_users(
        State(s.clone()),
        page.auth.clone(),
        Path(head.id),
        ApiQuery(query),
    )
    .await
    {
        Ok(l) => Some(l.0),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            filter_errors = FieldErrors::from_api(&e, &[], Some("search"));
            None
        }
        Err(e) => return Err(e.into()),
    };
    let base = head.url(&format!("/users?search={}", q(&search)));
    let sort_link = |col: &str| {
        let next = if sort == col && order == "desc" {
            "asc"
        } else {
            "desc"
        };
        format!("{base}&sort_by={col}&order={next}")
    };
    let arrow = |col: &str| match (sort == col, order.as_str()) {
        (true, "asc") => " ↑",
        (true, _) => " ↓",
        _ => "",
    };
    let body = html! {
        form.filters method="get" action=(head.url("/users")) {
            (input("Search by user id", "search", "search", &search, &filter_errors, false))
            input type="hidden" name="sort_by" value=(sort);
            input type="hidden" name="order" value=(order);
            button type="submit" { "Search" }
        }
        @if let Some(list) = &list {
            p.muted { (list.total) " members" }
            div.table-wrap #users-table data-live=(BALANCE_EVENTS) {
                table {
                    thead { tr {
                        th { a href=(sort_link("user_id")) { "User" (arrow("user_id")) } }
                        th.num { a href=(sort_link("balance")) { "Balance" (arrow("balance")) } }
                        th.num { a href=(sort_link("total_earned")) { "Earned" (arrow("total_earned")) } }
                        th { a href=(sort_link("last_active")) { "Last active" (arrow("last_active")) } }
                    } }
                    tbody {
                        @for a in &list.items {
                            tr data-user=(a.user_id) {
                                td {
                                    a href=(head.url(&format!("/users/{}", a.user_id))) { (a.user_id) }
                                    @if !a.active { " " span.badge.warn { "inactive" } }
                                }
                                td.num data-balance-user=(a.user_id) { (money(head, a.balance)) }
                                td.num { (money(head, a.total_earned)) }
                                td { (time(a.last_active)) }
                            }
                        }
                        @if list.items.is_empty() { tr { td colspan="4" { "No members match." } } }
                    }
                }
            }
            (pager(&format!("{base}&sort_by={sort}&order={order}"), list.page, list.pages))
        }
        @if page.can_write() { (balance_form(page, &head.url("/users/balance"), true, &form)) }
    };
    Ok(respond(page, head, ("Users", "users"), &form, body))
}

/// The balance change a form asks for, or the fields that are wrong.
fn parse_balance(f: &Fields) -> Result<BalanceRequest, FieldErrors> {
    let mut errors = FieldErrors::default();
    let amount = f.int("amount", &mut errors);
    let mode = f.get("mode");
    if !["add", "remove", "set"].contains(&mode) {
        errors.add("mode", "Choose add, remove or set.");
    }
    match amount {
        Some(a) if errors.is_empty() => Ok(BalanceRequest {
            amount: if mode == "remove" {
                a.saturating_neg()
            } else {
                a
            },
            set: mode == "set",
            reason: f.get("reason").to_owned(),
        }),
        _ => Err(errors),
    }
}

/// Runs the API's balance change; the refusal as field errors.
async fn apply_balance(
    s: &WebState,
    page: &Page,
    g: GuildId,
    user: UserId,
    f: &Fields,
) -> Result<String, FieldErrors> {
    let req = parse_balance(f)?;
    match set_balance(
        State(s.clone()),
        page.auth.clone(),
        page.idem(f),
        Path((g, user)),
        crate::web::body::Body(req),
    )
    .await
    {
        Ok(r) => Ok(format!("Balance of {user} is now {}.", r.0.balance)),
        Err(e) if e.status.is_server_error() => Err(FieldErrors::from_api(&e, &[], Some("_form"))),
        Err(e) => Err(FieldErrors::from_api(
            &e,
            &[("user_id", "user_id")],
            Some("amount"),
        )),
    }
}

/// `POST /servers/{g}/users/balance` (the list page's form, naming the member).
async fn quick_balance(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let head = GuildHead::load(&s, g).await?;
    let result = match f.get("user_id").parse::<u64>() {
        Ok(u) if u > 0 => apply_balance(&s, &page, head.id, UserId(u), &f).await,
        _ => {
            let mut e = FieldErrors::default();
            e.add("user_id", "Enter the member's Discord user id (digits).");
            Err(e)
        }
    };
    match result {
        Ok(note) => Ok(done(&head.url("/users"), &note)),
        Err(errors) => {
            render_users(
                &s,
                &page,
                &head,
                ListParams::default(),
                Filled::new(f, errors),
            )
            .await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Note {
    pub done: Option<String>,
    pub page: Option<u64>,
}

/// `GET /servers/{g}/users/{u}`.
async fn user(
    State(s): State<WebState>,
    page: Page,
    Path((g, u)): Path<(GuildId, UserId)>,
    Query(n): Query<Note>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    render_user(&s, &page, &head, u, Filled::visit(n.done, None)).await
}

async fn render_user(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    u: UserId,
    form: Filled,
) -> PageResult<Response> {
    let g = head.id;
    let detail = get_user(State(s.clone()), page.auth.clone(), Path((g, u)))
        .await?
        .0;
    let inv = inventory(State(s.clone()), page.auth.clone(), Path((g, u)))
        .await?
        .0;
    let history = list_transactions(
        State(s.clone()),
        page.auth.clone(),
        Path(g),
        ApiQuery(TxQuery {
            user_id: Some(u.to_string()),
            limit: Some(super::ranged(200)),
            sort: Some("oldest".into()),
            ..Default::default()
        }),
    )
    .await?
    .0;
    let mut points: Vec<_> = history
        .items
        .iter()
        .map(|t| (t.timestamp, t.balance_after))
        .collect();
    if let Some(first) = history.items.first() {
        points.insert(0, (first.timestamp, first.balance_before));
    }
    let a = &detail.account;
    // The line runs on to now at the current balance.
    points.push((s.services.now(), a.balance));
    let body = html! {
        div #user-live data-live=(BALANCE_EVENTS) {
            div.cards {
                div.card { div.muted { "Balance" } div.big data-balance-user=(a.user_id) { (money(head, a.balance)) } }
                div.card { div.muted { "Earned" } div.big { (money(head, a.total_earned)) } }
                div.card { div.muted { "Spent" } div.big { (money(head, a.total_spent)) } }
                div.card { div.muted { "Last active" } div { (time(a.last_active)) } }
            }
            h2 { "Balance over time" }
            (balance_line(&points, "Balance over time"))
            h2 { "Recent transactions" }
            div.table-wrap {
                table {
                    thead { tr { th { "When" } th { "Type" } th.num { "Amount" } th.num { "After" } th { "Description" } } }
                    tbody {
                        @for t in &detail.recent_transactions {
                            tr {
                                td { (time(t.timestamp)) }
                                td { (t.kind) }
                                td.num { (money(head, t.amount)) }
                                td.num { (money(head, t.balance_after)) }
                                td { (t.description) }
                            }
                        }
                    }
                }
            }
            p { a href=(head.url(&format!("/transactions?user_id={u}"))) { "All of this member's transactions" } }
        }
        h2 { "Inventory" }
        div.table-wrap #inventory data-live="inventory_changed,item_bought" {
            table {
                thead { tr { th { "Item" } th { "Category" } th.num { "Quantity" } } }
                tbody {
                    @for i in &inv.items {
                        tr { td { (i.emoji.clone().unwrap_or_default()) " " (i.name) } td { (i.category) } td.num { (i.quantity) } }
                    }
                    @if inv.items.is_empty() { tr { td colspan="3" { "Holds nothing." } } }
                }
            }
        }
        @if page.can_write() { (balance_form(page, &head.url(&format!("/users/{u}/balance")), false, &form)) }
    };
    let title = format!("User {u}");
    Ok(respond(page, head, (&title, "users"), &form, body))
}

/// `POST /servers/{g}/users/{u}/balance`.
async fn user_balance(
    State(s): State<WebState>,
    page: Page,
    Path((g, u)): Path<(GuildId, UserId)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let head = GuildHead::load(&s, g).await?;
    match apply_balance(&s, &page, head.id, u, &f).await {
        Ok(note) => Ok(done(&head.url(&format!("/users/{u}")), &note)),
        Err(errors) => render_user(&s, &page, &head, u, Filled::new(f, errors)).await,
    }
}

impl From<FieldErrors> for PageError {
    fn from(e: FieldErrors) -> Self {
        let msg = e.0.values().next().cloned().unwrap_or_default();
        PageError::Api(crate::web::error::ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            msg,
        ))
    }
}
