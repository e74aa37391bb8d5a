//! The task commands members use: `/tasks`, `/claim`, `/task_submit`, `/mytasks`. The task
//! option autocompletes (open tasks for `/claim`, your running claims for `/task_submit`); a
//! typed name or number works too. Personal answers and errors are private.

use poise::serenity_prelude as serenity;

use super::{author, guild, op_meta};
use crate::discord::reply::{respond, respond_blocking};
use crate::discord::tasks::review::no_task_channel;
use crate::discord::{render, BotError, Ctx};
use crate::domain::tasks::{ClaimStatus, Proof, TaskStatus};
use crate::domain::{DomainError, GuildId};
use crate::error::Error;
use crate::guild::SyncKind;
use crate::services::blocking;
use crate::tasks::{TaskFilter, Tasks};

/// Autocomplete offers at most this many choices (Discord's limit is 25).
const CHOICES: usize = 25;

/// Finds the task a member meant: a number is an id; otherwise a name (exact, or the only one
/// starting with what was typed).
pub fn resolve_task(tasks: &Tasks, guild: GuildId, input: &str) -> Result<u64, Error> {
    let input = input.trim().trim_start_matches('#');
    if let Ok(id) = input.parse::<u64>() {
        return Ok(id);
    }
    let hits = tasks.search(guild, input, false, CHOICES)?;
    if let Some(t) = hits.iter().find(|t| t.name.eq_ignore_ascii_case(input)) {
        return Ok(t.id);
    }
    match hits.as_slice() {
        [only] => Ok(only.id),
        [] => Err(DomainError::NotFound(format!("A task named \"{input}\"")).into()),
        _ => Err(DomainError::invalid(
            "task",
            format!("several tasks start with \"{input}\"; pick one from the list"),
        )
        .into()),
    }
}

fn choice(name: &str, id: u64) -> serenity::AutocompleteChoice {
    let label: String = format!("{name} (#{id})").chars().take(100).collect();
    serenity::AutocompleteChoice::new(label, id.to_string())
}

/// Open tasks whose name starts with what was typed.
pub async fn open_tasks(ctx: Ctx<'_>, partial: &str) -> Vec<serenity::AutocompleteChoice> {
    search_choices(ctx, partial, true).await
}

/// Any task (for admins), open ones first.
pub async fn any_tasks(ctx: Ctx<'_>, partial: &str) -> Vec<serenity::AutocompleteChoice> {
    search_choices(ctx, partial, false).await
}

async fn search_choices(
    ctx: Ctx<'_>,
    partial: &str,
    active_only: bool,
) -> Vec<serenity::AutocompleteChoice> {
    let (Ok(guild), Ok(services)) = (guild(ctx), ctx.data().services()) else {
        return Vec::new();
    };
    let (tasks, partial) = (services.tasks, partial.to_owned());
    let found = blocking(move || tasks.search(guild, &partial, active_only, CHOICES)).await;
    match found {
        Ok(list) => list.iter().map(|t| choice(&t.name, t.id)).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "task autocomplete failed");
            Vec::new()
        }
    }
}

/// The caller's claims that still wait for proof.
async fn my_open_claims(ctx: Ctx<'_>, partial: &str) -> Vec<serenity::AutocompleteChoice> {
    let (Ok(guild), Ok(services)) = (guild(ctx), ctx.data().services()) else {
        return Vec::new();
    };
    let (tasks, me, p) = (services.tasks, author(ctx), partial.trim().to_lowercase());
    let claims = blocking(move || tasks.user_claims(guild, me)).await;
    claims
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.claim.status == ClaimStatus::InProgress)
        .filter(|c| c.task.name.to_lowercase().starts_with(&p) || c.task.id.to_string() == p)
        .take(CHOICES)
        .map(|c| choice(&c.task.name, c.task.id))
        .collect()
}

/// See the open tasks: what each pays, how long you have, and spots left.
#[poise::command(slash_command, guild_only)]
pub async fn tasks(ctx: Ctx<'_>) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    respond_blocking(ctx, false, move |s| {
        let f = TaskFilter {
            status: Some(TaskStatus::Active),
            limit: CHOICES as u64,
            ..TaskFilter::default()
        };
        let page = s.tasks.list(guild, &f)?;
        let cfg = s.guilds.config(guild)?;
        Ok(render::tasks::task_list(&cfg, &page.items, page.total))
    })
    .await
}

/// Claim a task. You then have its time limit to submit proof with /task_submit.
#[poise::command(slash_command, guild_only)]
pub async fn claim(
    ctx: Ctx<'_>,
    #[description = "The task to claim"]
    #[autocomplete = "open_tasks"]
    #[max_length = 100]
    task: String,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let me = author(ctx);
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let id = resolve_task(&s.tasks, guild, &task)?;
        let claim = s.tasks.claim(guild, id, me, &meta)?;
        let t = s.tasks.get(guild, id)?;
        Ok(render::tasks::claimed(&s.guilds.config(guild)?, &t, &claim))
    })
    .await
}

/// Submit proof for a task you claimed; the moderators review it.
#[poise::command(slash_command, guild_only)]
pub async fn task_submit(
    ctx: Ctx<'_>,
    #[description = "The task you finished"]
    #[autocomplete = "my_open_claims"]
    #[max_length = 100]
    task: String,
    #[max_length = 2000]
    #[description = "What you did (links welcome)"]
    proof: String,
    #[description = "A screenshot or file as proof"] attachment: Option<serenity::Attachment>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let me = author(ctx);
    let meta = op_meta(ctx);
    let s = ctx.data().services()?;
    let proof = Proof {
        content: proof,
        attachments: attachment.map(|a| a.url).into_iter().collect(),
    };
    respond(ctx, true, async move {
        let s2 = s.clone();
        let (claim, task) = blocking(move || {
            let cfg = s.guilds.config(guild)?;
            if cfg.task_channel_id.is_none() {
                return Err(no_task_channel().into());
            }
            let id = resolve_task(&s.tasks, guild, &task)?;
            let claim = s.tasks.submit(guild, id, me, proof, &meta)?;
            Ok((claim, s.tasks.get(guild, id)?))
        })
        .await?;
        // The sync worker posts the review message; say what it managed.
        let posted = match claim.review_id {
            Some(review) => Some(settled_review(&s2, guild, review).await?),
            None => None,
        };
        Ok(render::tasks::submitted(&task, posted.as_ref()))
    })
    .await
}

/// The review's sync record once the worker has posted it or given up (or after a few
/// seconds, still pending).
async fn settled_review(
    s: &crate::services::Services,
    guild: GuildId,
    review: u64,
) -> Result<Option<crate::guild::SyncRecord>, Error> {
    let kinds = [crate::events::EventKind::SyncChanged];
    let within = crate::discord::shop_buttons::SETTLE_WITHIN;
    s.settle(guild, &kinds, within, move |s| {
        let rec = s.guilds.sync_record(guild, SyncKind::Review, review)?;
        let settled = rec
            .as_ref()
            .is_none_or(|r| r.state != crate::guild::SyncState::Pending);
        Ok((settled, rec))
    })
    .await
}

/// Your claimed tasks: in progress, waiting for review, accepted or expired.
#[poise::command(slash_command, guild_only)]
pub async fn mytasks(ctx: Ctx<'_>) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let me = author(ctx);
    respond_blocking(ctx, true, move |s| {
        let claims = s.tasks.user_claims(guild, me)?;
        Ok(render::tasks::my_tasks(&s.guilds.config(guild)?, &claims))
    })
    .await
}
