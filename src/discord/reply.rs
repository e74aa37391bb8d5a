//! Answering an interaction through Coffer's REST layer (so 429s are retried): the first answer,
//! defers, follow-ups, and `respond`, which defers when the work takes too long so Discord's 3 s
//! answer deadline is always met; `respond_blocking` is the usual command tail on top of it.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use poise::serenity_prelude as serenity;

use super::{BotError, Ctx};
use crate::domain::embed::{limits, truncate_chars};
use crate::services::{blocking, Services};

/// Defer when the work has not finished by then (Discord's deadline is 3 s, minus the time the
/// callback itself takes).
pub const DEFER_AFTER: Duration = Duration::from_millis(1500);

/// A reply: text and/or embeds, shown to everyone or only to the caller.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub content: Option<String>,
    pub embeds: Vec<serenity::CreateEmbed>,
    pub ephemeral: bool,
    /// Button rows (at most 5 rows of 5, Discord's limit).
    pub components: Vec<serenity::CreateActionRow>,
}

impl Reply {
    /// Text only the caller sees.
    pub fn private(text: impl Into<String>) -> Reply {
        Reply {
            content: Some(text.into()),
            embeds: Vec::new(),
            ephemeral: true,
            components: Vec::new(),
        }
    }

    /// Text everyone in the channel sees.
    pub fn public(text: impl Into<String>) -> Reply {
        Reply {
            ephemeral: false,
            ..Reply::private(text)
        }
    }

    pub fn embed(embed: serenity::CreateEmbed, ephemeral: bool) -> Reply {
        Reply {
            content: None,
            embeds: vec![embed],
            ephemeral,
            components: Vec::new(),
        }
    }

    /// Adds buttons, five to a row; past Discord's 25 the rest are left out.
    pub fn with_buttons(mut self, buttons: Vec<serenity::CreateButton>) -> Reply {
        let rows: Vec<Vec<serenity::CreateButton>> =
            buttons.chunks(5).take(5).map(<[_]>::to_vec).collect();
        self.components = rows
            .into_iter()
            .map(serenity::CreateActionRow::Buttons)
            .collect();
        self
    }

    /// The text as sent: cut on a char boundary to Discord's 2000 characters (a longer message
    /// is refused with 50035 and the member would see "The application did not respond").
    fn text(&self) -> Option<String> {
        self.content
            .as_deref()
            .map(|c| truncate_chars(c, limits::CONTENT))
    }

    /// The reply's text (content, embed titles and descriptions) for a log line.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self.content.iter().cloned().collect();
        let embeds = serde_json::to_value(&self.embeds).unwrap_or_default();
        for e in embeds.as_array().into_iter().flatten() {
            for key in ["title", "description"] {
                if let Some(t) = e[key].as_str() {
                    parts.push(t.to_owned());
                }
            }
        }
        truncate_chars(&parts.join(" | "), 500)
    }

    pub(crate) fn message(&self) -> serenity::CreateInteractionResponseMessage {
        let mut m = serenity::CreateInteractionResponseMessage::new()
            .embeds(self.embeds.clone())
            .ephemeral(self.ephemeral)
            .allowed_mentions(serenity::CreateAllowedMentions::new());
        if let Some(c) = self.text() {
            m = m.content(c);
        }
        if !self.components.is_empty() {
            m = m.components(self.components.clone());
        }
        m
    }

    pub(crate) fn followup(&self) -> serenity::CreateInteractionResponseFollowup {
        let mut m = serenity::CreateInteractionResponseFollowup::new()
            .embeds(self.embeds.clone())
            .ephemeral(self.ephemeral)
            .allowed_mentions(serenity::CreateAllowedMentions::new());
        if let Some(c) = self.text() {
            m = m.content(c);
        }
        if !self.components.is_empty() {
            m = m.components(self.components.clone());
        }
        m
    }

    pub(crate) fn edit(&self) -> serenity::EditInteractionResponse {
        let mut m = serenity::EditInteractionResponse::new()
            .embeds(self.embeds.clone())
            .allowed_mentions(serenity::CreateAllowedMentions::new());
        if let Some(c) = self.text() {
            m = m.content(c);
        }
        if !self.components.is_empty() {
            m = m.components(self.components.clone());
        }
        m
    }
}

/// Per-invocation state, kept in poise's invocation data.
#[derive(Debug, Default, Clone, Copy)]
pub struct Invocation {
    pub started: Option<Instant>,
    /// `Some(ephemeral)` once deferred.
    pub deferred: Option<bool>,
    /// The deferred placeholder has been replaced by a real answer.
    pub answered_deferred: bool,
}

/// The invocation's state (default when none was stored yet).
pub async fn invocation(ctx: Ctx<'_>) -> Invocation {
    ctx.invocation_data::<Invocation>()
        .await
        .map(|i| *i)
        .unwrap_or_default()
}

async fn update(ctx: Ctx<'_>, f: impl FnOnce(&mut Invocation)) {
    let mut inv = invocation(ctx).await;
    f(&mut inv);
    ctx.set_invocation_data(inv).await;
}

/// Notes when handling started (the first call wins).
pub async fn mark_started(ctx: Ctx<'_>) {
    update(ctx, |i| {
        i.started.get_or_insert_with(Instant::now);
    })
    .await;
}

fn app(
    ctx: Ctx<'_>,
) -> Result<poise::ApplicationContext<'_, std::sync::Arc<super::BotData>, BotError>, BotError> {
    match ctx {
        poise::Context::Application(a) => Ok(a),
        poise::Context::Prefix(_) => Err(BotError::Internal(
            "prefix commands are not supported".into(),
        )),
    }
}

