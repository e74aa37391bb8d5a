//! The JSON API handlers, one file per area, and the response shapes they share. Every route is
//! registered here through `OpenApiRouter::routes`, so it is in the OpenAPI document.
//! Services (shop, tasks, announcements, config) plug in by adding a file and a `routes!` line.

pub mod announcements;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod command_log;
pub mod commands;
pub mod guild;
pub mod health;
pub mod instance;
pub mod shop;
pub mod status;
pub mod tasks;
pub mod transactions;
pub mod users;

use axum::body::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::WebState;
use crate::domain::{Account, IdemKey, Source, Transaction, UserId};
use crate::economy::OpMeta;
use crate::error::Error;
use crate::services::Services;
use crate::web::auth::Auth;

/// Every documented API route.
pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(health::health))
        .routes(routes!(health::ready))
        .routes(routes!(status::status))
        .routes(routes!(status::servers))
        .routes(routes!(users::list_users))
        .routes(routes!(users::get_user))
        .routes(routes!(users::set_balance))
        .routes(routes!(users::inactive_users))
        .routes(routes!(users::cleanup_users))
        .routes(routes!(users::reactivate_user))
        .routes(routes!(transactions::list_transactions))
        .routes(routes!(transactions::statistics))
        .routes(routes!(transactions::get_transaction))
        .routes(routes!(transactions::validate))
        .routes(routes!(transactions::reverse))
        .routes(routes!(transactions::archive))
        .routes(routes!(crate::web::export::export_transactions))
        .routes(routes!(audit::audit_log))
        .routes(routes!(command_log::command_log))
        .routes(routes!(shop::list_items, shop::create_item))
        .routes(routes!(shop::get_item, shop::edit_item, shop::delete_item))
        .routes(routes!(shop::update_stock))
        .routes(routes!(shop::bulk_update))
        .routes(routes!(shop::inventory, shop::add_inventory))
        .routes(routes!(shop::remove_inventory))
        .routes(routes!(tasks::list_tasks, tasks::create_task))
        .routes(routes!(
            tasks::get_task,
            tasks::edit_task,
            tasks::delete_task
        ))
        .routes(routes!(tasks::close_task))
        .routes(routes!(tasks::reopen_task))
        .routes(routes!(tasks::task_claims))
        .routes(routes!(tasks::submissions))
        .routes(routes!(tasks::accept_claim))
        .routes(routes!(tasks::reject_claim))
        .routes(routes!(
            announcements::list_announcements,
            announcements::create_announcement
        ))
        .routes(routes!(
            announcements::get_announcement,
            announcements::edit_announcement,
            announcements::delete_announcement
        ))
        .routes(routes!(announcements::pin))
        .routes(routes!(announcements::unpin))
        .routes(routes!(announcements::announce_task))
        .routes(routes!(
            announcements::list_embeds,
            announcements::create_embed
        ))
        .routes(routes!(
            announcements::get_embed,
            announcements::edit_embed,
            announcements::delete_embed
        ))
        .routes(routes!(guild::get_config, guild::put_config))
        .routes(routes!(guild::channels))
        .routes(routes!(guild::roles))
        .routes(routes!(guild::members))
        .routes(routes!(guild::role_grants))
        .routes(routes!(guild::sync_records))
        .routes(routes!(guild::retry_sync))
        .routes(routes!(guild::repost_sync))
        .routes(routes!(commands::list_legacy, commands::create_legacy))
        .routes(routes!(commands::delete_legacy))
        .routes(routes!(commands::list_commands, commands::create_command))
        .routes(routes!(commands::delete_command))
        .routes(routes!(instance::get_settings, instance::put_settings))
        .routes(routes!(instance::export_instance))
        .routes(routes!(instance::get_logs, instance::clear_logs))
        .routes(routes!(instance::get_bot_status, instance::put_bot_status))
        .routes(routes!(instance::restart))
        .routes(routes!(backups::list_backups, backups::create_backup))
        .routes(routes!(backups::backup_attempts))
        .routes(routes!(backups::download_backup))
        .routes(routes!(backups::verify_backup))
        .routes(routes!(crate::web::sse::stream))
        .routes(routes!(crate::web::sse::send_test_event))
}

