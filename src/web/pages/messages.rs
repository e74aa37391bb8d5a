//! What Coffer posts on a server's behalf: announcements (list, create, pin / unpin, delete
//! after a confirmation step) and embed templates with the embed builder (a server-rendered
//! preview that the script keeps in step while typing). Through `api::announcements`.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::{checkbox, form_error, input, select, textarea, FieldErrors, Fields, Filled};
use super::layout::{layout, pager, time, time_opt, Frame, GuildHead};
use super::shop::sync_badge;
use super::{csrf_field, done, Page, PageResult};
use crate::domain::embed::{Embed, EmbedFooter};
use crate::domain::{ChannelId, GuildId};
use crate::guild::{SyncKind, SyncRecord};
use crate::web::api::announcements::{
    create_announcement, create_embed, delete_announcement, delete_embed, list_announcements,
    list_embeds, pin, unpin, DeleteMessageFlag, ListQuery,
};
use crate::web::api::guild::{channels, sync_records, ChannelQuery, SyncQuery};
use crate::web::auth::IdempotencyKey;
use crate::web::error::{ApiError, Json, Path, Query as ApiQuery};
use crate::web::WebState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route(
            "/servers/{g}/announcements",
            get(announcements).post(create),
        )
        .route("/servers/{g}/announcements/{id}/pin", post(pin_toggle))
        .route("/servers/{g}/announcements/{id}/delete", post(delete))
        .route("/servers/{g}/embeds", get(embeds).post(create_template))
        .route("/servers/{g}/embeds/{id}/delete", post(delete_template))
}

const PER_PAGE: u64 = 20;
const EVENTS: &str =
    "announcement_created,announcement_updated,announcement_deleted,embed_changed,sync_changed";

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    pub page: Option<u64>,
    pub done: Option<String>,
}

async fn channel_options(
    s: &WebState,
    page: &Page,
    g: GuildId,
) -> PageResult<Vec<(String, String)>> {
    let list = channels(
        State(s.clone()),
        page.auth.clone(),
        Path(g),
        ApiQuery(ChannelQuery {
            postable_only: Some(true),
        }),
    )
    .await?
    .0;
    let mut out = vec![(String::new(), "The server's default channel".to_owned())];
    out.extend(
        list.into_iter()
            .map(|c| (c.id.to_string(), format!("#{}", c.name))),
    );
    Ok(out)
}

async fn records(s: &WebState, page: &Page, g: GuildId) -> PageResult<Vec<SyncRecord>> {
    let q = SyncQuery {
        kind: None,
        state: None,
    };
    Ok(
        sync_records(State(s.clone()), page.auth.clone(), Path(g), ApiQuery(q))
            .await?
            .0,
    )
}

fn channel_of(f: &Fields, e: &mut FieldErrors) -> Option<ChannelId> {
    match f.get("channel") {
        "" => None,
        c => match c.parse::<u64>() {
            Ok(id) => Some(ChannelId(id)),
            Err(_) => {
                e.add("channel", "Pick a channel from the list.");
                None
            }
        },
    }
}

fn refused(e: ApiError) -> FieldErrors {
    FieldErrors::from_api(
        &e,
        &[
            ("embed.title", "title"),
            ("embed.description", "description"),
        ],
        Some("_form"),
    )
}

/// `GET /servers/{g}/announcements`.
async fn announcements(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Query(p): Query<Params>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    render_announcements(&s, &page, &head, p, Filled::default(), StatusCode::OK).await
}

