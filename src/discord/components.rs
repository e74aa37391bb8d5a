//! Buttons and select menus, routed by the custom id's prefix (`shop-buy:42` goes to the route
//! `shop-buy` with `arg = "42"`). A handler returns a reply that is either a new (usually
//! ephemeral) message or an update of the message holding the component; it is deferred after
//! `DEFER_AFTER` like commands, errors are answered privately, and every use is logged.

use std::time::Instant;

use poise::serenity_prelude as serenity;

use super::error::chain;
use super::reply::{Reply, DEFER_AFTER};
use super::{BotData, BotError};
use crate::domain::{GuildId, IdemKey, Source, UserId};
use crate::economy::OpMeta;
use crate::guild::{NewCommandLog, OUTCOME_OK};

/// What a component handler gets: our ids, the argument after the prefix, and the services.
pub struct ComponentCtx<'a> {
    pub data: &'a BotData,
    pub interaction: &'a serenity::ComponentInteraction,
    pub guild: Option<GuildId>,
    pub user: UserId,
    /// The custom id after `prefix:` (empty when there is none).
    pub arg: &'a str,
}

impl ComponentCtx<'_> {
    /// The clicking user, through a button, keyed by the interaction id (a click delivered
    /// twice applies once).
    pub fn op_meta(&self) -> OpMeta {
        OpMeta::user(self.user, Source::DiscordButton).with_key(IdemKey::interaction(
            self.interaction.id.get(),
            format!("component:{}", self.interaction.data.custom_id),
        ))
    }
}

/// How a component answers.
#[derive(Debug, Clone)]
pub enum ComponentReply {
    /// A new message (set `ephemeral` for personal answers).
    Message(Reply),
    /// Replace the content of the message that holds the component.
    Update(Reply),
    /// Replace the message's content and its components (an empty list removes the buttons).
    UpdateWithComponents(Reply, Vec<serenity::CreateActionRow>),
    /// Open a modal (only possible as the first answer, before any defer).
    Modal(serenity::CreateModal),
}

pub type ComponentFn =
    for<'a> fn(ComponentCtx<'a>) -> poise::BoxFuture<'a, Result<ComponentReply, BotError>>;

/// One route: custom ids starting with `prefix:` (or equal to `prefix`) go to `handler`.
#[derive(Clone, Copy)]
pub struct ComponentRoute {
    pub prefix: &'static str,
    pub handler: ComponentFn,
    /// If the handler is slow: true acknowledges silently (its reply will be an `Update`),
    /// false shows "thinking..." privately (its reply will be a `Message`).
    pub updates_message: bool,
}

/// Every component route. Areas (shop, tasks) add theirs here.
pub fn routes() -> Vec<ComponentRoute> {
    vec![super::tasks::route(), super::shop_buttons::route()]
}

/// Splits `shop-buy:42` into (`shop-buy`, `42`).
pub fn split_custom_id(id: &str) -> (&str, &str) {
    id.split_once(':').unwrap_or((id, ""))
}

/// Handles one component interaction end to end. Never panics; failures are logged.
pub async fn handle(data: &BotData, routes: &[ComponentRoute], i: &serenity::ComponentInteraction) {
    let started = Instant::now();
    let (prefix, arg) = split_custom_id(&i.data.custom_id);
    let guild = i.guild_id.map(super::guild_id);
    let user = super::user_id(i.user.id);
    let outcome = match routes.iter().find(|r| r.prefix == prefix) {
        None => {
            tracing::debug!(custom_id = %i.data.custom_id, "component without a route");
            let reply = Reply::private("This button is no longer active.");
            send(
                data,
                i,
                started,
                Deferred::No,
                ComponentReply::Message(reply),
            )
            .await;
            "unknown_component".to_owned()
        }
        Some(route) => {
            let ctx = ComponentCtx {
                data,
                interaction: i,
                guild,
                user,
                arg,
            };
            let work = (route.handler)(ctx);
            tokio::pin!(work);
            let mut deferred = Deferred::No;
            let result = tokio::select! {
                r = &mut work => r,
                _ = tokio::time::sleep_until((started + DEFER_AFTER).into()) => {
                    deferred = defer(data, i, started, route.updates_message).await;
                    work.await
                }
            };
            match result {
                Ok(reply) => {
                    send(data, i, started, deferred, reply).await;
                    OUTCOME_OK.to_owned()
                }
                Err(e) => {
                    if e.is_refusal() {
                        tracing::debug!(prefix, reason = %e, "component refused");
                    } else {
                        tracing::error!(prefix, error = %chain(&e), "component failed");
                    }
                    let reply = ComponentReply::Message(Reply::private(e.user_message()));
                    send(data, i, started, deferred, reply).await;
                    e.kind().to_owned()
                }
            }
        }
    };
    let entry = NewCommandLog {
        command: prefix.to_owned(),
        kind: "component".into(),
        user,
        duration_ms: started.elapsed().as_millis().min(u128::from(u64::MAX)) as u64,
        outcome,
    };
    super::log::write(data, guild.unwrap_or(GuildId(0)), entry).await;
}