/// The `OpMeta` of a dashboard write: the logged-in account as actor, and the request's
/// `Idempotency-Key`, if any, whose fingerprint (method, path, query, body) also covers the
/// actor, so one key sent by two accounts is two different requests.
pub fn dashboard_meta(auth: &Auth, idempotency_key: Option<IdemKey>) -> OpMeta {
    let actor = auth.actor();
    let idempotency_key = idempotency_key.map(|k| {
        let fingerprint = crate::web::idempotency::fingerprint(&[
            k.fingerprint().as_bytes(),
            actor.to_string().as_bytes(),
        ]);
        k.with_fingerprint(fingerprint)
    });
    OpMeta {
        actor,
        source: Source::Dashboard,
        idempotency_key,
    }
}

/// Runs service work on a blocking thread.
pub async fn blocking<T: Send + 'static>(
    state: &WebState,
    f: impl FnOnce(Services) -> Result<T, Error> + Send + 'static,
) -> ApiResult<T> {
    let services = state.services.clone();
    Ok(crate::services::blocking(move || f(services)).await?)
}

/// A JSON body that may be absent (empty body = `T::default()`).
pub fn optional_json<T: DeserializeOwned + Default>(body: &Bytes) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    crate::web::body::parse(body)
}

/// A member id filter as the document declares it (`contract::ID_FILTER_PATTERN`): an id, or
/// blank for none.
pub fn parse_user(field: &str, s: &str) -> ApiResult<UserId> {
    Some(s)
        .filter(|s| crate::web::contract::is_id(s))
        .and_then(|s| s.parse::<u64>().ok())
        .map(UserId)
        .ok_or_else(|| ApiError::invalid_param(field, format!("{field}: `{s}` is not a user id")))
}

/// `2026-03-01T12:00:00Z` or `2026-03-01` (midnight UTC; with `end_of_day`, the next midnight,
/// so an end date includes its whole day).
pub fn parse_date(field: &str, s: &str, end_of_day: bool) -> ApiResult<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end_of_day {
            d.succ_opt().unwrap_or(d)
        } else {
            d
        };
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Err(ApiError::invalid_param(
        field,
        format!("{field}: `{s}` is not a date (YYYY-MM-DD or RFC 3339)"),
    ))
}

/// A member's account as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccountView {
    pub user_id: String,
    pub balance: i64,
    pub total_earned: i64,
    pub total_spent: i64,
    pub created_at: DateTime<Utc>,
    pub last_daily: Option<DateTime<Utc>>,
    pub last_active: DateTime<Utc>,
    pub active: bool,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        AccountView {
            user_id: a.user.to_string(),
            balance: a.balance.get(),
            total_earned: a.total_earned.get(),
            total_spent: a.total_spent.get(),
            created_at: a.created_at,
            last_daily: a.last_daily,
            last_active: a.last_active,
            active: a.active,
        }
    }
}

/// One ledger entry as the API shows it (field names follow the old bot's transaction log).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransactionView {
    pub id: u64,
    pub guild_id: String,
    pub user_id: String,
    pub amount: i64,
    pub balance_before: i64,
    pub balance_after: i64,
    /// daily, transfer_send, admin_add, shop_purchase, refund...
    #[serde(rename = "type")]
    pub kind: String,
    pub description: String,
    pub timestamp: DateTime<Utc>,
    /// `user:<id>`, `dashboard:<name>`, `system` or `cli`.
    pub actor: String,
    pub source: String,
    /// Entries written by one operation share the id of its first entry.
    pub group: u64,
    /// For refunds: the entry this one reverses.
    pub reverses: Option<u64>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

pub fn source_name(s: crate::domain::Source) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl From<Transaction> for TransactionView {
    fn from(t: Transaction) -> Self {
        TransactionView {
            id: t.id,
            guild_id: t.guild.to_string(),
            user_id: t.user.to_string(),
            amount: t.amount.get(),
            balance_before: t.balance_before.get(),
            balance_after: t.balance_after.get(),
            kind: t.kind.as_str().to_owned(),
            description: t.description,
            timestamp: t.at,
            actor: t.actor.to_string(),
            source: source_name(t.source),
            group: t.group,
            reverses: t.reverses,
            metadata: serde_json::to_value(t.metadata).unwrap_or_default(),
        }
    }
}
