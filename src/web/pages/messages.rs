//! What Coffer posts on a server's behalf: announcements (list, create, pin / unpin, delete
//! after a confirmation step) here, embed templates and the builder in `embeds.rs`, and what
//! both share (channel picker, sync records). Through `api::announcements`.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::html;
use serde::Deserialize;

use super::forms::{checkbox, form_error, input, select, textarea, FieldErrors, Fields, Filled};
use super::guild::respond;
use super::layout::{pager, time, time_opt, GuildHead};
use super::shop::sync_badge;
use super::{csrf_field, done, Page, PageResult};
use crate::domain::{ChannelId, GuildId};
use crate::guild::{SyncKind, SyncRecord};
use crate::web::api::announcements::{
    create_announcement, delete_announcement, list_announcements, pin, unpin, DeleteMessageFlag,
    ListQuery,
};
use crate::web::api::guild::{channels, sync_records, ChannelQuery, SyncQuery};
use crate::web::error::{ApiError, Path, Query as ApiQuery};
use crate::web::WebState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route(
            "/servers/{g}/announcements",
            get(announcements).post(create),
        )
        .route("/servers/{g}/announcements/{id}/pin", post(pin_toggle))
        .route("/servers/{g}/announcements/{id}/delete", post(delete))
        .merge(super::embeds::routes())
}

const PER_PAGE: u64 = 20;
pub const EVENTS: &str =
    "announcement_created,announcement_updated,announcement_deleted,embed_changed,sync_changed";

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    pub page: Option<u64>,
    pub done: Option<String>,
}

pub async fn channel_options(
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

pub async fn records(s: &WebState, page: &Page, g: GuildId) -> PageResult<Vec<SyncRecord>> {
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

pub fn channel_of(f: &Fields, e: &mut FieldErrors) -> Option<ChannelId> {
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

pub fn refused(e: ApiError) -> FieldErrors {
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
    let form = Filled::visit(p.done.clone(), p.page);
    render_announcements(&s, &page, &head, p, form).await
}

async fn render_announcements(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    p: Params,
    form: Filled,
) -> PageResult<Response> {
    let n = p.page.unwrap_or(1).max(1);
    let q = ListQuery {
        offset: Some(super::ranged((n - 1) * PER_PAGE)),
        limit: Some(super::ranged(PER_PAGE)),
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
    Ok(respond(
        page,
        head,
        ("Announcements", "announcements"),
        &form,
        body,
    ))
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
        Ok(()) => Ok(done(
            &head.url("/announcements"),
            "Announcement saved; Coffer posts it at its time.",
        )),
        Err(errors) => {
            render_announcements(&s, &page, &head, Params::default(), Filled::new(f, errors)).await
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
    let (auth, key) = (page.auth.clone(), page.idem(&f));
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
        page.idem(&f),
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
