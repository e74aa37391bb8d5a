//! Members of one server: the paged list, one member, balance adjustments, and inactive-member
//! cleanup / reactivation. Writes go through `Economy` with a `Dashboard` actor.

use std::cmp::Ordering;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, dashboard_meta, AccountView, TransactionView};
use crate::domain::{DomainError, GuildId, Money, UserId, MAX_AMOUNT};
use crate::economy::Adjustment;
use crate::web::auth::{Auth, IdempotencyKey};
use crate::web::error::{ApiError, ApiResult, ErrorBody, Json, Path, Query};
use crate::web::WebState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Page number, from 1 (default 1).
    #[param(inline)]
    pub page: Option<crate::web::contract::PageNo>,
    /// 1 to 100 (default 50).
    #[param(inline)]
    pub per_page: Option<crate::web::contract::Ranged<1, 100>>,
    /// balance (default), total_earned, user_id or last_active.
    #[param(inline)]
    pub sort_by: Option<crate::web::contract::UserSortWord>,
    /// desc (default) or asc.
    #[param(inline)]
    pub order: Option<crate::web::contract::OrderWord>,
    /// Include members marked inactive (default false).
    pub include_inactive: Option<bool>,
    /// Only user ids starting with these digits.
    pub search: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<AccountView>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub pages: u64,
}