/// When the interaction arrived: Discord's 3 s answer deadline and the defer timer count from
/// here (the global check notes it before any permission lookup).
async fn arrived(ctx: Ctx<'_>) -> Instant {
    mark_started(ctx).await;
    invocation(ctx).await.started.unwrap_or_else(Instant::now)
}

/// Acknowledges now and answers later (the user sees "thinking...").
pub async fn defer(ctx: Ctx<'_>, ephemeral: bool) -> Result<(), BotError> {
    let a = app(ctx)?;
    if a.has_sent_initial_response.load(Ordering::SeqCst) {
        return Ok(());
    }
    let arrived = arrived(ctx).await;
    let body = serenity::CreateInteractionResponse::Defer(
        serenity::CreateInteractionResponseMessage::new().ephemeral(ephemeral),
    );
    ctx.data()
        .rest
        .interaction_callback(a.interaction.id.get(), &a.interaction.token, arrived, &body)
        .await?;
    a.has_sent_initial_response.store(true, Ordering::SeqCst);
    update(ctx, |i| i.deferred = Some(ephemeral)).await;
    Ok(())
}

/// Sends `reply` as the first answer, as the answer replacing a defer, or as a follow-up. When
/// the first answer fails (the deadline passed), a follow-up is tried: it reaches the member if
/// an earlier acknowledgement got through after all.
pub async fn send(ctx: Ctx<'_>, reply: Reply) -> Result<(), BotError> {
    let a = app(ctx)?;
    let rest = &ctx.data().rest;
    let token = &a.interaction.token;
    if !a.has_sent_initial_response.load(Ordering::SeqCst) {
        let arrived = arrived(ctx).await;
        let body = serenity::CreateInteractionResponse::Message(reply.message());
        let first = rest
            .interaction_callback(a.interaction.id.get(), token, arrived, &body)
            .await;
        if let Err(e) = first {
            if rest.followup(token, &reply.followup()).await.is_err() {
                return Err(e.into());
            }
        }
        a.has_sent_initial_response.store(true, Ordering::SeqCst);
        return Ok(());
    }
    let inv = invocation(ctx).await;
    match inv.deferred {
        Some(deferred_ephemeral) if !inv.answered_deferred => {
            if deferred_ephemeral || !reply.ephemeral {
                // A deferred private answer stays private even if the reply wanted to be public.
                rest.edit_original(token, &reply.edit()).await?;
            } else {
                // A public placeholder must not carry a private answer (an error): replace it.
                rest.delete_original(token).await?;
                rest.followup(token, &reply.followup()).await?;
            }
            update(ctx, |i| i.answered_deferred = true).await;
        }
        _ => rest.followup(token, &reply.followup()).await?,
    }
    Ok(())
}

/// Runs `work`, deferring (with `ephemeral`) if it is not done within `DEFER_AFTER` of the
/// interaction's arrival, then sends its reply. A failed defer never drops the work: it runs to
/// the end and its reply goes out as the first answer or a follow-up, or, when Discord takes
/// neither, into the log. A work error is returned for `on_error` to answer.
pub async fn respond<F>(ctx: Ctx<'_>, ephemeral: bool, work: F) -> Result<(), BotError>
where
    F: Future<Output = Result<Reply, BotError>>,
{
    let defer_at = arrived(ctx).await + DEFER_AFTER;
    tokio::pin!(work);
    let reply = tokio::select! {
        r = &mut work => r,
        _ = tokio::time::sleep_until(defer_at.into()) => {
            if let Err(e) = defer(ctx, ephemeral).await {
                tracing::warn!(
                    command = %ctx.command().qualified_name,
                    error = %super::error::chain(&e),
                    "could not defer; finishing the work and answering when it is done"
                );
            }
            work.await
        }
    }?;
    if let Err(e) = send(ctx, reply.clone()).await {
        // The work is done (and may have changed something): say what the member missed.
        tracing::warn!(
            command = %ctx.command().qualified_name,
            user = ctx.author().id.get(),
            error = %super::error::chain(&e),
            answer = %reply.summary(),
            "the answer was not delivered to the member"
        );
    }
    Ok(())
}

/// The usual command tail: runs `work` over the services on a blocking thread (service calls
/// open store transactions) and sends the reply it renders, deferring with `ephemeral` like
/// [`respond`]. A service error is returned for `on_error` to answer.
pub async fn respond_blocking<F>(ctx: Ctx<'_>, ephemeral: bool, work: F) -> Result<(), BotError>
where
    F: FnOnce(&Services) -> Result<Reply, crate::Error> + Send + 'static,
{
    let services = ctx.data().services()?;
    respond(ctx, ephemeral, async move {
        blocking(move || work(&services))
            .await
            .map_err(BotError::from)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_cut_to_2000_characters_on_a_char_boundary() {
        let long = format!("{}{}", "é".repeat(1990), "🪙".repeat(600));
        let r = Reply::private(long);
        for body in [
            serde_json::to_value(r.message()).unwrap(),
            serde_json::to_value(r.followup()).unwrap(),
            serde_json::to_value(r.edit()).unwrap(),
        ] {
            let content = body["content"].as_str().unwrap();
            assert_eq!(content.chars().count(), 2000, "{body}");
            assert!(content.ends_with('…'));
        }
        let short = serde_json::to_value(Reply::public("hi").message()).unwrap();
        assert_eq!(short["content"], "hi");
    }
}