/// How the interaction was acknowledged before the handler finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deferred {
    No,
    /// "Thinking..." shown privately (type 5); the reply replaces it.
    Placeholder,
    /// Acknowledged silently (type 6); an update edits the component's message.
    Silent,
}

/// Acknowledges now; returns how (or `No` if the acknowledgement failed).
async fn defer(
    data: &BotData,
    i: &serenity::ComponentInteraction,
    arrived: Instant,
    update: bool,
) -> Deferred {
    let (body, how) = if update {
        (
            serenity::CreateInteractionResponse::Acknowledge,
            Deferred::Silent,
        )
    } else {
        (
            serenity::CreateInteractionResponse::Defer(
                serenity::CreateInteractionResponseMessage::new().ephemeral(true),
            ),
            Deferred::Placeholder,
        )
    };
    match data
        .rest
        .interaction_callback(i.id.get(), &i.token, arrived, &body)
        .await
    {
        Ok(()) => how,
        Err(e) => {
            tracing::warn!(error = %chain(&e), "could not defer a component interaction");
            Deferred::No
        }
    }
}

/// Sends the reply as the callback, or after a defer as an edit (of the placeholder or of the
/// component's message) or a follow-up (a new message after a silent acknowledge).
async fn send(
    data: &BotData,
    i: &serenity::ComponentInteraction,
    arrived: Instant,
    deferred: Deferred,
    reply: ComponentReply,
) {
    let rest = &data.rest;
    let res = match (deferred, reply) {
        (Deferred::No, ComponentReply::Message(r)) => {
            let body = serenity::CreateInteractionResponse::Message(r.message());
            rest.interaction_callback(i.id.get(), &i.token, arrived, &body)
                .await
        }
        (Deferred::No, ComponentReply::Update(r)) => {
            let body = serenity::CreateInteractionResponse::UpdateMessage(r.message());
            rest.interaction_callback(i.id.get(), &i.token, arrived, &body)
                .await
        }
        (Deferred::Placeholder, ComponentReply::Message(r) | ComponentReply::Update(r))
        | (Deferred::Silent, ComponentReply::Update(r)) => {
            rest.edit_original(&i.token, &r.edit()).await
        }
        (Deferred::Silent, ComponentReply::Message(r)) => {
            rest.followup(&i.token, &r.followup()).await
        }
        (Deferred::No, ComponentReply::UpdateWithComponents(r, rows)) => {
            let body =
                serenity::CreateInteractionResponse::UpdateMessage(r.message().components(rows));
            rest.interaction_callback(i.id.get(), &i.token, arrived, &body)
                .await
        }
        (_, ComponentReply::UpdateWithComponents(r, rows)) => {
            rest.edit_original(&i.token, &r.edit().components(rows))
                .await
        }
        (Deferred::No, ComponentReply::Modal(m)) => {
            let body = serenity::CreateInteractionResponse::Modal(m);
            rest.interaction_callback(i.id.get(), &i.token, arrived, &body)
                .await
        }
        (_, ComponentReply::Modal(_)) => {
            // Discord allows a modal only as the first answer; this one came too late.
            let r = Reply::private("That took too long; please click the button again.");
            rest.followup(&i.token, &r.followup()).await
        }
    };
    if let Err(e) = res {
        tracing::warn!(error = %chain(&e), "could not answer a component interaction");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_split_at_the_first_colon() {
        assert_eq!(split_custom_id("shop-buy:42"), ("shop-buy", "42"));
        assert_eq!(split_custom_id("task:claim:7"), ("task", "claim:7"));
        assert_eq!(split_custom_id("refresh"), ("refresh", ""));
    }
}