/// Lists a server's members with their balances.
#[utoipa::path(get, path = "/api/{server_id}/users", tag = "users",
    params(("server_id" = String, Path, description = "Discord server id"), UserListQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = UserPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_users(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<UserListQuery>,
) -> ApiResult<Json<UserPage>> {
    let per_page = q.per_page.map_or(50, |p| p.get());
    let page = q.page.map_or(1, |p| p.get());
    let sort = q.sort_by.map_or("balance", |w| w.as_str());
    let asc = q.order.is_some_and(|w| w.as_str() == "asc");
    let search = q.search.unwrap_or_default().trim().to_owned();
    if !search.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid_param(
            "search",
            "search is a user id prefix (digits)",
        ));
    }
    let include_inactive = q.include_inactive.unwrap_or(false);
    let offset = (page - 1).saturating_mul(per_page);
    if sort == "balance" && search.is_empty() && !include_inactive {
        // The default view: a page from the leaderboard index, no scan of the server.
        let (accounts, total) = blocking(&s, move |svc| {
            svc.economy
                .accounts_by_balance(guild, offset, per_page, !asc)
        })
        .await?;
        return Ok(Json(UserPage {
            items: accounts.into_iter().map(AccountView::from).collect(),
            total,
            page,
            per_page,
            pages: total.div_ceil(per_page),
        }));
    }
    let sort = sort.to_owned();
    let mut accounts = blocking(&s, move |svc| svc.economy.accounts(guild)).await?;
    accounts.retain(|a| (include_inactive || a.active) && a.user.to_string().starts_with(&search));
    accounts.sort_by(|a, b| {
        let o = match sort.as_str() {
            "total_earned" => a.total_earned.cmp(&b.total_earned),
            "user_id" => a.user.cmp(&b.user),
            "last_active" => a.last_active.cmp(&b.last_active),
            _ => a.balance.cmp(&b.balance),
        }
        .then(a.user.cmp(&b.user));
        if asc {
            o
        } else {
            o.reverse()
        }
    });
    let total = accounts.len() as u64;
    let items = accounts
        .into_iter()
        .skip(offset.min(usize::MAX as u64) as usize)
        .take(per_page as usize)
        .map(AccountView::from)
        .collect();
    Ok(Json(UserPage {
        items,
        total,
        page,
        per_page,
        pages: total.div_ceil(per_page),
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserDetail {
    pub account: AccountView,
    /// The ten newest ledger entries.
    pub recent_transactions: Vec<TransactionView>,
}

/// One member's account and latest entries.
#[utoipa::path(get, path = "/api/{server_id}/users/{user_id}", tag = "users",
    params(("server_id" = String, Path), ("user_id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = UserDetail), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(s): State<WebState>,
    _auth: Auth,
    Path((guild, user)): Path<(GuildId, UserId)>,
) -> ApiResult<Json<UserDetail>> {
    let detail = blocking(&s, move |svc| {
        let account = svc
            .economy
            .find_account(guild, user)?
            .ok_or_else(|| DomainError::NotFound(format!("User {user} in this server")))?;
        let recent = svc.economy.history(guild, user, 1, 10)?.items;
        Ok(UserDetail {
            account: account.into(),
            recent_transactions: recent.into_iter().map(Into::into).collect(),
        })
    })
    .await?;
    Ok(Json(detail))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BalanceRequest {
    /// With `set`: the new balance. Otherwise: positive adds, negative removes.
    pub amount: i64,
    #[serde(default)]
    pub set: bool,
    /// Kept in the ledger entry and the audit log (at most 500 characters).
    #[serde(default)]
    pub reason: String,
}

impl BalanceRequest {
    /// The adjustment asked for, parsed at the edge with Discord's limits and words: a balance to
    /// set is `0..=MAX_AMOUNT`; a change adds or removes `1..=MAX_AMOUNT`.
    fn adjustment(&self) -> Result<Adjustment, DomainError> {
        let a = self.amount;
        if self.set {
            return Money::non_negative(a, MAX_AMOUNT).map(Adjustment::Set);
        }
        match a.cmp(&0) {
            Ordering::Greater => Money::positive(a, MAX_AMOUNT).map(Adjustment::Add),
            // i64::MIN has no positive twin; i64::MAX is just as far above the bound.
            Ordering::Less => Money::positive(a.checked_neg().unwrap_or(i64::MAX), MAX_AMOUNT)
                .map(Adjustment::Remove),
            Ordering::Equal => Err(DomainError::InvalidAmount(
                "the amount must not be 0".into(),
            )),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BalanceResponse {
    pub user_id: String,
    pub balance_before: i64,
    pub balance: i64,
    /// Absent when `set` named the balance the member already had.
    pub transaction: Option<TransactionView>,
}

/// Adds to, removes from, or sets a member's balance (admin).
#[utoipa::path(put, path = "/api/{server_id}/users/{user_id}/balance", tag = "users",
    params(("server_id" = String, Path), ("user_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    request_body = BalanceRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = BalanceResponse), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_balance(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, user)): Path<(GuildId, UserId)>,
    crate::web::body::Body(req): crate::web::body::Body<BalanceRequest>,
) -> ApiResult<Json<BalanceResponse>> {
    let adjustment = req.adjustment()?;
    let meta = dashboard_meta(&auth, key);
    let out = blocking(&s, move |svc| {
        svc.economy
            .adjust(guild, user, adjustment, &req.reason, &meta)
    })
    .await?;
    Ok(Json(BalanceResponse {
        user_id: user.to_string(),
        balance_before: out.balance_before.get(),
        balance: out.balance.get(),
        transaction: out.transaction.map(Into::into),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InactiveQuery {
    /// Idle for at least this many days (default 30).
    #[param(inline)]
    pub days: Option<crate::web::contract::Ranged<0, { crate::economy::MAX_DAYS as u64 }>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InactiveUsers {
    pub days: u32,
    pub items: Vec<AccountView>,
}

/// Active members with no activity for `days` days, least recently active first.
#[utoipa::path(get, path = "/api/{server_id}/users/inactive", tag = "users",
    params(("server_id" = String, Path), InactiveQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = InactiveUsers), (status = 400, body = ErrorBody)))]
pub async fn inactive_users(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<InactiveQuery>,
) -> ApiResult<Json<InactiveUsers>> {
    // Ranged keeps it within MAX_DAYS, so it fits a u32.
    let days = q.days.map_or(30, |d| d.get() as u32);
    let items = blocking(&s, move |svc| svc.economy.inactive(guild, days)).await?;
    Ok(Json(InactiveUsers {
        days,
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CleanupRequest {
    /// Mark members idle for at least this many days inactive (at least 1).
    pub days: u32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CleanupResponse {
    pub deactivated: Vec<String>,
    pub count: u64,
}

/// Marks idle members inactive (off the leaderboard; their data is kept).
#[utoipa::path(post, path = "/api/{server_id}/users/cleanup", tag = "users",
    params(("server_id" = String, Path)),
    request_body = CleanupRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CleanupResponse), (status = 422, body = ErrorBody)))]
pub async fn cleanup_users(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path(guild): Path<GuildId>,
    crate::web::body::Body(req): crate::web::body::Body<CleanupRequest>,
) -> ApiResult<Json<CleanupResponse>> {
    let meta = dashboard_meta(&auth, key);
    let users = blocking(&s, move |svc| {
        svc.economy.mark_inactive(guild, req.days, &meta)
    })
    .await?;
    Ok(Json(CleanupResponse {
        count: users.len() as u64,
        deactivated: users.iter().map(UserId::to_string).collect(),
    }))
}

/// Puts an inactive member back on the leaderboard.
#[utoipa::path(post, path = "/api/{server_id}/users/{user_id}/reactivate", tag = "users",
    params(("server_id" = String, Path), ("user_id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = AccountView), (status = 404, body = ErrorBody)))]
pub async fn reactivate_user(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, user)): Path<(GuildId, UserId)>,
) -> ApiResult<Json<AccountView>> {
    let meta = dashboard_meta(&auth, key);
    let a = blocking(&s, move |svc| svc.economy.reactivate(guild, user, &meta)).await?;
    Ok(Json(a.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(amount: i64, set: bool) -> Result<Adjustment, String> {
        let req = BalanceRequest {
            amount,
            set,
            reason: String::new(),
        };
        req.adjustment().map_err(|e| e.to_string())
    }

    #[test]
    fn a_balance_change_is_a_nonzero_amount_within_the_bound_either_way() {
        let m = Money::new;
        assert_eq!(parse(5, false), Ok(Adjustment::Add(m(5))));
        assert_eq!(parse(-5, false), Ok(Adjustment::Remove(m(5))));
        assert_eq!(parse(MAX_AMOUNT, false), Ok(Adjustment::Add(m(MAX_AMOUNT))));
        assert_eq!(
            parse(-MAX_AMOUNT, false),
            Ok(Adjustment::Remove(m(MAX_AMOUNT)))
        );
        assert!(parse(0, false).unwrap_err().contains("must not be 0"));
        for too_much in [MAX_AMOUNT + 1, -MAX_AMOUNT - 1, i64::MAX, i64::MIN] {
            let err = parse(too_much, false).unwrap_err();
            assert!(
                err.contains("at most 1,000,000,000,000"),
                "{too_much}: {err}"
            );
        }
    }

    #[test]
    fn a_balance_to_set_may_be_zero_but_not_negative_or_above_the_bound() {
        assert_eq!(parse(0, true), Ok(Adjustment::Set(Money::ZERO)));
        assert_eq!(
            parse(MAX_AMOUNT, true),
            Ok(Adjustment::Set(Money::new(MAX_AMOUNT)))
        );
        assert!(parse(-1, true).unwrap_err().contains("more than 0"));
        assert!(parse(i64::MIN, true).unwrap_err().contains("more than 0"));
        assert!(parse(MAX_AMOUNT + 1, true).unwrap_err().contains("at most"));
        assert!(parse(i64::MAX, true).unwrap_err().contains("at most"));
    }
}
