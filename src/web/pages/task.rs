//! One task's page: its reward, claims and their state, and (for admins) the edit form, close /
//! reopen, and delete after a confirmation step. Through `api::tasks`.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::html;

use super::forms::{form_error, Fields, Filled};
use super::guild::respond;
use super::layout::{money, time, GuildHead};
use super::tasks::{claims_text, parse_task, refused, task_fields, TASK_EVENTS};
use super::users::Note;
use super::{csrf_field, done, Page, PageResult};
use crate::domain::tasks::TaskPatch;
use crate::domain::GuildId;
use crate::web::api::tasks::{
    close_task, delete_task, edit_task, get_task, reopen_task, task_claims,
};
use crate::web::error::Path;
use crate::web::WebState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/servers/{g}/tasks/{id}", get(task).post(edit))
        .route("/servers/{g}/tasks/{id}/status", post(status))
        .route("/servers/{g}/tasks/{id}/delete", post(delete))
}

/// `GET /servers/{g}/tasks/{id}`.
async fn task(
    State(s): State<WebState>,
    page: Page,
    Path((g, id)): Path<(GuildId, u64)>,
    Query(n): Query<Note>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    render_task(&s, &page, &head, id, Filled::visit(n.done, None)).await
}

async fn render_task(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    id: u64,
    form: Filled,
) -> PageResult<Response> {
    let t = get_task(State(s.clone()), page.auth.clone(), Path((head.id, id)))
        .await?
        .0;
    let claims = task_claims(State(s.clone()), page.auth.clone(), Path((head.id, id)))
        .await?
        .0;
    let url = head.url(&format!("/tasks/{id}"));
    let body = html! {
        div #task-live data-live=(TASK_EVENTS) {
            div.cards {
                div.card { div.muted { "Reward" } div.big { (money(head, t.reward.get())) } }
                div.card { div.muted { "Status" } div.big { (t.status.as_str()) } }
                div.card { div.muted { "Claims" } div.big { (claims_text(&t)) } }
                div.card { div.muted { "Accepted" } div.big { (t.completed) } }
            }
            p { (t.description) }
            h2 { "Claims" }
            div.table-wrap {
                table {
                    thead { tr { th { "Member" } th { "Status" } th { "Claimed" } th { "Deadline" } th { "Proof" } } }
                    tbody {
                        @for c in &claims {
                            tr {
                                td { a href=(head.url(&format!("/users/{}", c.user))) { (c.user) } }
                                td { (serde_json::to_value(c.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) }
                                td { (time(c.claimed_at)) }
                                td { (time(c.deadline)) }
                                td { (c.proof_content) }
                            }
                        }
                        @if claims.is_empty() { tr { td colspan="5" { "No claims yet." } } }
                    }
                }
            }
        }
        @if page.can_write() {
            form.panel method="post" action=(url) {
                h2 { "Edit" }
                (csrf_field(page))
                (form_error(&form.errors))
                (task_fields(&form, Some(&t)))
                button type="submit" { "Save" }
            }
            section.panel {
                h2 { "Status and removal" }
                form.inline method="post" action=(format!("{url}/status")) {
                    (csrf_field(page))
                    @if t.status.as_str() == "active" {
                        button type="submit" name="to" value="close" { "Close to new claims" }
                    } @else {
                        button type="submit" name="to" value="reopen" { "Reopen" }
                    }
                }
                details.confirm-step {
                    summary.button.danger { "Delete…" }
                    p { "Delete " strong { (t.name) } " with its " (claims.len()) " claim(s) and its Discord messages? This cannot be undone." }
                    form.inline method="post" action=(format!("{url}/delete")) {
                        (csrf_field(page))
                        input type="hidden" name="confirm" value="yes";
                        button.danger type="submit" { "Yes, delete it" }
                    }
                }
            }
        }
        p { a href=(head.url("/tasks")) { "← All tasks" } }
    };
    Ok(respond(page, head, (&t.name, "tasks"), &form, body))
}

/// `POST /servers/{g}/tasks/{id}`: saves the edit form.
async fn edit(
    State(s): State<WebState>,
    page: Page,
    Path((g, id)): Path<(GuildId, u64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let head = GuildHead::load(&s, g).await?;
    let result = match parse_task(&f) {
        Ok(n) => {
            let patch = TaskPatch {
                name: Some(n.name),
                description: Some(n.description),
                reward: Some(n.reward),
                duration_hours: Some(n.duration_hours),
                expires_at: Some(n.expires_at),
                max_claims: Some(n.max_claims),
                category: Some(n.category),
                role_id: Some(n.role_id),
                role_name: None,
            };
            edit_task(
                State(s.clone()),
                page.auth.clone(),
                page.idem(&f),
                Path((head.id, id)),
                crate::web::body::Body(patch),
            )
            .await
            .map(|_| ())
            .map_err(refused)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(done(&head.url(&format!("/tasks/{id}")), "Saved.")),
        Err(errors) => render_task(&s, &page, &head, id, Filled::new(f, errors)).await,
    }
}

/// `POST /servers/{g}/tasks/{id}/status` (`to` = close or reopen).
async fn status(
    State(s): State<WebState>,
    page: Page,
    Path((g, id)): Path<(GuildId, u64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let g = super::server(g)?;
    let (auth, key) = (page.auth.clone(), page.idem(&f));
    let note = if f.get("to") == "reopen" {
        reopen_task(State(s), auth, key, Path((g, id))).await?;
        "Reopened."
    } else {
        close_task(State(s), auth, key, Path((g, id))).await?;
        "Closed to new claims."
    };
    Ok(done(&format!("/servers/{g}/tasks/{id}"), note))
}

/// `POST /servers/{g}/tasks/{id}/delete` (after the confirmation step).
async fn delete(
    State(s): State<WebState>,
    page: Page,
    Path((g, id)): Path<(GuildId, u64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let g = super::server(g)?;
    if f.get("confirm") != "yes" {
        return Ok(done(
            &format!("/servers/{g}/tasks/{id}"),
            "Nothing was deleted: confirm first.",
        ));
    }
    delete_task(State(s), page.auth.clone(), page.idem(&f), Path((g, id))).await?;
    Ok(done(&format!("/servers/{g}/tasks"), "Task deleted."))
}
