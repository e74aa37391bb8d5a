//! The audit log of one server: who changed what, newest first, filtered by action prefix.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::blocking;
use crate::domain::GuildId;
use crate::guild::AuditEntry;
use crate::guild::AuditFilter;
use crate::web::auth::Auth;
use crate::web::error::{ApiResult, ErrorBody, Json, Path, Query};
use crate::web::WebState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only actions starting with this, e.g. `balance.` or `shop.item`.
    pub action: Option<String>,
    #[param(inline)]
    pub page: Option<crate::web::contract::PageNo>,
    /// 1 to 200 (default 50).
    #[param(inline)]
    pub per_page: Option<crate::web::contract::Ranged<1, 200>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditView {
    pub id: u64,
    pub at: DateTime<Utc>,
    /// `dashboard:<name>`, `user:<id>`, `system` or `cli`.
    pub actor: String,
    pub action: String,
    pub target: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        AuditView {
            id: e.id,
            at: e.at,
            actor: e.actor.to_string(),
            action: e.action,
            target: e.target,
            before: e.before,
            after: e.after,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditView>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// Admin changes in one server, newest first.
#[utoipa::path(get, path = "/api/audit/{server_id}", tag = "audit",
    params(("server_id" = String, Path), AuditQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody)))]
pub async fn audit_log(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let per_page = q.per_page.map_or(50, |p| p.get());
    let page = q.page.map_or(1, |p| p.get());
    let filter = AuditFilter {
        action: q.action,
        offset: (page - 1).saturating_mul(per_page),
        limit: per_page,
        ..AuditFilter::default()
    };
    let found = blocking(&s, move |svc| svc.guilds.list_audit(guild, &filter)).await?;
    Ok(Json(AuditPage {
        items: found.items.into_iter().map(AuditView::from).collect(),
        total: found.total,
        page,
        per_page,
    }))
}
