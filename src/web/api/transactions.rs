//! One server's ledger: the filtered list, statistics, one entry, integrity validation and
//! reversal. A transaction id is looked up only inside the server named in the path.

use axum::body::Bytes;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, dashboard_meta, optional_json, parse_date, parse_user, TransactionView};
use crate::domain::{GuildId, TxKind};
use crate::economy::{Period, TxFilter, TxSort};
use crate::web::auth::{Auth, IdempotencyKey};
use crate::web::contract::TxSortWord;
use crate::web::error::{ApiError, ApiResult, ErrorBody, Json, Path, Query};
use crate::web::WebState;

/// Filters shared by the list and the export.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TxQuery {
    /// Only this member's entries.
    pub user_id: Option<String>,
    /// Kind(s), comma separated: daily, transfer_send, admin_add, shop_purchase, refund...
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// From this moment (YYYY-MM-DD or RFC 3339), inclusive.
    pub start_date: Option<String>,
    /// Until this moment; a plain date includes that whole day.
    pub end_date: Option<String>,
    /// Page size: 1 to 1000 (default 50; the export defaults to everything).
    #[param(inline)]
    pub limit: Option<crate::web::contract::Ranged<1, 1000>>,
    #[param(inline)]
    pub offset: Option<crate::web::contract::Offset>,
    /// newest (default), oldest, amount_desc or amount_asc (desc, newest_first, asc and
    /// oldest_first are the old bot's names for newest and oldest).
    #[param(inline, value_type = Option<TxSortWord>)]
    pub sort: Option<String>,
    /// Also include entries moved to the archive (default false).
    pub include_archived: Option<bool>,
}

impl TxQuery {
    /// Validates into a `TxFilter`; `default_limit` 0 means "no limit".
    pub fn to_filter(&self, default_limit: u64) -> ApiResult<TxFilter> {
        let user = self
            .user_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| parse_user("user_id", s))
            .transpose()?;
        let mut kinds = Vec::new();
        for k in self
            .kind
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|k| !k.trim().is_empty())
        {
            kinds.push(TxKind::parse(k).ok_or_else(|| {
                ApiError::invalid_param(
                    "type",
                    format!("type: `{}` is not a transaction type", k.trim()),
                )
            })?);
        }
        let date = |field: &str, v: &Option<String>, end: bool| {
            v.as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|s| parse_date(field, s, end))
                .transpose()
        };
        let from = date("start_date", &self.start_date, false)?;
        // An end at or before the start is an empty window, not an error.
        let to = date("end_date", &self.end_date, true)?.map(|t| from.map_or(t, |f| t.max(f)));
        let limit = self.limit.map_or(default_limit, |l| l.get());
        let word = self
            .sort
            .as_deref()
            .unwrap_or("newest")
            .parse::<TxSortWord>()
            .map_err(|e| ApiError::invalid_param("sort", format!("sort {e}")))?;
        let sort = match word.as_str() {
            "oldest" | "asc" | "oldest_first" => TxSort::OldestFirst,
            "amount_desc" => TxSort::AmountDesc,
            "amount_asc" => TxSort::AmountAsc,
            _ => TxSort::NewestFirst,
        };
        Ok(TxFilter {
            user,
            kinds,
            from,
            to,
            offset: self.offset.map_or(0, |o| o.get()),
            limit,
            sort,
            include_archived: self.include_archived.unwrap_or(false),
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TransactionPage {
    pub items: Vec<TransactionView>,
    /// Entries matching the filters, over all pages.
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

/// The server's ledger entries, filtered, sorted and paged.
#[utoipa::path(get, path = "/api/{server_id}/transactions", tag = "transactions",
    params(("server_id" = String, Path), TxQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = TransactionPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_transactions(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<TxQuery>,
) -> ApiResult<Json<TransactionPage>> {
    let filter = q.to_filter(50)?;
    let page = blocking(&s, move |svc| svc.economy.transactions(guild, &filter)).await?;
    Ok(Json(TransactionPage {
        items: page.items.into_iter().map(Into::into).collect(),
        total: page.total,
        offset: page.offset,
        limit: page.limit,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    pub user_id: Option<String>,
    /// day, week, month or all (default); daily, weekly, monthly, 24h, 7d and 30d are the old
    /// bot's names for them.
    #[param(inline, value_type = Option<crate::web::contract::PeriodWord>)]
    pub period: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KindTotals {
    pub count: u64,
    pub sum: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Earner {
    pub user_id: String,
    pub amount: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatisticsView {
    pub period: String,
    pub from: Option<DateTime<Utc>>,
    pub to: DateTime<Utc>,
    pub user_id: Option<String>,
    pub earned: i64,
    pub spent: i64,
    pub net: i64,
    pub count: u64,
    pub by_type: std::collections::BTreeMap<String, KindTotals>,
    pub top_earners: Vec<Earner>,
    pub total_currency: i64,
    pub accounts: u64,
    pub active_accounts: u64,
}

/// Totals over a period: earned, spent, per type, top earners, currency in circulation.
#[utoipa::path(get, path = "/api/{server_id}/transactions/statistics", tag = "transactions",
    params(("server_id" = String, Path), StatsQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = StatisticsView), (status = 400, body = ErrorBody)))]
pub async fn statistics(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<StatsQuery>,
) -> ApiResult<Json<StatisticsView>> {
    let word = q
        .period
        .as_deref()
        .unwrap_or("all")
        .parse::<crate::web::contract::PeriodWord>()
        .map_err(|e| ApiError::invalid_param("period", format!("period {e}")))?;
    let period = Period::parse(word.as_str())
        .map_err(|_| ApiError::invalid_param("period", "period must be day, week, month or all"))?;
    let user = q
        .user_id
        .as_deref()
        .filter(|u| !u.is_empty())
        .map(|u| parse_user("user_id", u))
        .transpose()?;
    let st = blocking(&s, move |svc| svc.economy.statistics(guild, period, user)).await?;
    Ok(Json(StatisticsView {
        period: serde_json::to_value(st.period)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        from: st.from,
        to: st.to,
        user_id: st.user.map(|u| u.to_string()),
        earned: st.earned,
        spent: st.spent,
        net: st.net,
        count: st.count,
        by_type: st
            .by_kind
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    KindTotals {
                        count: v.count,
                        sum: v.sum,
                    },
                )
            })
            .collect(),
        top_earners: st
            .top_earners
            .into_iter()
            .map(|(u, a)| Earner {
                user_id: u.to_string(),
                amount: a,
            })
            .collect(),
        total_currency: st.total_currency,
        accounts: st.accounts,
        active_accounts: st.active_accounts,
    }))
}

/// One ledger entry of this server.
#[utoipa::path(get, path = "/api/{server_id}/transactions/{transaction_id}", tag = "transactions",
    params(("server_id" = String, Path), ("transaction_id" = u64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = TransactionView), (status = 404, body = ErrorBody)))]
pub async fn get_transaction(
    State(s): State<WebState>,
    _auth: Auth,
    Path((guild, id)): Path<(GuildId, u64)>,
) -> ApiResult<Json<TransactionView>> {
    let tx = blocking(&s, move |svc| svc.economy.transaction(guild, id)).await?;
    Ok(Json(tx.into()))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ValidateRequest {
    /// One member; omit to check the whole server.
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ValidationView {
    /// `user` or `guild`.
    pub scope: String,
    pub ok: bool,
    /// Expected vs stored balances and every problem found.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
}

/// Recomputes balances from the ledger and compares them with the stored ones. Changes nothing,
/// so viewers may run it too.
#[utoipa::path(post, path = "/api/{server_id}/transactions/validate", tag = "transactions",
    params(("server_id" = String, Path)),
    request_body(content = ValidateRequest, description = "Optional"),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = ValidationView), (status = 400, body = ErrorBody)))]
