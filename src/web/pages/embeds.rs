//! Embed templates and the embed builder: a form with a server-rendered preview that the script
//! keeps in step while typing; saved templates are posted and kept in sync where they name a
//! channel. Through `api::announcements`.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};

use super::forms::{form_error, input, select, textarea, FieldErrors, Fields, Filled};
use super::guild::respond;
use super::layout::{pager, slice, GuildHead};
use super::messages::{channel_of, channel_options, records, refused, Params, EVENTS};
use super::shop::sync_badge;
use super::{csrf_field, done, Page, PageResult};
use crate::domain::embed::{Embed, EmbedFooter};
use crate::domain::GuildId;
use crate::guild::SyncKind;
use crate::web::api::announcements::{create_embed, delete_embed, list_embeds, DeleteMessageFlag};
use crate::web::error::{Path, Query as ApiQuery};
use crate::web::WebState;

/// Templates shown per page, by name.
const PER_PAGE: u64 = 25;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/servers/{g}/embeds", get(embeds).post(create_template))
        .route("/servers/{g}/embeds/{id}/delete", post(delete_template))
}

/// The embed as Discord would show it (the script updates it while typing and applies the
/// colour: the CSP allows no inline style attribute).
fn preview(title: &str, description: &str, footer: &str) -> Markup {
    html! {
        div.embed-preview #embed-preview aria-live="polite" {
            div.title { (title) }
            div.description { (description) }
            div.footer { (footer) }
        }
    }
}

fn parse_embed(f: &Fields, e: &mut FieldErrors) -> Embed {
    let color = f.get("color").trim_start_matches('#');
    let color = if color.is_empty() {
        None
    } else {
        match u32::from_str_radix(color, 16) {
            Ok(c) if c <= 0xFF_FFFF => Some(c),
            _ => {
                e.add("color", "A colour is six hex digits, like #5865F2.");
                None
            }
        }
    };
    Embed {
        title: f.opt("title"),
        description: f.opt("description"),
        url: f.opt("url"),
        color,
        footer: f.opt("footer").map(|text| EmbedFooter {
            text,
            icon_url: None,
        }),
        ..Default::default()
    }
}

/// `GET /servers/{g}/embeds`: the templates and the embed builder.
async fn embeds(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Query(p): Query<Params>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    render_embeds(&s, &page, &head, Filled::visit(p.done, p.page)).await
}

async fn render_embeds(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    form: Filled,
) -> PageResult<Response> {
    let list = list_embeds(State(s.clone()), page.auth.clone(), Path(head.id))
        .await?
        .0;
    let sync = records(s, page, head.id).await?;
    let chans = channel_options(s, page, head.id).await?;
    let (shown, n, pages) = slice(&list, form.n, PER_PAGE);
    let e = &form.errors;
    let body = html! {
        div.table-wrap #embeds data-live=(EVENTS) {
            table {
                thead { tr { th { "Name" } th { "Title" } th { "Posted in" } th { "Discord" } th { "" } } }
                tbody {
                    @for t in shown {
                        tr {
                            td { (t.name) }
                            td { (t.embed.title.clone().unwrap_or_default()) }
                            td { @match t.channel { Some(c) => { (c) }, None => "not posted" } }
                            td { (sync_badge(sync.iter().find(|r| r.kind == SyncKind::Embed && r.object == t.id))) }
                            td {
                                @if page.can_write() {
                                    details.confirm-step {
                                        summary.button.small.danger { "Delete…" }
                                        form method="post" action=(head.url(&format!("/embeds/{}/delete", t.id))) {
                                            (csrf_field(page))
                                            input type="hidden" name="confirm" value="yes";
                                            button.small.danger type="submit" { "Yes, delete" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if list.is_empty() { tr { td colspan="5" { "No embed templates yet." } } }
                }
            }
        }
        (pager(&head.url("/embeds"), n, pages))
        @if page.can_write() {
            h2 { "Embed builder" }
            div.grid {
                form.panel method="post" action=(head.url("/embeds")) #embed-form {
                    (csrf_field(page))
                    (form_error(e))
                    (input("Template name", "name", "text", &form.value("name", ""), e, true))
                    (input("Title", "title", "text", &form.value("title", ""), e, false))
                    (textarea("Description", "description", &form.value("description", ""), e))
                    (input("Colour (#RRGGBB)", "color", "text", &form.value("color", "#5865F2"), e, false))
                    (input("Link", "url", "url", &form.value("url", ""), e, false))
                    (input("Footer", "footer", "text", &form.value("footer", ""), e, false))
                    (select("Post it in", "channel", &chans, &form.value("channel", ""), e))
                    button type="submit" { "Save template" }
                }
                section.panel {
                    h2 { "Preview" }
                    (preview(&form.value("title", ""), &form.value("description", ""), &form.value("footer", "")))
                }
            }
        }
    };
    Ok(respond(page, head, ("Embeds", "embeds"), &form, body))
}

/// `POST /servers/{g}/embeds`: saves a template from the builder.
async fn create_template(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let head = GuildHead::load(&s, g).await?;
    let mut e = FieldErrors::default();
    let embed = parse_embed(&f, &mut e);
    let channel = channel_of(&f, &mut e);
    let result = if e.is_empty() {
        let new = crate::announce::NewEmbedTemplate {
            name: f.get("name").to_owned(),
            embed,
            channel,
        };
        create_embed(
            State(s.clone()),
            page.auth.clone(),
            page.idem(&f),
            Path(head.id),
            crate::web::body::Body(new),
        )
        .await
        .map(|_| ())
        .map_err(refused)
    } else {
        Err(e)
    };
    match result {
        Ok(()) => Ok(done(&head.url("/embeds"), "Template saved.")),
        Err(errors) => render_embeds(&s, &page, &head, Filled::new(f, errors)).await,
    }
}

/// `POST /servers/{g}/embeds/{id}/delete` (after the confirmation step).
async fn delete_template(
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
            &format!("/servers/{g}/embeds"),
            "Nothing was deleted: confirm first.",
        ));
    }
    let flag = DeleteMessageFlag {
        delete_discord_message: Some(true),
    };
    delete_embed(
        State(s),
        page.auth.clone(),
        page.idem(&f),
        Path((g, id)),
        ApiQuery(flag),
        Bytes::new(),
    )
    .await?;
    Ok(done(&format!("/servers/{g}/embeds"), "Template deleted."))
}
