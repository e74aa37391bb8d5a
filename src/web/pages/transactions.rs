//! A server's ledger: filtered, paged entries; statistics with a daily-volume chart; the CSV
//! export link; ledger validation; archiving old entries (after a confirmation step). Reads and
//! changes through the API's handlers (`api::transactions`, `web::export`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::Deserialize;

use super::charts::daily_bars;
use super::forms::{input, FieldErrors, Fields};
use super::layout::{layout, money, pager, q, time, Frame, GuildHead};
use super::users::Note;
use super::{csrf_field, done, Page, PageResult};
use crate::domain::GuildId;
use crate::web::api::transactions::{
    archive as api_archive, list_transactions, statistics, validate as api_validate,
    ArchiveRequest, StatsQuery, TxQuery,
};
use crate::web::auth::ReadAuth;
use crate::web::error::{Path, Query as ApiQuery};
use crate::web::WebState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/servers/{g}/transactions", get(transactions))
        .route("/servers/{g}/transactions/validate", get(validate))
        .route("/servers/{g}/transactions/archive", post(archive))
}

const PER_PAGE: u64 = 50;

#[derive(Debug, Default, Deserialize, Clone)]
pub struct Filters {
    pub user_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub sort: Option<String>,
    pub page: Option<u64>,
    pub period: Option<String>,
    pub done: Option<String>,
}

impl Filters {
    fn query_string(&self) -> String {
        let v = |o: &Option<String>| q(o.as_deref().unwrap_or(""));
        format!(
            "user_id={}&type={}&start_date={}&end_date={}&sort={}",
            v(&self.user_id),
            v(&self.kind),
            v(&self.start_date),
            v(&self.end_date),
            v(&self.sort)
        )
    }

    fn tx_query(&self, offset: u64, limit: u64) -> TxQuery {
        TxQuery {
            user_id: self.user_id.clone(),
            kind: self.kind.clone(),
            start_date: self.start_date.clone(),
            end_date: self.end_date.clone(),
            limit: Some(super::ranged(limit)),
            offset: Some(super::ranged(offset)),
            sort: self.sort.clone().filter(|s| !s.is_empty()),
            include_archived: None,
        }
    }
}

/// Money in and out per day over the last 30 days (from up to 1,000 entries).
async fn daily_volume(s: &WebState, page: &Page, head: &GuildHead) -> PageResult<Markup> {
    let since = (s.services.now() - chrono::Duration::days(30)).date_naive();
    let q = TxQuery {
        start_date: Some(since.format("%Y-%m-%d").to_string()),
        limit: Some(super::ranged(1000)),
        sort: Some("oldest".into()),
        ..Default::default()
    };
    let list = list_transactions(
        State(s.clone()),
        page.auth.clone(),
        Path(head.id),
        ApiQuery(q),
    )
    .await?
    .0;
    let mut days: BTreeMap<chrono::NaiveDate, (i64, i64)> = BTreeMap::new();
    for t in &list.items {
        let d = days.entry(t.timestamp.date_naive()).or_default();
        if t.amount >= 0 {
            d.0 = d.0.saturating_add(t.amount);
        } else {
            d.1 = d.1.saturating_add(t.amount.saturating_neg());
        }
    }
    // Every day of the window, quiet ones too, so the bars keep one scale of time.
    let today = s.services.now().date_naive();
    let days: Vec<_> = since
        .iter_days()
        .take_while(|d| *d <= today)
        .map(|d| {
            let (i, o) = days.get(&d).copied().unwrap_or_default();
            (d, i, o)
        })
        .collect();
    Ok(daily_bars(&days, "Money in and out per day, last 30 days"))
}