pub async fn validate(
    State(s): State<WebState>,
    _auth: crate::web::auth::ReadAuth,
    Path(guild): Path<GuildId>,
    body: Bytes,
) -> ApiResult<Json<ValidationView>> {
    let req: ValidateRequest = optional_json(&body)?;
    let user = req
        .user_id
        .as_deref()
        .filter(|u| !u.is_empty())
        .map(|u| parse_user("user_id", u))
        .transpose()?;
    let view = blocking(&s, move |svc| {
        let to_json = |v: serde_json::Result<serde_json::Value>| v.unwrap_or_default();
        Ok(match user {
            Some(u) => {
                let r = svc.economy.validate_user(guild, u)?;
                ValidationView {
                    scope: "user".into(),
                    ok: r.ok,
                    report: to_json(serde_json::to_value(&r)),
                }
            }
            None => {
                let r = svc.economy.validate_guild(guild)?;
                ValidationView {
                    scope: "guild".into(),
                    ok: r.ok,
                    report: to_json(serde_json::to_value(&r)),
                }
            }
        })
    })
    .await?;
    Ok(Json(view))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReverseRequest {
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReverseResponse {
    /// The entries undone (a transfer: all its legs).
    pub reversed: Vec<u64>,
    /// The compensating refund entries.
    pub refunds: Vec<TransactionView>,
}

/// Undoes an entry with compensating refunds (admin). An entry can be reversed once.
#[utoipa::path(post, path = "/api/{server_id}/transactions/{transaction_id}/reverse", tag = "transactions",
    params(("server_id" = String, Path), ("transaction_id" = u64, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    request_body = ReverseRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = ReverseResponse), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn reverse(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
    body: Bytes,
) -> ApiResult<Json<ReverseResponse>> {
    let req: ReverseRequest = optional_json(&body)?;
    let meta = dashboard_meta(&auth, key);
    let out = blocking(&s, move |svc| {
        svc.economy.reverse(guild, id, &req.reason, &meta)
    })
    .await?;
    Ok(Json(ReverseResponse {
        reversed: out.reversed,
        refunds: out.refunds.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchiveRequest {
    /// Entries older than this many days move to the archive (1 to 36500).
    pub days_to_keep: u32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ArchiveResponse {
    pub cutoff: DateTime<Utc>,
    pub archived: u64,
    /// Members with entries moved.
    pub users: u64,
    pub last_id: Option<u64>,
}

/// Moves entries older than `days_to_keep` days to the archive (admin). Balances and
/// validation are unchanged; archived entries stay readable by id and in
/// `GET .../transactions/export?include_archived=true`, but can't be reversed.
#[utoipa::path(post, path = "/api/{server_id}/transactions/archive", tag = "transactions",
    params(("server_id" = String, Path)),
    request_body = ArchiveRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = ArchiveResponse), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn archive(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path(guild): Path<GuildId>,
    crate::web::body::Body(req): crate::web::body::Body<ArchiveRequest>,
) -> ApiResult<Json<ArchiveResponse>> {
    let meta = dashboard_meta(&auth, key);
    let r = blocking(&s, move |svc| {
        svc.economy.archive(guild, req.days_to_keep, &meta)
    })
    .await?;
    Ok(Json(ArchiveResponse {
        cutoff: r.cutoff,
        archived: r.archived,
        users: r.users,
        last_id: r.last_id,
    }))
}
