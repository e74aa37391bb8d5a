//! A server's custom commands (list, create, delete after a confirmation step), and what the
//! other server pages share: their query parameters and frame. Config is `config.rs`; sync,
//! audit and command log are `records.rs`. Through `api::commands`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::html;
use serde::Deserialize;

use super::forms::{checkbox, form_error, input, textarea, FieldErrors, Fields, Filled};
use super::layout::{layout, pager, q, slice, time, Frame, GuildHead};
use super::{csrf_field, done, Page, PageResult};
use crate::domain::GuildId;
use crate::web::api::commands::{create_command, delete_command, list_commands, CommandRequest};
use crate::web::error::Path;
use crate::web::WebState;

/// Custom commands shown per page, by name.
const PER_PAGE: u64 = 25;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/servers/{g}/commands", get(commands).post(create))
        .route("/servers/{g}/commands/{name}/delete", post(delete))
        .merge(super::config::routes())
        .merge(super::records::routes())
}

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    pub page: Option<u64>,
    pub done: Option<String>,
    pub state: Option<String>,
    pub kind: Option<String>,
    pub action: Option<String>,
    pub user: Option<String>,
    pub command: Option<String>,
    pub outcome: Option<String>,
}

/// A server page: the layout around `body`, answered 200, or 422 when `form` was refused.
pub fn respond(
    page: &Page,
    head: &GuildHead,
    (title, active): (&str, &str),
    form: &Filled,
    body: maud::Markup,
) -> Response {
    let html = layout(frame(page, head, title, active, form.note()), body);
    (form.status(), html).into_response()
}

pub fn frame<'a>(
    page: &'a Page,
    head: &'a GuildHead,
    title: &'a str,
    active: &'a str,
    note: Option<&'a str>,
) -> Frame<'a> {
    Frame {
        page,
        title,
        guild: Some(head),
        active,
        note,
    }
}

/// `GET /servers/{g}/commands`.
async fn commands(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Query(p): Query<Params>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    render_commands(&s, &page, &head, Filled::visit(p.done, p.page)).await
}

async fn render_commands(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    form: Filled,
) -> PageResult<Response> {
    let list = list_commands(State(s.clone()), page.auth.clone(), Path(head.id))
        .await?
        .0;
    let (shown, n, pages) = slice(&list, form.n, PER_PAGE);
    let e = &form.errors;
    let body = html! {
        div.table-wrap #commands data-live="custom_command_changed" {
            table {
                thead { tr { th { "Command" } th { "Reply" } th { "Changed" } th { "" } } }
                tbody {
                    @for c in shown {
                        tr {
                            td { code { "/" (c.name) } }
                            td { (c.response) }
                            td { (time(c.updated_at)) }
                            td { @if page.can_write() {
                                details.confirm-step {
                                    summary.button.small.danger { "Delete…" }
                                    form method="post" action=(head.url(&format!("/commands/{}/delete", q(&c.name)))) {
                                        (csrf_field(page))
                                        input type="hidden" name="confirm" value="yes";
                                        button.small.danger type="submit" { "Yes, delete /" (c.name) }
                                    }
                                }
                            } }
                        }
                    }
                    @if list.is_empty() { tr { td colspan="4" { "No custom commands." } } }
                }
            }
        }
        (pager(&head.url("/commands"), n, pages))
        @if page.can_write() {
            form.panel method="post" action=(head.url("/commands")) #create-command {
                h2 { "New command" }
                (csrf_field(page))
                (form_error(e))
                (input("Name (a-z, 0-9, - and _)", "name", "text", &form.value("name", ""), e, true))
                (textarea("Reply ({user}, {server}, {balance} and {currency} are filled in)", "response", &form.value("response", ""), e))
                (checkbox("Replace a command of that name", "overwrite", form.fields.checked("overwrite")))
                button type="submit" { "Save command" }
            }
        }
    };
    Ok(respond(
        page,
        head,
        ("Custom commands", "commands"),
        &form,
        body,
    ))
}

/// `POST /servers/{g}/commands`.
async fn create(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let head = GuildHead::load(&s, g).await?;
    let req = CommandRequest {
        name: f.get("name").to_owned(),
        response: f.get("response").to_owned(),
        overwrite: f.checked("overwrite"),
    };
    match create_command(
        State(s.clone()),
        page.auth.clone(),
        page.idem(&f),
        Path(head.id),
        crate::web::body::Body(req),
    )
    .await
    {
        Ok((_, c)) => Ok(done(
            &head.url("/commands"),
            &format!("Saved /{}.", c.0.name),
        )),
        Err(e) => {
            let errors = FieldErrors::from_api(&e, &[], Some("name"));
            render_commands(&s, &page, &head, Filled::new(f, errors)).await
        }
    }
}

/// `POST /servers/{g}/commands/{name}/delete` (after the confirmation step).
async fn delete(
    State(s): State<WebState>,
    page: Page,
    Path((g, name)): Path<(GuildId, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let g = super::server(g)?;
    if f.get("confirm") != "yes" {
        return Ok(done(
            &format!("/servers/{g}/commands"),
            "Nothing was deleted: confirm first.",
        ));
    }
    delete_command(
        State(s),
        page.auth.clone(),
        page.idem(&f),
        Path((g, name.clone())),
    )
    .await?;
    Ok(done(
        &format!("/servers/{g}/commands"),
        &format!("Deleted /{name}."),
    ))
}
