//! `/admin task create|edit|delete|close`: task management for server admins (the admin check
//! on `/admin` runs on every call). The task's message in the task channel is posted and kept
//! up to date by the reconciler from the outbox the service writes.

use poise::serenity_prelude as serenity;

use super::tasks::{any_tasks, resolve_task};
use super::{guild, op_meta};
use crate::discord::reply::{respond_blocking, Reply};
use crate::discord::{render, BotError, Ctx};
use crate::domain::tasks::{NewTask, Task, TaskPatch};
use crate::domain::{GuildConfig, Money, RoleId, MAX_AMOUNT};

/// Create, change and close tasks members can earn rewards with.
#[poise::command(
    slash_command,
    rename = "task",
    subcommands("task_create", "task_edit", "task_close", "task_delete"),
    subcommand_required
)]
pub async fn task(_ctx: Ctx<'_>) -> Result<(), BotError> {
    Ok(())
}

fn admin_reply(cfg: &GuildConfig, task: &Task, what: &str) -> Reply {
    let place = match cfg.task_channel_id {
        Some(c) => format!("Its message in <#{c}> will be updated."),
        None => "Set a task channel with `/admin config channel tasks` so members see it.".into(),
    };
    let mut r = render::task_message(task, cfg).reply(true);
    r.content = Some(format!(
        "{what} task #{} **{}**. {place}",
        task.id, task.name
    ));
    r
}

fn hours_from(
    now: chrono::DateTime<chrono::Utc>,
    hours: Option<u32>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    hours.map(|h| now + chrono::Duration::hours(i64::from(h)))
}

/// Create a task.
#[poise::command(slash_command, rename = "create")]
#[allow(clippy::too_many_arguments)]
pub async fn task_create(
    ctx: Ctx<'_>,
    #[max_length = 100]
    #[description = "Task name"]
    name: String,
    #[max_length = 32]
    #[description = "Reward, e.g. 500 or 1.5k"]
    reward: String,
    #[max_length = 2000]
    #[description = "What to do and what counts as proof"]
    description: Option<String>,
    #[description = "Hours a member has to finish after claiming (default 24)"]
    #[min = 1]
    #[max = 8760]
    hours: Option<u32>,
    #[description = "How many members can take it (empty = unlimited)"]
    #[min = 1]
    #[max = 100000]
    spots: Option<i64>,
    #[max_length = 50]
    #[description = "Category (default General)"]
    category: Option<String>,
    #[description = "A role given on completion"] role: Option<serenity::Role>,
    #[description = "Close to new claims after this many hours"]
    #[min = 1]
    #[max = 8760]
    open_for_hours: Option<u32>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let meta = op_meta(ctx);
    let reward = Money::parse(&reward, MAX_AMOUNT)?;
    respond_blocking(ctx, true, move |s| {
        let new = NewTask {
            name,
            description: description.unwrap_or_default(),
            reward: reward.get(),
            duration_hours: hours.unwrap_or(24),
            expires_at: hours_from(s.now(), open_for_hours),
            max_claims: spots.unwrap_or(-1),
            category: category.unwrap_or_default(),
            role_id: role.as_ref().map(|r| RoleId(r.id.get())),
            role_name: role.map(|r| r.name),
        };
        let t = s.tasks.create(guild, new, &meta)?;
        Ok(admin_reply(&s.guilds.config(guild)?, &t, "Created"))
    })
    .await
}

/// Change a task; empty options stay as they are.
#[poise::command(slash_command, rename = "edit")]
#[allow(clippy::too_many_arguments)]
pub async fn task_edit(
    ctx: Ctx<'_>,
    #[description = "The task"]
    #[autocomplete = "any_tasks"]
    #[max_length = 100]
    task: String,
    #[max_length = 100]
    #[description = "New name"]
    name: Option<String>,
    #[max_length = 2000]
    #[description = "New description"]
    description: Option<String>,
    #[max_length = 32]
    #[description = "New reward, e.g. 500 or 1.5k"]
    reward: Option<String>,
    #[description = "New hours to finish after claiming"]
    #[min = 1]
    #[max = 8760]
    hours: Option<u32>,
    #[description = "New number of spots (-1 = unlimited)"]
    #[min = -1]
    #[max = 100000]
    spots: Option<i64>,
    #[max_length = 50]
    #[description = "New category"]
    category: Option<String>,
    #[description = "New role reward"] role: Option<serenity::Role>,
    #[description = "Remove the role reward"] remove_role: Option<bool>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let meta = op_meta(ctx);
    let reward = reward
        .map(|r| Money::parse(&r, MAX_AMOUNT).map(Money::get))
        .transpose()?;
    let (role_id, role_name) = match (role, remove_role.unwrap_or(false)) {
        (_, true) => (Some(None), Some(None)),
        (Some(r), false) => (Some(Some(RoleId(r.id.get()))), Some(Some(r.name))),
        (None, false) => (None, None),
    };
    let patch = TaskPatch {
        name,
        description,
        reward,
        duration_hours: hours,
        max_claims: spots,
        category,
        role_id,
        role_name,
        ..TaskPatch::default()
    };
    respond_blocking(ctx, true, move |s| {
        let id = resolve_task(&s.tasks, guild, &task)?;
        let t = s.tasks.edit(guild, id, &patch, &meta)?;
        Ok(admin_reply(&s.guilds.config(guild)?, &t, "Updated"))
    })
    .await
}

/// Close a task to new claims (running claims can still be finished and reviewed).
#[poise::command(slash_command, rename = "close")]
pub async fn task_close(
    ctx: Ctx<'_>,
    #[description = "The task"]
    #[autocomplete = "any_tasks"]
    #[max_length = 100]
    task: String,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let id = resolve_task(&s.tasks, guild, &task)?;
        let t = s.tasks.close(guild, id, &meta)?;
        Ok(admin_reply(&s.guilds.config(guild)?, &t, "Closed"))
    })
    .await
}

/// Delete a task and its claims (rewards already paid stay paid).
#[poise::command(slash_command, rename = "delete")]
pub async fn task_delete(
    ctx: Ctx<'_>,
    #[description = "The task"]
    #[autocomplete = "any_tasks"]
    #[max_length = 100]
    task: String,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let id = resolve_task(&s.tasks, guild, &task)?;
        let d = s.tasks.delete(guild, id, &meta)?;
        Ok(Reply::private(format!(
            "Deleted task #{} **{}** and its {} claim(s). Its message will be removed.",
            d.task.id, d.task.name, d.claims_removed
        )))
    })
    .await
}
