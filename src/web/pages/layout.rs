//! The frame every page shares (head, navigation, the account menu, the note after a form) and
//! the small formatters pages use: money in the server's currency, UTC `<time>` elements the
//! script turns into local time, and the pager.

use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};

use super::{csrf_field, Page, PageError};
use crate::domain::money::group_thousands;
use crate::domain::GuildId;
use crate::web::api::blocking;
use crate::web::WebState;

/// What every per-server page shows in its header: the server and its currency.
#[derive(Debug, Clone)]
pub struct GuildHead {
    pub id: GuildId,
    pub name: String,
    pub symbol: String,
    pub currency: String,
}

impl GuildHead {
    pub async fn load(s: &WebState, g: GuildId) -> Result<GuildHead, PageError> {
        let g = super::server(g)?;
        let (info, config) = blocking(s, move |svc| {
            Ok((svc.guilds.info(g)?, svc.guilds.config(g)?))
        })
        .await?;
        let name = info
            .map(|i| i.name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("Server {g}"));
        Ok(GuildHead {
            id: g,
            name,
            symbol: config.currency_symbol,
            currency: config.currency_name,
        })
    }

    /// `/servers/<id>` + `rest`.
    pub fn url(&self, rest: &str) -> String {
        format!("/servers/{}{rest}", self.id)
    }
}

/// `🪙 1,500` in the server's currency symbol.
pub fn money(g: &GuildHead, v: i64) -> String {
    format!("{} {}", g.symbol, group_thousands(v))
}

/// A UTC `<time>`; the script rewrites its text in the viewer's local time.
pub fn time(t: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) {
            (t.format("%Y-%m-%d %H:%M UTC"))
        }
    }
}

/// An optional time, `—` when absent.
pub fn time_opt(t: Option<DateTime<Utc>>) -> Markup {
    match t {
        Some(t) => time(t),
        None => html! { "—" },
    }
}

const SERVER_PAGES: &[(&str, &str)] = &[
    ("users", "Users"),
    ("shop", "Shop"),
    ("tasks", "Tasks"),
    ("transactions", "Transactions"),
    ("announcements", "Announcements"),
    ("embeds", "Embeds"),
    ("config", "Config"),
    ("commands", "Commands"),
    ("sync", "Sync"),
    ("audit", "Audit log"),
    ("command-log", "Command log"),
];

const INSTANCE_PAGES: &[(&str, &str)] = &[
    ("/", "Overview"),
    ("/notifications", "Notifications"),
    ("/logs", "Logs"),
    ("/system", "System"),
    ("/backups", "Backups"),
    ("/settings", "Settings"),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            title { (title) }
            link rel="stylesheet" href=(format!("/static/app.css?v={}", env!("CARGO_PKG_VERSION")));
            script src=(format!("/static/app.js?v={}", env!("CARGO_PKG_VERSION"))) defer {}
        }
    }
}

/// A page without navigation (login, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.bare { main { (body) } }
        }
    }
}

/// What a page puts in the frame.
pub struct Frame<'a> {
    pub page: &'a Page,
    pub title: &'a str,
    pub guild: Option<&'a GuildHead>,
    /// The nav entry to mark current: a server page's slug or an instance path.
    pub active: &'a str,
    /// The note a form left (`?done=`).
    pub note: Option<&'a str>,
}

/// The full page: navigation, account menu, the note, `body`.
pub fn layout(f: Frame<'_>, body: Markup) -> Markup {
    let Frame {
        page,
        title,
        guild,
        active,
        note,
    } = f;
    let full_title = match guild {
        Some(g) => format!("{title} · {} · Coffer", g.name),
        None => format!("{title} · Coffer"),
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(&full_title))
            body data-guild=[guild.map(|g| g.id.to_string())] data-role=(role_name(page)) {
                header.top {
                    a.brand href="/" { "Coffer" }
                    nav.main aria-label="Instance" {
                        @for (href, label) in INSTANCE_PAGES {
                            a href=(href) aria-current=[(*href == active).then_some("page")] { (label) }
                        }
                    }
                    div.account {
                        span.who { (page.auth.username) " (" (role_name(page)) ")" }
                        form method="post" action="/logout" {
                            (csrf_field(page))
                            button.link type="submit" { "Log out" }
                        }
                    }
                }
                @if let Some(g) = guild {
                    nav.server aria-label="Server" {
                        strong { a href=(g.url("/users")) { (g.name) } }
                        @for (slug, label) in SERVER_PAGES {
                            a href=(g.url(&format!("/{slug}"))) aria-current=[(*slug == active).then_some("page")] { (label) }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    @if let Some(n) = note { p.note role="status" { (n) } }
                    @if !page.can_write() { p.readonly { "Read-only: your account is a viewer." } }
                    (body)
                }
                footer { "Coffer " (env!("CARGO_PKG_VERSION")) " · " a href="/api/openapi.json" { "API" } }
                span #live-status hidden {}
            }
        }
    }
}

fn role_name(page: &Page) -> &'static str {
    if page.can_write() {
        "admin"
    } else {
        "viewer"
    }
}

/// Links to the neighbouring pages of a list. `base` carries the other query parameters.
pub fn pager(base: &str, page: u64, pages: u64) -> Markup {
    let sep = if base.contains('?') { '&' } else { '?' };
    html! {
        @if pages > 1 {
            nav.pager aria-label="Pages" {
                @if page > 1 { a rel="prev" href=(format!("{base}{sep}page={}", page - 1)) { "← Previous" } }
                span { "Page " (page) " of " (pages) }
                @if page < pages { a rel="next" href=(format!("{base}{sep}page={}", page + 1)) { "Next →" } }
            }
        }
    }
}

/// Page `n` (from 1) of a list the service returns whole: its items and the number of pages.
pub fn slice<T>(items: &[T], n: u64, per: u64) -> (&[T], u64, u64) {
    let per = per.max(1);
    let pages = (items.len() as u64).div_ceil(per).max(1);
    let n = n.clamp(1, pages);
    let start = ((n - 1) * per).min(items.len() as u64) as usize;
    let end = (start + per as usize).min(items.len());
    (&items[start..end], n, pages)
}

/// Percent-encodes a query value.
pub fn q(v: &str) -> String {
    super::form_urlencoded_byte(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_is_one_page_and_a_page_past_the_end_is_the_last() {
        let v: Vec<u32> = (1..=7).collect();
        assert_eq!(slice(&v, 1, 3), (&v[0..3], 1, 3));
        assert_eq!(slice(&v, 3, 3), (&v[6..7], 3, 3));
        assert_eq!(slice(&v, 9, 3), (&v[6..7], 3, 3));
        let empty: Vec<u32> = Vec::new();
        assert_eq!(slice(&empty, 1, 3), (&empty[..], 1, 1));
    }
}