async fn render_announcements(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    p: Params,
    form: Filled,
    code: StatusCode,
) -> PageResult<Response> {
    let n = p.page.unwrap_or(1).max(1);
    let q = ListQuery {
        offset: Some((n - 1) * PER_PAGE),
        limit: Some(PER_PAGE),
    };
    let list = list_announcements(
        State(s.clone()),
        page.auth.clone(),
        Path(head.id),
        ApiQuery(q),
    )
    .await?
    .0;
    let sync = records(s, page, head.id).await?;
    let chans = channel_options(s, page, head.id).await?;
    let e = &form.errors;
    let body = html! {
        div.table-wrap #announcements data-live=(EVENTS) {
            table {
                thead { tr { th { "Title" } th { "Channel" } th { "When" } th { "Discord" } th { "" } } }
                tbody {
                    @for a in &list.items {
                        tr {
                            td { strong { (a.title) } @if a.pinned { " " span.badge { "pinned" } } br; span.muted { (a.content) } }
                            td { (a.channel) }
                            td { @if a.scheduled_at.is_some() { "scheduled " (time_opt(a.scheduled_at)) } @else { (time(a.created_at)) } }
                            td { (sync_badge(sync.iter().find(|r| r.kind == SyncKind::Announcement && r.object == a.id))) }
                            td {
                                @if page.can_write() {
                                    form.inline method="post" action=(head.url(&format!("/announcements/{}/pin", a.id))) {
                                        (csrf_field(page))
                                        input type="hidden" name="to" value=(if a.pinned { "unpin" } else { "pin" });
                                        button.small type="submit" { @if a.pinned { "Unpin" } @else { "Pin" } }
                                    }
                                    details.confirm-step {
                                        summary.button.small.danger { "Delete…" }
                                        form method="post" action=(head.url(&format!("/announcements/{}/delete", a.id))) {
                                            (csrf_field(page))
                                            (checkbox("Also delete the Discord message", "delete_discord_message", true))
                                            input type="hidden" name="confirm" value="yes";
                                            button.small.danger type="submit" { "Yes, delete" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if list.items.is_empty() { tr { td colspan="5" { "No announcements yet." } } }
                }
            }
        }
        (pager(&head.url("/announcements"), n, list.total.div_ceil(PER_PAGE)))
        @if page.can_write() {
            form.panel method="post" action=(head.url("/announcements")) #create-announcement {
                h2 { "New announcement" }
                (csrf_field(page))
                (form_error(e))
                div.grid {
                    (input("Title", "title", "text", &form.value("title", ""), e, true))
                    (select("Channel", "channel", &chans, &form.value("channel", ""), e))
                    (input("Post at (UTC, YYYY-MM-DD HH:MM; blank: now)", "scheduled_at", "text", &form.value("scheduled_at", ""), e, false))
                }
                (textarea("Text", "content", &form.value("content", ""), e))
                (checkbox("Pin it", "pinned", form.fields.checked("pinned")))
                (checkbox("Let @everyone, @here and role mentions in the text ping", "allow_mentions", form.fields.checked("allow_mentions")))
                button type="submit" { "Announce" }
            }
        }
    };
    let html = layout(
        Frame {
            page,
            title: "Announcements",
            guild: Some(head),
            active: "announcements",
            note: p.done.as_deref(),
        },
        body,
    );
    Ok((code, html).into_response())
}

/// `POST /servers/{g}/announcements`.
async fn create(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let head = GuildHead::load(&s, g).await?;
    let mut e = FieldErrors::default();
    let channel = channel_of(&f, &mut e);
    let scheduled_at = match f.get("scheduled_at") {
        "" => None,
        v => match chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M") {
            Ok(t) => Some(t.and_utc()),
            Err(_) => {
                e.add(
                    "scheduled_at",
                    "Write it as YYYY-MM-DD HH:MM (UTC), or leave it blank.",
                );
                None
            }
        },
    };
    let result = if e.is_empty() {
        let new = crate::domain::announce::NewAnnouncement {
            title: f.get("title").to_owned(),
            content: f.get("content").to_owned(),
            channel,
            pinned: f.checked("pinned"),
            allow_mentions: f.checked("allow_mentions"),
            scheduled_at,
            ..Default::default()
        };
        create_announcement(
            State(s.clone()),
            page.auth.clone(),
            IdempotencyKey(None),
            Path(head.id),
            Json(new),
        )
        .await
        .map(|_| ())
        .map_err(refused)
    } else {
        Err(e)
    };
    match result {
        Ok(()) => Ok(done(
            &head.url("/announcements"),
            "Announcement saved; Coffer posts it at its time.",
        )),
        Err(errors) => {
            render_announcements(
                &s,
                &page,
                &head,
                Params::default(),
                Filled::new(f, errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /servers/{g}/announcements/{id}/pin` (`to` = pin or unpin).
async fn pin_toggle(
    State(s): State<WebState>,
    page: Page,
    Path((g, id)): Path<(GuildId, u64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let g = super::server(g)?;
    let (auth, key) = (page.auth.clone(), IdempotencyKey(None));
    if f.get("to") == "unpin" {
        unpin(State(s), auth, key, Path((g, id))).await?;
    } else {
        pin(State(s), auth, key, Path((g, id))).await?;
    }
    Ok(done(&format!("/servers/{g}/announcements"), "Done."))
}

/// `POST /servers/{g}/announcements/{id}/delete` (after the confirmation step).
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
            &format!("/servers/{g}/announcements"),
            "Nothing was deleted: confirm first.",
        ));
    }
    let flag = DeleteMessageFlag {
        delete_discord_message: Some(f.checked("delete_discord_message")),
    };
    delete_announcement(
        State(s),
        page.auth.clone(),
        IdempotencyKey(None),
        Path((g, id)),
        ApiQuery(flag),
        Bytes::new(),
    )
    .await?;
    Ok(done(
        &format!("/servers/{g}/announcements"),
        "Announcement deleted.",
    ))
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
    render_embeds(
        &s,
        &page,
        &head,
        p.done.as_deref(),
        Filled::default(),
        StatusCode::OK,
    )
    .await
}

async fn render_embeds(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    note: Option<&str>,
    form: Filled,
    code: StatusCode,
) -> PageResult<Response> {
    let list = list_embeds(State(s.clone()), page.auth.clone(), Path(head.id))
        .await?
        .0;
    let sync = records(s, page, head.id).await?;
    let chans = channel_options(s, page, head.id).await?;
    let e = &form.errors;
    let body = html! {
        div.table-wrap #embeds data-live=(EVENTS) {
            table {
                thead { tr { th { "Name" } th { "Title" } th { "Posted in" } th { "Discord" } th { "" } } }
                tbody {
                    @for t in &list {
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
    let html = layout(
        Frame {
            page,
            title: "Embeds",
            guild: Some(head),
            active: "embeds",
            note,
        },
        body,
    );
    Ok((code, html).into_response())
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
            IdempotencyKey(None),
            Path(head.id),
            Json(new),
        )
        .await
        .map(|_| ())
        .map_err(refused)
    } else {
        Err(e)
    };
    match result {
        Ok(()) => Ok(done(&head.url("/embeds"), "Template saved.")),
        Err(errors) => {
            render_embeds(
                &s,
                &page,
                &head,
                None,
                Filled::new(f, errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
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
        IdempotencyKey(None),
        Path((g, id)),
        ApiQuery(flag),
        Bytes::new(),
    )
    .await?;
    Ok(done(&format!("/servers/{g}/embeds"), "Template deleted."))
}