/// `GET /servers/{g}/transactions`.
async fn transactions(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Query(f): Query<Filters>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    let n = f.page.unwrap_or(1).max(1);
    let mut errors = FieldErrors::default();
    let list = match list_transactions(
        State(s.clone()),
        page.auth.clone(),
        Path(head.id),
        ApiQuery(f.tx_query((n - 1) * PER_PAGE, PER_PAGE)),
    )
    .await
    {
        Ok(l) => Some(l.0),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            errors = FieldErrors::from_api(&e, &[], Some("_form"));
            None
        }
        Err(e) => return Err(e.into()),
    };
    let period = f.period.clone().unwrap_or_else(|| "month".into());
    let stats = statistics(
        State(s.clone()),
        page.auth.clone(),
        Path(head.id),
        ApiQuery(StatsQuery {
            user_id: None,
            period: Some(period.clone()),
        }),
    )
    .await?
    .0;
    let chart = daily_volume(&s, &page, &head).await?;
    let qs = f.query_string();
    let status = if list.is_some() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = html! {
        h2 { "Statistics" }
        form.filters method="get" action=(head.url("/transactions")) {
            div.field { label for="f-period" { "Period" }
                select #f-period name="period" {
                    @for p in ["day", "week", "month", "all"] { option value=(p) selected[p == period] { (p) } }
                } }
            button type="submit" { "Show" }
        }
        div.cards #tx-stats data-live="balance_changed,daily_claimed,transfer_completed,item_bought,claim_accepted,transaction_reversed" {
            div.card { div.muted { "Earned" } div.big { (money(&head, stats.earned)) } }
            div.card { div.muted { "Spent" } div.big { (money(&head, stats.spent)) } }
            div.card { div.muted { "Entries" } div.big { (stats.count) } }
            div.card { div.muted { "In circulation" } div.big { (money(&head, stats.total_currency)) } }
            div.card { div.muted { "Active accounts" } div.big { (stats.active_accounts) " / " (stats.accounts) } }
        }
        (chart)
        @if !stats.top_earners.is_empty() {
            p { "Top earners: "
                @for (i, e) in stats.top_earners.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href=(head.url(&format!("/users/{}", e.user_id))) { (e.user_id) } " (" (money(&head, e.amount)) ")"
                } }
        }
        h2 { "Entries" }
        form.filters method="get" action=(head.url("/transactions")) {
            (input("User id", "user_id", "text", f.user_id.as_deref().unwrap_or(""), &errors, false))
            (input("Type(s)", "type", "text", f.kind.as_deref().unwrap_or(""), &errors, false))
            (input("From (YYYY-MM-DD)", "start_date", "text", f.start_date.as_deref().unwrap_or(""), &errors, false))
            (input("Until (YYYY-MM-DD)", "end_date", "text", f.end_date.as_deref().unwrap_or(""), &errors, false))
            div.field { label for="f-sort" { "Order" }
                select #f-sort name="sort" {
                    @for (v, l) in [("newest", "Newest first"), ("oldest", "Oldest first"), ("amount_desc", "Largest first"), ("amount_asc", "Smallest first")] {
                        option value=(v) selected[f.sort.as_deref().unwrap_or("newest") == v] { (l) }
                    }
                } }
            button type="submit" { "Filter" }
        }
        @if let Some(m) = errors.get("_form") { p.error role="alert" { (m) } }
        p {
            a.button.small href=(format!("/api/{}/transactions/export?format=csv&{qs}", head.id)) { "Export CSV" }
            " "
            a.button.small href=(head.url("/transactions/validate")) #validate { "Validate the ledger" }
        }
        @if let Some(list) = &list {
            div.table-wrap #tx-list data-live="balance_changed,daily_claimed,transfer_completed,item_bought,claim_accepted,transaction_reversed,transactions_archived" {
                table {
                    thead { tr { th { "#" } th { "When" } th { "Member" } th { "Type" } th.num { "Amount" } th.num { "After" } th { "Description" } th { "By" } } }
                    tbody {
                        @for t in &list.items {
                            tr {
                                td { (t.id) }
                                td { (time(t.timestamp)) }
                                td { a href=(head.url(&format!("/users/{}", t.user_id))) { (t.user_id) } }
                                td { (t.kind) }
                                td.num { (money(&head, t.amount)) }
                                td.num { (money(&head, t.balance_after)) }
                                td { (t.description) }
                                td { (t.actor) }
                            }
                        }
                        @if list.items.is_empty() { tr { td colspan="8" { "No entries match." } } }
                    }
                }
            }
            (pager(&head.url(&format!("/transactions?{qs}")), n, list.total.div_ceil(PER_PAGE)))
        }
        @if page.can_write() {
            section.panel {
                h2 { "Archive old entries" }
                p.muted { "Moves entries older than the days you keep out of the live ledger. Balances and validation do not change; archived entries stay in the export." }
                details.confirm-step {
                    summary.button.danger { "Archive…" }
                    form method="post" action=(head.url("/transactions/archive")) {
                        (csrf_field(&page))
                        (input("Days to keep", "days_to_keep", "number", "365", &FieldErrors::default(), true))
                        input type="hidden" name="confirm" value="yes";
                        button.danger type="submit" { "Yes, archive older entries" }
                    }
                }
            }
        }
    };
    let html = layout(
        Frame {
            page: &page,
            title: "Transactions",
            guild: Some(&head),
            active: "transactions",
            note: f.done.as_deref(),
        },
        body,
    );
    Ok((status, html).into_response())
}

/// `GET /servers/{g}/transactions/validate`: recomputes every balance from the ledger
/// (changes nothing, so viewers may run it too).
async fn validate(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Query(n): Query<Note>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    let v = api_validate(
        State(s.clone()),
        ReadAuth(page.auth.clone()),
        Path(head.id),
        Bytes::new(),
    )
    .await?
    .0;
    let report = serde_json::to_string_pretty(&v.report).unwrap_or_default();
    let body = html! {
        @if v.ok {
            p.note role="status" { "Every balance matches the sum of its ledger entries." }
        } @else {
            p.error role="alert" { "Stored balances do not match the ledger. The report below lists each mismatch; run " code { "coffer verify" } " for the same check from the command line." }
        }
        details open[!v.ok] { summary { "Full report" } pre.log { (report) } }
        p { a href=(head.url("/transactions")) { "← Transactions" } }
    };
    let html = layout(
        Frame {
            page: &page,
            title: "Ledger validation",
            guild: Some(&head),
            active: "transactions",
            note: n.done.as_deref(),
        },
        body,
    );
    Ok(html.into_response())
}

/// `POST /servers/{g}/transactions/archive` (after the confirmation step).
async fn archive(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let g = super::server(g)?;
    let to = format!("/servers/{g}/transactions");
    if f.get("confirm") != "yes" {
        return Ok(done(&to, "Nothing was archived: confirm first."));
    }
    let mut errors = FieldErrors::default();
    let days = f
        .int("days_to_keep", &mut errors)
        .and_then(|d| u32::try_from(d).ok());
    let Some(days_to_keep) = days else {
        return Ok(done(
            &to,
            "Nothing was archived: days to keep must be a whole number of 1 or more.",
        ));
    };
    let r = api_archive(
        State(s),
        page.auth.clone(),
        page.idem(&f),
        Path(g),
        crate::web::body::Body(ArchiveRequest { days_to_keep }),
    )
    .await?
    .0;
    Ok(done(
        &to,
        &format!("Archived {} entries of {} member(s).", r.archived, r.users),
    ))
}
