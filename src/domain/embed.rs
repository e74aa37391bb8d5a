//! Discord embeds as plain data, checked against Discord's limits before anything is stored, so
//! the reconciler never meets a message Discord would refuse. Every error names the field.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::DomainError;
use super::ids::ChannelId;

/// Discord's limits (characters, counted as Unicode scalar values).
pub mod limits {
    pub const CONTENT: usize = 2000;
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4096;
    pub const FIELDS: usize = 25;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FOOTER: usize = 2048;
    pub const AUTHOR: usize = 256;
    /// Title, description, field names and values, footer text and author name together.
    pub const TOTAL: usize = 6000;
    pub const COLOR: u32 = 0xFF_FFFF;
    /// Longest URL we accept (Discord's own limit for embed URLs).
    pub const URL: usize = 2048;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EmbedField {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub inline: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EmbedFooter {
    pub text: String,
    #[serde(default)]
    pub icon_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EmbedAuthor {
    pub name: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub icon_url: Option<String>,
}

/// A Discord embed. `None`/empty parts are left out of the message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Embed {
    pub title: Option<String>,
    pub description: Option<String>,
    /// Where the title links to.
    pub url: Option<String>,
    /// 0xRRGGBB.
    pub color: Option<u32>,
    pub fields: Vec<EmbedField>,
    pub footer: Option<EmbedFooter>,
    pub author: Option<EmbedAuthor>,
    pub image_url: Option<String>,
    pub thumbnail_url: Option<String>,
    pub timestamp: Option<DateTime<Utc>>,
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn max_len(field: &str, value: &str, max: usize) -> Result<usize, DomainError> {
    let n = chars(value);
    if n > max {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters (it has {n})"),
        ));
    }
    super::text::check_text(field, value)?;
    Ok(n)
}

fn required(field: &str, value: &str, max: usize) -> Result<usize, DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    max_len(field, value, max)
}

/// Accepts only absolute `http://` / `https://` URLs with a host and no spaces.
pub fn validate_url(field: &str, url: &str) -> Result<(), DomainError> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| DomainError::invalid(field, "must start with http:// or https://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || url.chars().any(char::is_whitespace) {
        return Err(DomainError::invalid(
            field,
            "must be a full web address like https://example.com/picture.png",
        ));
    }
    max_len(field, url, limits::URL).map(|_| ())
}

fn optional_url(field: &str, url: &Option<String>) -> Result<(), DomainError> {
    match url {
        Some(u) => validate_url(field, u),
        None => Ok(()),
    }
}

/// Message text outside the embed: at most 2000 characters.
pub fn validate_content(field: &str, content: &str) -> Result<(), DomainError> {
    max_len(field, content, limits::CONTENT).map(|_| ())
}

/// "#ff8800", "ff8800", "0xff8800" or a decimal number -> 0xRRGGBB.
pub fn parse_color(input: &str) -> Result<u32, DomainError> {
    let s = input.trim();
    let hex = s
        .strip_prefix('#')
        .or_else(|| s.strip_prefix("0x"))
        .or_else(|| s.strip_prefix("0X"));
    let parsed = match hex {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None if s.len() == 6 && s.chars().all(|c| c.is_ascii_hexdigit()) => {
            u32::from_str_radix(s, 16).ok()
        }
        None => s.parse::<u32>().ok(),
    };
    match parsed {
        Some(c) if c <= limits::COLOR => Ok(c),
        _ => Err(DomainError::invalid(
            "color",
            "must be a colour like #5865F2 (000000 to FFFFFF)",
        )),
    }
}

impl Embed {
    /// Checks every Discord limit; the error names the field (`title`, `fields[2].value`,
    /// `footer.icon_url`, ...), prefixed with `prefix` when the embed sits inside something.
    pub fn validate(&self, prefix: &str) -> Result<(), DomainError> {
        let f = |name: &str| format!("{prefix}{name}");
        let mut total = 0;
        if let Some(t) = &self.title {
            total += max_len(&f("title"), t, limits::TITLE)?;
        }
        if let Some(d) = &self.description {
            total += max_len(&f("description"), d, limits::DESCRIPTION)?;
        }
        if self.fields.len() > limits::FIELDS {
            return Err(DomainError::invalid(
                f("fields"),
                format!(
                    "an embed can have at most {} fields (it has {})",
                    limits::FIELDS,
                    self.fields.len()
                ),
            ));
        }
        for (i, field) in self.fields.iter().enumerate() {
            total += required(
                &f(&format!("fields[{i}].name")),
                &field.name,
                limits::FIELD_NAME,
            )?;
            total += required(
                &f(&format!("fields[{i}].value")),
                &field.value,
                limits::FIELD_VALUE,
            )?;
        }
        if let Some(footer) = &self.footer {
            total += required(&f("footer.text"), &footer.text, limits::FOOTER)?;
            optional_url(&f("footer.icon_url"), &footer.icon_url)?;
        }
        if let Some(author) = &self.author {
            total += required(&f("author.name"), &author.name, limits::AUTHOR)?;
            optional_url(&f("author.url"), &author.url)?;
            optional_url(&f("author.icon_url"), &author.icon_url)?;
        }
        let whole = match prefix.trim_end_matches('.') {
            "" => "embed",
            p => p,
        };
        if total > limits::TOTAL {
            return Err(DomainError::invalid(
                whole,
                format!(
                    "all text together must be at most {} characters (it has {total})",
                    limits::TOTAL
                ),
            ));
        }
        if let Some(c) = self.color {
            if c > limits::COLOR {
                return Err(DomainError::invalid(
                    f("color"),
                    "must be between 0 and 0xFFFFFF (16777215)",
                ));
            }
        }
        optional_url(&f("url"), &self.url)?;
        optional_url(&f("image_url"), &self.image_url)?;
        optional_url(&f("thumbnail_url"), &self.thumbnail_url)?;
        if self.is_empty() {
            return Err(DomainError::invalid(
                whole,
                "needs at least a title, a description, a field, an image or a footer",
            ));
        }
        Ok(())
    }

    /// True when Discord would show nothing.
    pub fn is_empty(&self) -> bool {
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
        blank(&self.title)
            && blank(&self.description)
            && self.fields.is_empty()
            && self.footer.is_none()
            && self.author.is_none()
            && self.image_url.is_none()
            && self.thumbnail_url.is_none()
    }
}

/// `s` cut to at most `max` characters, ending in "…" when cut (for text we build ourselves).
pub fn truncate_chars(s: &str, max: usize) -> String {
    if chars(s) <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A stored, named, reusable embed. With a `channel` it is also posted there and kept in sync
/// (outbox kind `embed`); without one it is only a template for announcements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EmbedTemplate {
    pub id: u64,
    pub name: String,
    pub embed: Embed,
    pub channel: Option<ChannelId>,
    pub created_by: super::Actor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The longest embed template name.
pub const MAX_TEMPLATE_NAME_CHARS: usize = 64;

/// Template names: 1 to 64 characters, unique per guild ignoring case.
pub fn validate_template_name(name: &str) -> Result<String, DomainError> {
    let n = name.trim();
    if n.is_empty() || chars(n) > MAX_TEMPLATE_NAME_CHARS {
        return Err(DomainError::invalid(
            "name",
            format!("must be 1 to {MAX_TEMPLATE_NAME_CHARS} characters"),
        ));
    }
    super::text::check_name("name", n)?;
    Ok(n.to_owned())
}

#[cfg(test)]
#[path = "embed_tests.rs"]
mod tests;
