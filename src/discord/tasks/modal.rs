//! The reject-reason modal's submit (`task:reject-reason:<task>:<user>`): re-checks the
//! reviewer, rejects the claim with the reason, DMs the member, and turns the review message into
//! its outcome. Answered within Discord's deadline (acknowledged silently when slow) and logged.

use std::time::Instant;

use poise::serenity_prelude as serenity;

use super::review::require_reviewer;
use super::TaskAction;
use crate::discord::error::chain;
use crate::discord::render::tasks::review_outcome;
use crate::discord::reply::{Reply, DEFER_AFTER};
use crate::discord::{guild_id, user_id, BotData, BotError};
use crate::domain::tasks::ReviewOutcome;
use crate::domain::{DomainError, GuildId, IdemKey, Source};
use crate::economy::OpMeta;
use crate::guild::{NewCommandLog, OUTCOME_OK};
use crate::services::blocking;

/// How the modal is answered.
enum ModalReply {
    /// Replace the review message (and its buttons).
    Update(Reply, Vec<serenity::CreateActionRow>),
    /// A private message.
    Message(Reply),
}

/// Handles one modal submission end to end. Never panics; failures are answered privately.
pub async fn handle_modal(data: &BotData, m: &serenity::ModalInteraction) {
    let started = Instant::now();
    let guild = m.guild_id.map(guild_id);
    let user = user_id(m.user.id);
    let work = run(data, m, guild);
    tokio::pin!(work);
    let mut acknowledged = false;
    let result = tokio::select! {
        r = &mut work => r,
        _ = tokio::time::sleep_until((started + DEFER_AFTER).into()) => {
            let ack = serenity::CreateInteractionResponse::Acknowledge;
            acknowledged = data.rest.interaction_callback(m.id.get(), &m.token, started, &ack).await.is_ok();
            work.await
        }
    };
    let outcome = match &result {
        Ok(_) => OUTCOME_OK.to_owned(),
        Err(e) if e.is_refusal() => {
            tracing::debug!(reason = %e, "modal refused");
            e.kind().to_owned()
        }
        Err(e) => {
            tracing::error!(error = %chain(e), "modal failed");
            e.kind().to_owned()
        }
    };
    let reply = result.unwrap_or_else(|e| ModalReply::Message(Reply::private(e.user_message())));
    send(data, m, started, acknowledged, reply).await;
    let (command, _) = crate::discord::components::split_custom_id(&m.data.custom_id);
    let entry = NewCommandLog {
        command: command.to_owned(),
        kind: "modal".into(),
        user,
        duration_ms: started.elapsed().as_millis().min(u128::from(u64::MAX)) as u64,
        outcome,
    };
    crate::discord::log::write(data, guild.unwrap_or(GuildId(0)), entry).await;
}

async fn run(
    data: &BotData,
    m: &serenity::ModalInteraction,
    guild: Option<GuildId>,
) -> Result<ModalReply, BotError> {
    let stale =
        || DomainError::Refused("This form is no longer active; nothing was changed.".into());
    let guild = guild.ok_or_else(stale)?;
    let Some(TaskAction::RejectReason { task, user }) = TaskAction::parse(&m.data.custom_id) else {
        return Err(stale().into());
    };
    require_reviewer(data, guild, m.member.as_ref()).await?;
    let reason = field(m, "reason").unwrap_or_default();
    let reviewer = user_id(m.user.id);
    let meta = OpMeta::user(reviewer, Source::DiscordButton).with_key(IdemKey::interaction(
        m.id.get(),
        format!("modal:{} reason:{reason}", m.data.custom_id),
    ));
    let s = data.services()?;
    let (claim, t, cfg) = blocking(move || {
        let claim = s.tasks.reject(guild, task, user, &reason, &meta)?;
        let t = s.tasks.get(guild, task)?;
        Ok((claim, t, s.guilds.config(guild)?))
    })
    .await?;
    let verdict = ReviewOutcome::Rejected {
        by: crate::domain::Actor::User(reviewer),
        reason: claim.review_message.clone().unwrap_or_default(),
    };
    let body = review_outcome(&cfg, &t, &claim, &verdict);
    Ok(if m.message.is_some() {
        ModalReply::Update(body.reply(false), body.components)
    } else {
        ModalReply::Message(Reply::private(format!(
            "Rejected {}'s submission for **{}**.",
            crate::discord::render::mention(user),
            t.name
        )))
    })
}

/// The value of the text input `id` in the submitted modal.
fn field(m: &serenity::ModalInteraction, id: &str) -> Option<String> {
    m.data
        .components
        .iter()
        .flat_map(|row| row.components.iter())
        .find_map(|c| match c {
            serenity::ActionRowComponent::InputText(t) if t.custom_id == id => t.value.clone(),
            _ => None,
        })
}

async fn send(
    data: &BotData,
    m: &serenity::ModalInteraction,
    arrived: Instant,
    acknowledged: bool,
    r: ModalReply,
) {
    let rest = &data.rest;
    let res = match (acknowledged, r) {
        (false, ModalReply::Update(r, rows)) => {
            let body =
                serenity::CreateInteractionResponse::UpdateMessage(r.message().components(rows));
            rest.interaction_callback(m.id.get(), &m.token, arrived, &body)
                .await
        }
        (false, ModalReply::Message(r)) => {
            let body = serenity::CreateInteractionResponse::Message(r.message());
            rest.interaction_callback(m.id.get(), &m.token, arrived, &body)
                .await
        }
        (true, ModalReply::Update(r, rows)) => {
            rest.edit_original(&m.token, &r.edit().components(rows))
                .await
        }
        (true, ModalReply::Message(r)) => rest.followup(&m.token, &r.followup()).await,
    };
    if let Err(e) = res {
        tracing::warn!(error = %chain(&e), "could not answer a modal submission");
    }
}
