//! The currency commands members use: `/balance`, `/daily`, `/give`, `/leaderboard`,
//! `/history`. Personal answers are ephemeral; `/give` and `/leaderboard` are public.

use poise::serenity_prelude as serenity;

use super::{author, guild, op_meta};
use crate::discord::reply::{respond_blocking, Reply};
use crate::discord::{render, user_id, BotError, Ctx};
use crate::domain::{DomainError, Money, MAX_AMOUNT};

const PER_PAGE: u64 = 10;

/// Show your balance, or another member's.
#[poise::command(slash_command, guild_only)]
pub async fn balance(
    ctx: Ctx<'_>,
    #[description = "Whose balance to show (yours if empty)"] user: Option<serenity::User>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let me = author(ctx);
    let target = user.as_ref().map(|u| user_id(u.id)).unwrap_or(me);
    respond_blocking(ctx, true, move |s| {
        let cfg = s.guilds.config(guild)?;
        if target == me {
            return Ok(render::balance(&cfg, &s.economy.account(guild, me)?, true));
        }
        Ok(match s.economy.find_account(guild, target)? {
            Some(a) => render::balance(&cfg, &a, false),
            None => Reply::private(format!(
                "{} has no {} yet.",
                render::mention(target),
                cfg.currency_name
            )),
        })
    })
    .await
}

/// Claim your daily reward.
#[poise::command(slash_command, guild_only)]
pub async fn daily(ctx: Ctx<'_>) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let me = author(ctx);
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let out = s.economy.daily(guild, me, &meta)?;
        Ok(render::daily(&s.guilds.config(guild)?, &out))
    })
    .await
}

/// Send some of your money to another member.
#[poise::command(slash_command, guild_only)]
pub async fn give(
    ctx: Ctx<'_>,
    #[description = "Who gets the money"] user: serenity::User,
    #[max_length = 32]
    #[description = "How much, e.g. 250, 1,500 or 2k"]
    amount: String,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let me = author(ctx);
    if user.bot {
        return Err(DomainError::Refused("Bots can't hold money.".into()).into());
    }
    let to = user_id(user.id);
    let amount = Money::parse(&amount, MAX_AMOUNT)?;
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let out = s.economy.transfer(guild, me, to, amount, &meta)?;
        Ok(render::transfer(&s.guilds.config(guild)?, me, to, &out))
    })
    .await
}

/// See who has the most money on this server.
#[poise::command(slash_command, guild_only)]
pub async fn leaderboard(
    ctx: Ctx<'_>,
    #[description = "Page number (10 members per page)"]
    #[min = 1]
    #[max = 100000]
    page: Option<u32>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let page = u64::from(page.unwrap_or(1).max(1));
    let me = author(ctx);
    respond_blocking(ctx, false, move |s| {
        let list = s.economy.leaderboard(guild, page, PER_PAGE)?;
        let mine = s.economy.rank(guild, me)?;
        Ok(render::leaderboard(
            &s.guilds.config(guild)?,
            &list,
            mine.as_ref(),
        ))
    })
    .await
}

/// Where did my money go? Your own transactions, newest first.
#[poise::command(slash_command, guild_only)]
pub async fn history(
    ctx: Ctx<'_>,
    #[description = "Page number (10 entries per page)"]
    #[min = 1]
    #[max = 100000]
    page: Option<u32>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let me = author(ctx);
    let page = u64::from(page.unwrap_or(1).max(1));
    respond_blocking(ctx, true, move |s| {
        let list = s.economy.history(guild, me, page, PER_PAGE)?;
        Ok(render::history(&s.guilds.config(guild)?, &list))
    })
    .await
}
