//! `/admin announce create|edit|delete|pin|unpin` and `/admin embed create|delete`: the
//! announcement and embed-template services from Discord. Posting, editing and pinning the
//! messages is the reconciler's job (the services write the outbox).

use poise::serenity_prelude as serenity;

use super::{guild, op_meta};
use crate::announce::NewEmbedTemplate;
use crate::discord::reply::{respond_blocking, Reply};
use crate::discord::{BotError, Ctx};
use crate::domain::announce::{Announcement, AnnouncementPatch, NewAnnouncement};
use crate::domain::embed::Embed;
use crate::domain::{ChannelId, DomainError};

/// Post, change, pin and remove announcements.
#[poise::command(
    slash_command,
    rename = "announce",
    subcommands(
        "announce_create",
        "announce_edit",
        "announce_delete",
        "announce_pin",
        "announce_unpin"
    ),
    subcommand_required
)]
pub async fn announce(_ctx: Ctx<'_>) -> Result<(), BotError> {
    Ok(())
}

fn channel(c: Option<serenity::ChannelId>) -> Option<ChannelId> {
    c.map(|c| ChannelId(c.get()))
}

fn described(a: &Announcement, what: &str) -> Reply {
    let when = match a.scheduled_at {
        Some(at) => format!(" It goes out {}.", crate::discord::render::full_time(at)),
        None => String::new(),
    };
    Reply::private(format!(
        "{what} announcement #{} **{}** in <#{}>.{when}",
        a.id, a.title, a.channel
    ))
}

/// Write an announcement; it is posted in the channel shortly.
#[poise::command(slash_command, rename = "create")]
pub async fn announce_create(
    ctx: Ctx<'_>,
    #[max_length = 256]
    #[description = "Title (shown as the embed title)"]
    title: String,
    #[max_length = 4000]
    #[description = "The message"]
    content: String,
    #[description = "Where to post (default: the announcement channel)"]
    #[channel_types("Text", "News")]
    channel: Option<serenity::ChannelId>,
    #[description = "Pin it once posted"] pinned: Option<bool>,
    #[description = "Let @everyone, @here and role mentions in the text ping (off by default)"]
    ping: Option<bool>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let actor = op_meta(ctx);
    let ping = ping.unwrap_or(false);
    // Mentions ping only in the message text, never in an embed: a pinging announcement
    // carries its text as the message, under an embed with the title.
    let (content, description) = if ping {
        (content, None)
    } else {
        (String::new(), Some(content))
    };
    let new = NewAnnouncement {
        embed: Some(Embed {
            title: Some(title.clone()),
            description,
            ..Embed::default()
        }),
        title,
        content,
        channel: self::channel(channel),
        pinned: pinned.unwrap_or(false),
        allow_mentions: ping,
        ..NewAnnouncement::default()
    };
    respond_blocking(ctx, true, move |s| {
        Ok(described(&s.announce.create(guild, new, &actor)?, "Saved"))
    })
    .await
}

/// Change an announcement's title or text; its message is edited.
#[poise::command(slash_command, rename = "edit")]
pub async fn announce_edit(
    ctx: Ctx<'_>,
    #[description = "Announcement number"] id: u64,
    #[max_length = 256]
    #[description = "New title"]
    title: Option<String>,
    #[max_length = 4000]
    #[description = "New message"]
    content: Option<String>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let actor = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let current = s.announce.get(guild, id)?;
        let mut embed = current.embed.clone().unwrap_or_default();
        if let Some(t) = &title {
            embed.title = Some(t.clone());
        }
        if let Some(c) = &content {
            embed.description = Some(c.clone());
        }
        let patch = AnnouncementPatch {
            title,
            embed: Some(Some(embed)),
            ..AnnouncementPatch::default()
        };
        Ok(described(
            &s.announce.edit(guild, id, patch, &actor)?,
            "Updated",
        ))
    })
    .await
}

