//! A server's tasks: the paged list with the create form and the review queue (accept / reject).
//! One task's page is `task.rs`. Every change runs the API's handler (`api::tasks`), so a page
//! and its endpoint share one call.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::{form_error, input, textarea, FieldErrors, Fields, Filled};
use super::guild::respond;
use super::layout::{money, pager, time_opt, GuildHead};
use super::{csrf_field, done, Page, PageResult};
use crate::domain::tasks::{NewTask, Task};
use crate::domain::{GuildId, RoleId, UserId};
use crate::web::api::tasks::{
    accept_claim, create_task, list_tasks, reject_claim, submissions, TaskQuery,
};
use crate::web::error::{ApiError, Path, Query as ApiQuery};
use crate::web::WebState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/servers/{g}/tasks", get(tasks).post(create))
        .route("/servers/{g}/tasks/{id}/claims/{u}/review", post(review))
        .merge(super::task::routes())
}

pub(super) const TASK_EVENTS: &str = "task_created,task_updated,task_deleted,task_claimed,claim_submitted,claim_accepted,claim_rejected,claims_expired,sync_changed";
const PER_PAGE: u64 = 25;

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    pub page: Option<u64>,
    pub status: Option<String>,
    pub done: Option<String>,
}

pub(super) fn task_fields(f: &Filled, t: Option<&Task>) -> Markup {
    let e = &f.errors;
    let d = |name: &str, v: String| f.value(name, &v);
    html! {
        div.grid {
            (input("Name", "name", "text", &d("name", t.map(|t| t.name.clone()).unwrap_or_default()), e, true))
            (input("Reward", "reward", "text", &d("reward", t.map(|t| t.reward.get().to_string()).unwrap_or_default()), e, true))
            (input("Hours to finish", "duration_hours", "text", &d("duration_hours", t.map(|t| t.duration_hours.to_string()).unwrap_or_else(|| "24".into())), e, true))
            (input("Most claims (-1: unlimited)", "max_claims", "text", &d("max_claims", t.map(|t| t.max_claims.to_string()).unwrap_or_else(|| "-1".into())), e, false))
            (input("Category", "category", "text", &d("category", t.map(|t| t.category.clone()).unwrap_or_default()), e, false))
            (input("Role reward (role id)", "role_id", "text", &d("role_id", t.and_then(|t| t.role_id).map(|r| r.to_string()).unwrap_or_default()), e, false))
            (input("Closes at (UTC, YYYY-MM-DD HH:MM; blank: never)", "expires_at", "text", &d("expires_at", t.and_then(|t| t.expires_at).map(|x| x.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()), e, false))
        }
        (textarea("Description", "description", &d("description", t.map(|t| t.description.clone()).unwrap_or_default()), e))
    }
}

pub(super) fn parse_task(f: &Fields) -> Result<NewTask, FieldErrors> {
    let mut e = FieldErrors::default();
    let reward = f.int("reward", &mut e);
    let hours = f.int("duration_hours", &mut e);
    let max_claims = f.opt_int("max_claims", &mut e);
    let role_id = match f.get("role_id") {
        "" => None,
        r => match r.parse::<u64>() {
            Ok(id) => Some(RoleId(id)),
            Err(_) => {
                e.add("role_id", "A role id is digits (leave it blank for none).");
                None
            }
        },
    };
    let expires_at = match f.get("expires_at") {
        "" => None,
        v => match chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M")
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M"))
        {
            Ok(t) => Some(t.and_utc()),
            Err(_) => {
                e.add(
                    "expires_at",
                    "Write it as YYYY-MM-DD HH:MM (UTC), or leave it blank.",
                );
                None
            }
        },
    };
    let hours = hours.and_then(|h| match u32::try_from(h) {
        Ok(h) => Some(h),
        Err(_) => {
            e.add("duration_hours", "Enter 1 or more hours.");
            None
        }
    });
    let (Some(reward), Some(hours), Some(max_claims), true) =
        (reward, hours, max_claims, e.is_empty())
    else {
        return Err(e);
    };
    Ok(NewTask {
        name: f.get("name").to_owned(),
        description: f.get("description").to_owned(),
        reward,
        duration_hours: hours,
        expires_at,
        max_claims: max_claims.unwrap_or(-1),
        category: f.get("category").to_owned(),
        role_id,
        role_name: None,
    })
}

pub(super) fn refused(e: ApiError) -> FieldErrors {
    FieldErrors::from_api(&e, &[], Some("_form"))
}

pub(super) fn claims_text(t: &Task) -> String {
    if t.max_claims < 0 {
        format!("{} / ∞", t.current_claims)
    } else {
        format!("{} / {}", t.current_claims, t.max_claims)
    }
}

/// `GET /servers/{g}/tasks`.
async fn tasks(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Query(p): Query<ListParams>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    let form = Filled::visit(p.done.clone(), p.page);
    render_tasks(&s, &page, &head, p, form).await
}

async fn render_tasks(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    p: ListParams,
    form: Filled,
) -> PageResult<Response> {
    let n = p.page.unwrap_or(1).max(1);
    let status = p.status.clone().filter(|s| !s.is_empty());
    let q = TaskQuery {
        status: status.as_deref().and_then(|v| v.parse().ok()),
        category: None,
        offset: Some(super::ranged((n - 1) * PER_PAGE)),
        limit: Some(super::ranged(PER_PAGE)),
    };
    let list = list_tasks(
        State(s.clone()),
        page.auth.clone(),
        Path(head.id),
        ApiQuery(q),
    )
    .await?
    .0;
    let queue = submissions(State(s.clone()), page.auth.clone(), Path(head.id))
        .await?
        .0;
    let base = head.url(&format!(
        "/tasks?status={}",
        status.clone().unwrap_or_default()
    ));
    let body = html! {
        form.filters method="get" action=(head.url("/tasks")) {
            div.field {
                label for="f-status" { "Status" }
                select #f-status name="status" {
                    @for (v, l) in [("", "All"), ("active", "Active"), ("closed", "Closed"), ("expired", "Expired")] {
                        option value=(v) selected[status.as_deref().unwrap_or("") == v] { (l) }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        h2 { "Review queue" }
        div.table-wrap #review-queue data-live=(TASK_EVENTS) {
            table {
                thead { tr { th { "Task" } th { "Member" } th { "Proof" } th { "Submitted" } th { "" } } }
                tbody {
                    @for cw in &queue {
                        tr {
                            td { a href=(head.url(&format!("/tasks/{}", cw.task.id))) { (cw.task.name) } }
                            td { a href=(head.url(&format!("/users/{}", cw.claim.user))) { (cw.claim.user) } }
                            td { (cw.claim.proof_content)
                                @for url in &cw.claim.proof_attachments { br; a href=(url) rel="noopener noreferrer" { "attachment" } } }
                            td { (time_opt(cw.claim.submitted_at)) }
                            td {
                                @if page.can_write() {
                                    form.inline method="post" action=(head.url(&format!("/tasks/{}/claims/{}/review", cw.task.id, cw.claim.user))) {
                                        (csrf_field(page))
                                        button.small type="submit" name="decision" value="accept" { "Accept" }
                                    }
                                    details.confirm-step {
                                        summary.button.small { "Reject…" }
                                        form method="post" action=(head.url(&format!("/tasks/{}/claims/{}/review", cw.task.id, cw.claim.user))) {
                                            (csrf_field(page))
                                            (input("Reason (shown to the member)", "reason", "text", "", &FieldErrors::default(), true))
                                            button.small.danger type="submit" name="decision" value="reject" { "Reject" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if queue.is_empty() { tr { td colspan="5" { "Nothing waits for review." } } }
                }
            }
        }
        h2 { "Tasks" }
        div.table-wrap #task-list data-live=(TASK_EVENTS) {
            table {
                thead { tr { th { "Task" } th.num { "Reward" } th { "Status" } th.num { "Claims" } th.num { "Done" } th { "Closes" } } }
                tbody {
                    @for t in &list.items {
                        tr {
                            td { a href=(head.url(&format!("/tasks/{}", t.id))) { (t.name) } " " span.muted { (t.category) } }
                            td.num { (money(head, t.reward.get())) }
                            td { span.badge.ok[t.status.as_str() == "active"] { (t.status.as_str()) } }
                            td.num { (claims_text(t)) }
                            td.num { (t.completed) }
                            td { (time_opt(t.expires_at)) }
                        }
                    }
                    @if list.items.is_empty() { tr { td colspan="6" { "No tasks." } } }
                }
            }
        }
        (pager(&base, n, list.total.div_ceil(PER_PAGE)))
        @if page.can_write() {
            form.panel method="post" action=(head.url("/tasks")) #create-task {
                h2 { "New task" }
                (csrf_field(page))
                (form_error(&form.errors))
                (task_fields(&form, None))
                button type="submit" { "Create task" }
            }
        }
    };
    Ok(respond(page, head, ("Tasks", "tasks"), &form, body))
}

/// `POST /servers/{g}/tasks`.
async fn create(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let head = GuildHead::load(&s, g).await?;
    let result = match parse_task(&f) {
        Ok(new) => create_task(
            State(s.clone()),
            page.auth.clone(),
            page.idem(&f),
            Path(head.id),
            crate::web::body::Body(new),
        )
        .await
        .map(|(_, t)| t.0)
        .map_err(refused),
        Err(e) => Err(e),
    };
    match result {
        Ok(t) => Ok(done(&head.url("/tasks"), &format!("Created {}.", t.name))),
        Err(errors) => {
            render_tasks(
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

/// `POST /servers/{g}/tasks/{id}/claims/{u}/review` (`decision` = accept or reject, `reason`).
async fn review(
    State(s): State<WebState>,
    page: Page,
    Path((g, id, u)): Path<(GuildId, u64, UserId)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let g = super::server(g)?;
    let (auth, key) = (page.auth.clone(), page.idem(&f));
    let note = if f.get("decision") == "reject" {
        let body = Bytes::from(serde_json::json!({ "reason": f.get("reason") }).to_string());
        reject_claim(State(s), auth, key, Path((g, id, u)), body).await?;
        format!("Rejected the submission of {u}.")
    } else {
        accept_claim(State(s), auth, key, Path((g, id, u))).await?;
        format!("Accepted the submission of {u}; the reward is paid.")
    };
    Ok(done(&format!("/servers/{g}/tasks"), &note))
}
