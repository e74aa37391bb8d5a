//! One server's command log: every Discord command or component use (name, user, duration,
//! outcome), newest first, filtered and paged. Read-only; rows are written by the Discord side.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, parse_date, parse_user};
use crate::domain::GuildId;
use crate::guild::{CommandLogEntry, CommandLogFilter};
use crate::web::auth::Auth;
use crate::web::error::{ApiResult, ErrorBody, Json, Path, Query};
use crate::web::WebState;

/// Filters and paging of the command log.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommandLogQuery {
    /// Only this member's uses.
    pub user: Option<String>,
    /// Only this command (qualified name as logged, e.g. `admin money add`).
    pub command: Option<String>,
    /// `ok`, `error` (anything but ok), or an exact outcome such as `denied`,
    /// `insufficient_funds`, `internal`.
    pub outcome: Option<String>,
    /// From this moment (YYYY-MM-DD or RFC 3339), inclusive.
    pub start_date: Option<String>,
    /// Until this moment; a plain date includes that whole day.
    pub end_date: Option<String>,
    /// Page size: 1 to 500 (default 50).
    #[param(inline)]
    pub limit: Option<crate::web::contract::Ranged<1, 500>>,
    #[param(inline)]
    pub offset: Option<crate::web::contract::Offset>,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl CommandLogQuery {
    /// Validates into the store's filter; a bad value names its parameter.
    pub fn to_filter(&self) -> ApiResult<CommandLogFilter> {
        let user = (self.user.as_deref())
            .filter(|s| !s.is_empty())
            .map(|s| parse_user("user", s))
            .transpose()?;
        let from = non_empty(&self.start_date)
            .map(|s| parse_date("start_date", s, false))
            .transpose()?;
        // An end at or before the start is an empty window, not an error.
        let to = non_empty(&self.end_date)
            .map(|s| parse_date("end_date", s, true))
            .transpose()?
            .map(|t| from.map_or(t, |f| t.max(f)));
        let limit = self.limit.map_or(50, |l| l.get());
        Ok(CommandLogFilter {
            user,
            command: non_empty(&self.command).map(str::to_owned),
            outcome: non_empty(&self.outcome).map(str::to_lowercase),
            from,
            to,
            offset: self.offset.map_or(0, |o| o.get()),
            limit,
        })
    }
}

/// One command use as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommandLogView {
    pub id: u64,
    pub at: DateTime<Utc>,
    /// Qualified command name, or a component's custom-id prefix.
    pub command: String,
    /// `command`, `component` or `custom_command`.
    pub kind: String,
    pub user_id: String,
    pub duration_ms: u64,
    /// `ok`, or an error kind such as `denied`, `insufficient_funds`, `internal`.
    pub outcome: String,
}

impl From<CommandLogEntry> for CommandLogView {
    fn from(e: CommandLogEntry) -> Self {
        CommandLogView {
            id: e.id,
            at: e.at,
            command: e.command,
            kind: e.kind,
            user_id: e.user.to_string(),
            duration_ms: e.duration_ms,
            outcome: e.outcome,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommandLogPageView {
    pub items: Vec<CommandLogView>,
    /// Rows matching the filters, over all pages.
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

/// The server's command log, newest first, filtered and paged.
#[utoipa::path(get, path = "/api/{server_id}/command-log", tag = "audit",
    params(("server_id" = String, Path), CommandLogQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CommandLogPageView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn command_log(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<CommandLogQuery>,
) -> ApiResult<Json<CommandLogPageView>> {
    let filter = q.to_filter()?;
    let page = blocking(&s, move |svc| svc.command_log.list(guild, &filter)).await?;
    Ok(Json(CommandLogPageView {
        items: page.items.into_iter().map(Into::into).collect(),
        total: page.total,
        offset: page.offset,
        limit: page.limit,
    }))
}
