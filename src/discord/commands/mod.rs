//! Every slash command, one file per area. Commands are thin: read the options, convert ids at
//! the edge, call services off the async workers (`reply::respond_blocking`), render a reply;
//! errors go to `on_error`.
//! Other areas (shop, tasks, announcements) add their file here and their commands to `all()`.

pub mod admin;
pub mod admin_announce;
pub mod admin_config;
pub mod admin_custom;
pub mod admin_shop;
pub mod admin_sync;
pub mod admin_tasks;
pub mod economy;
pub mod shop;
pub mod tasks;

use super::{BotError, Command, Ctx};
use crate::domain::{GuildId, IdemKey, Source, UserId};
use crate::economy::OpMeta;

/// The full command set, in registration order.
pub fn all() -> Vec<Command> {
    vec![
        economy::balance(),
        economy::daily(),
        economy::give(),
        economy::leaderboard(),
        economy::history(),
        shop::shop(),
        shop::buy(),
        shop::inventory(),
        shop::use_item(),
        admin::admin(),
        tasks::tasks(),
        tasks::claim(),
        tasks::task_submit(),
        tasks::mytasks(),
    ]
}

/// The guild the command runs in (every economy command is guild-only).
pub fn guild(ctx: Ctx<'_>) -> Result<GuildId, BotError> {
    ctx.guild_id()
        .map(super::guild_id)
        .ok_or_else(|| BotError::Internal("command used outside a server".into()))
}

pub fn author(ctx: Ctx<'_>) -> UserId {
    super::user_id(ctx.author().id)
}

/// Who is acting, through Discord, with the interaction id as the idempotency key (and the
/// command line as its input): Discord may deliver an interaction twice, and it must not pay
/// twice.
pub fn op_meta(ctx: Ctx<'_>) -> OpMeta {
    let meta = OpMeta::user(author(ctx), Source::DiscordCommand);
    match ctx {
        poise::Context::Application(a) => meta.with_key(IdemKey::interaction(
            a.interaction.id.get(),
            format!("command:{}", ctx.invocation_string()),
        )),
        poise::Context::Prefix(_) => meta,
    }
}