/// Delete an announcement (and its message, unless you keep it).
#[poise::command(slash_command, rename = "delete")]
pub async fn announce_delete(
    ctx: Ctx<'_>,
    #[description = "Announcement number"] id: u64,
    #[description = "Leave the Discord message up"] keep_message: Option<bool>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let actor = op_meta(ctx);
    let delete_message = !keep_message.unwrap_or(false);
    respond_blocking(ctx, true, move |s| {
        let a = s.announce.delete(guild, id, delete_message, &actor)?;
        Ok(described(&a, "Deleted"))
    })
    .await
}

/// Pin an announcement's message.
#[poise::command(slash_command, rename = "pin")]
pub async fn announce_pin(
    ctx: Ctx<'_>,
    #[description = "Announcement number"] id: u64,
) -> Result<(), BotError> {
    set_pinned(ctx, id, true).await
}

/// Unpin an announcement's message.
#[poise::command(slash_command, rename = "unpin")]
pub async fn announce_unpin(
    ctx: Ctx<'_>,
    #[description = "Announcement number"] id: u64,
) -> Result<(), BotError> {
    set_pinned(ctx, id, false).await
}

async fn set_pinned(ctx: Ctx<'_>, id: u64, pinned: bool) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let actor = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let a = s.announce.set_pinned(guild, id, pinned, &actor)?;
        Ok(described(&a, if pinned { "Pinned" } else { "Unpinned" }))
    })
    .await
}

/// Saved embeds you can reuse and post.
#[poise::command(
    slash_command,
    rename = "embed",
    subcommands("embed_create", "embed_delete"),
    subcommand_required
)]
pub async fn embed(_ctx: Ctx<'_>) -> Result<(), BotError> {
    Ok(())
}

/// `#3498db`, `3498db` or `0x3498db`.
pub fn parse_color(s: &str) -> Result<u32, DomainError> {
    let hex = s.trim().trim_start_matches('#').trim_start_matches("0x");
    u32::from_str_radix(hex, 16)
        .ok()
        .filter(|v| hex.len() == 6 && *v <= 0xFF_FFFF)
        .ok_or_else(|| DomainError::invalid("color", "must be a hex colour like #3498db"))
}

/// Save an embed; with a channel it is also posted there.
#[poise::command(slash_command, rename = "create")]
pub async fn embed_create(
    ctx: Ctx<'_>,
    #[max_length = 100]
    #[description = "A name to find it again"]
    name: String,
    #[max_length = 256]
    #[description = "Embed title"]
    title: Option<String>,
    #[max_length = 4096]
    #[description = "Embed text"]
    description: Option<String>,
    #[max_length = 16]
    #[description = "Colour, e.g. #3498db"]
    color: Option<String>,
    #[description = "Post it in this channel"]
    #[channel_types("Text", "News")]
    channel: Option<serenity::ChannelId>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let actor = op_meta(ctx);
    let new = NewEmbedTemplate {
        name,
        embed: Embed {
            title,
            description,
            color: color.as_deref().map(parse_color).transpose()?,
            ..Embed::default()
        },
        channel: self::channel(channel),
    };
    respond_blocking(ctx, true, move |s| {
        let t = s.announce.create_embed(guild, new, &actor)?;
        let posted = match t.channel {
            Some(c) => format!(" It will be posted in <#{c}>."),
            None => String::new(),
        };
        Ok(Reply::private(format!(
            "Saved embed #{} **{}**.{posted}",
            t.id, t.name
        )))
    })
    .await
}

/// Delete a saved embed (and its posted message).
#[poise::command(slash_command, rename = "delete")]
pub async fn embed_delete(
    ctx: Ctx<'_>,
    #[description = "Embed number"] id: u64,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let actor = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let t = s.announce.delete_embed(guild, id, true, &actor)?;
        Ok(Reply::private(format!(
            "Deleted embed #{} **{}**.",
            t.id, t.name
        )))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse_as_six_hex_digits_and_errors_name_the_field() {
        assert_eq!(parse_color("#3498db").unwrap(), 0x3498DB);
        assert_eq!(parse_color("0xFFFFFF").unwrap(), 0xFF_FFFF);
        for bad in ["blue", "#12345", "#1234567", ""] {
            let e = parse_color(bad).unwrap_err();
            assert!(e.to_string().starts_with("color:"), "{bad}: {e}");
        }
    }
}
