//! Replies and embeds for the economy commands. Amounts always go through the guild's
//! `GuildConfig::fmt_amount` (its currency name and symbol); times as Discord timestamps so every
//! reader sees their own time zone. Pure functions: easy to test, no I/O.

use chrono::{DateTime, Utc};
use poise::serenity_prelude as serenity;

use super::reply::Reply;

mod shop;
use crate::domain::{Account, GuildConfig, Transaction, TxKind, UserId};
use crate::economy::{AdjustOutcome, DailyOutcome, LeaderboardEntry, Page, TransferOutcome};
pub use shop::{
    inventory, item_changed, purchase, shop_item_message, shop_listing, stock_text, used,
};

pub mod tasks;
pub use tasks::task_message;

/// A channel message Coffer posts or edits itself (a shop item, a task, a review): one embed
/// and its button rows.
#[derive(Debug, Clone)]
pub struct ChannelMessage {
    pub embed: serenity::CreateEmbed,
    /// Empty removes every button when editing.
    pub components: Vec<serenity::CreateActionRow>,
}

impl ChannelMessage {
    /// The body of `POST /channels/{id}/messages`.
    pub fn create(&self) -> serenity::CreateMessage {
        serenity::CreateMessage::new()
            .embed(self.embed.clone())
            .components(self.components.clone())
            .allowed_mentions(serenity::CreateAllowedMentions::new())
    }

    /// The body of `PATCH /channels/{id}/messages/{id}`: replaces the whole message (any text
    /// it had is cleared).
    pub fn edit(&self) -> serenity::EditMessage {
        serenity::EditMessage::new()
            .content("")
            .embed(self.embed.clone())
            .components(self.components.clone())
            .allowed_mentions(serenity::CreateAllowedMentions::new())
    }

    /// As an interaction reply (the components travel separately).
    pub fn reply(&self, ephemeral: bool) -> Reply {
        Reply::embed(self.embed.clone(), ephemeral)
    }
}

const GOLD: u32 = 0xF1C40F;
const GREEN: u32 = 0x2ECC71;
const BLUE: u32 = 0x3498DB;

/// `<t:1700000000:R>`: "in 3 hours" in the reader's locale.
pub fn relative_time(at: DateTime<Utc>) -> String {
    format!("<t:{}:R>", at.timestamp())
}

/// `<t:1700000000:f>`: a full date and time in the reader's zone.
pub fn full_time(at: DateTime<Utc>) -> String {
    format!("<t:{}:f>", at.timestamp())
}

pub fn mention(user: UserId) -> String {
    format!("<@{user}>")
}

/// Lines of embed text are cut here so a long list never exceeds Discord's 4096 limit.
const DESCRIPTION_LIMIT: usize = 4000;

fn join_lines(lines: impl IntoIterator<Item = String>) -> String {
    let mut out = String::new();
    for line in lines {
        if out.len() + line.len() + 1 > DESCRIPTION_LIMIT {
            out.push('…');
            break;
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Page `n` of `m` ("Page 1 of 1" for an empty list).
fn page_footer<T>(page: &Page<T>) -> String {
    let per = page.limit.max(1);
    let pages = page.total.div_ceil(per).max(1);
    let current = page.offset / per + 1;
    format!("Page {current} of {pages} · {} in total", page.total)
}

pub fn balance(cfg: &GuildConfig, account: &Account, own: bool) -> Reply {
    let title = if own {
        "Your balance".to_owned()
    } else {
        "Balance".to_owned()
    };
    let embed = serenity::CreateEmbed::new()
        .title(title)
        .colour(GOLD)
        .description(format!(
            "{}\n**{}**",
            mention(account.user),
            cfg.fmt_amount(account.balance.get())
        ))
        .field("Earned", cfg.fmt_amount(account.total_earned.get()), true)
        .field("Spent", cfg.fmt_amount(account.total_spent.get()), true);
    Reply::embed(embed, true)
}

pub fn daily(cfg: &GuildConfig, out: &DailyOutcome) -> Reply {
    Reply::private(format!(
        "You claimed your daily {}. Your balance is now {}. Next claim {} ({}).",
        cfg.fmt_amount(out.amount.get()),
        cfg.fmt_amount(out.balance.get()),
        relative_time(out.next_claim_at),
        full_time(out.next_claim_at),
    ))
}

pub fn transfer(cfg: &GuildConfig, from: UserId, to: UserId, out: &TransferOutcome) -> Reply {
    let mut text = format!(
        "{} sent {} to {}.",
        mention(from),
        cfg.fmt_amount(out.amount.get()),
        mention(to)
    );
    if out.tax.get() > 0 {
        text.push_str(&format!(
            " Transfer tax: {}.",
            cfg.fmt_amount(out.tax.get())
        ));
    }
    Reply::public(text)
}

/// A leaderboard page, and the caller's own place when they are on the board.
pub fn leaderboard(
    cfg: &GuildConfig,
    page: &Page<LeaderboardEntry>,
    mine: Option<&LeaderboardEntry>,
) -> Reply {
    let mut body = if page.items.is_empty() {
        "Nobody is on the leaderboard yet. Try `/daily`!".to_owned()
    } else {
        join_lines(page.items.iter().map(|e| {
            format!(
                "**{}.** {} — {}",
                e.rank,
                mention(e.user),
                cfg.fmt_amount(e.balance.get())
            )
        }))
    };
    if let Some(me) = mine {
        body.push_str(&format!(
            "\n\nYour rank: **#{}** of {} — {}",
            me.rank,
            page.total,
            cfg.fmt_amount(me.balance.get())
        ));
    }
    let embed = serenity::CreateEmbed::new()
        .title(format!("Leaderboard · {}", cfg.currency_name))
        .colour(BLUE)
        .description(body)
        .footer(serenity::CreateEmbedFooter::new(page_footer(page)));
    Reply::embed(embed, false)
}

/// What a history line says about an entry: a transfer leg names its counterparty (the entry's
/// `counterparty` metadata) as a mention; any other entry, or one without that metadata, shows
/// its stored description.
fn entry_text(t: &Transaction) -> String {
    let counterparty = t.metadata.get("counterparty").and_then(|v| match v {
        serde_json::Value::String(s) => s.parse::<UserId>().ok(),
        other => other.as_u64().map(UserId),
    });
    match (t.kind, counterparty) {
        (TxKind::TransferSend, Some(u)) => format!("Sent to {}", mention(u)),
        (TxKind::TransferReceive, Some(u)) => format!("Received from {}", mention(u)),
        _ => t.description.clone(),
    }
}

pub fn history(cfg: &GuildConfig, page: &Page<Transaction>) -> Reply {
    let body = if page.items.is_empty() {
        "No transactions yet.".to_owned()
    } else {
        join_lines(page.items.iter().map(|t| {
            let sign = if t.amount.get() > 0 { "+" } else { "" };
            format!(
                "`{sign}{}` {} · balance {} · {}",
                t.amount,
                entry_text(t),
                t.balance_after,
                relative_time(t.at)
            )
        }))
    };
    let embed = serenity::CreateEmbed::new()
        .title("Your transactions")
        .colour(BLUE)
        .description(body)
        .footer(serenity::CreateEmbedFooter::new(format!(
            "{} · amounts in {}",
            page_footer(page),
            cfg.currency_name
        )));
    Reply::embed(embed, true)
}

pub fn adjusted(cfg: &GuildConfig, user: UserId, out: &AdjustOutcome) -> Reply {
    let text = match &out.transaction {
        None => format!(
            "{} already has {}; nothing changed.",
            mention(user),
            cfg.fmt_amount(out.balance.get())
        ),
        Some(tx) => format!(
            "{}: {} → {} (transaction {}).",
            mention(user),
            cfg.fmt_amount(out.balance_before.get()),
            cfg.fmt_amount(out.balance.get()),
            tx.id
        ),
    };
    let embed = serenity::CreateEmbed::new()
        .title("Balance updated")
        .colour(GREEN)
        .description(text);
    Reply::embed(embed, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Money;

    fn json(r: &Reply) -> String {
        serde_json::to_string(&r.embeds).unwrap() + r.content.as_deref().unwrap_or("")
    }

    #[test]
    fn channel_messages_ping_nobody_when_posted_or_edited() {
        let m = ChannelMessage {
            embed: serenity::CreateEmbed::new().title("@everyone free coins"),
            components: Vec::new(),
        };
        for body in [
            serde_json::to_value(m.create()).unwrap(),
            serde_json::to_value(m.edit()).unwrap(),
        ] {
            let am = &body["allowed_mentions"];
            for k in ["parse", "roles", "users"] {
                assert_eq!(am[k], serde_json::json!([]), "{body}");
            }
        }
    }

    #[test]
    fn amounts_use_the_guilds_currency_name_and_symbol() {
        let cfg = GuildConfig {
            currency_name: "gems".into(),
            currency_symbol: "💎".into(),
            ..GuildConfig::default()
        };
        let out = TransferOutcome {
            amount: Money::new(1500),
            tax: Money::new(15),
            sender_balance: Money::new(0),
            receiver_balance: Money::new(1500),
            transaction_ids: vec![1, 2, 3],
        };
        let r = transfer(&cfg, UserId(1), UserId(2), &out);
        let text = json(&r);
        assert!(text.contains("💎 1,500 gems"), "{text}");
        assert!(text.contains("tax: 💎 15 gems"), "{text}");
        assert!(!r.ephemeral);
    }

    #[test]
    fn empty_lists_say_so_and_pages_are_counted() {
        let cfg = GuildConfig::default();
        let page: Page<LeaderboardEntry> = Page {
            items: vec![],
            total: 0,
            offset: 0,
            limit: 10,
        };
        let text = json(&leaderboard(&cfg, &page, None));
        assert!(!text.contains("Your rank"), "{text}");
        assert!(text.contains("Nobody is on the leaderboard yet"), "{text}");
        assert!(text.contains("Page 1 of 1"), "{text}");
        let page: Page<LeaderboardEntry> = Page {
            items: vec![],
            total: 25,
            offset: 10,
            limit: 10,
        };
        assert_eq!(page_footer(&page), "Page 2 of 3 · 25 in total");
    }

    fn entry(id: u64, kind: TxKind, description: &str, counterparty: Option<&str>) -> Transaction {
        let mut metadata = std::collections::BTreeMap::new();
        if let Some(c) = counterparty {
            metadata.insert("counterparty".to_owned(), serde_json::json!(c));
        }
        Transaction {
            id,
            guild: crate::domain::GuildId(1),
            user: UserId(7),
            amount: Money::new(-5),
            balance_before: Money::new(10),
            balance_after: Money::new(5),
            kind,
            description: description.into(),
            at: chrono::DateTime::UNIX_EPOCH,
            actor: crate::domain::Actor::User(UserId(7)),
            source: crate::domain::Source::DiscordCommand,
            group: id,
            reverses: None,
            metadata,
        }
    }

    #[test]
    fn history_mentions_a_transfers_counterparty_from_metadata() {
        let page = Page {
            items: vec![
                entry(
                    3,
                    TxKind::TransferSend,
                    "Sent to bob (user 456)",
                    Some("456"),
                ),
                entry(
                    2,
                    TxKind::TransferReceive,
                    "Received from user 123",
                    Some("123"),
                ),
                // Written before descriptions were plain: reads as it always did.
                entry(1, TxKind::TransferSend, "Sent to <@789>", Some("789")),
                entry(0, TxKind::AdminAdd, "Added by an admin", None),
            ],
            total: 4,
            offset: 0,
            limit: 10,
        };
        let text = json(&history(&GuildConfig::default(), &page));
        assert!(text.contains("Sent to <@456>"), "{text}");
        assert!(text.contains("Received from <@123>"), "{text}");
        assert!(text.contains("Sent to <@789>"), "{text}");
        assert!(text.contains("Added by an admin"), "{text}");
        assert!(!text.contains("user 456"), "{text}");
    }

    #[test]
    fn long_lists_are_cut_below_the_embed_limit() {
        let text = join_lines((0..1000).map(|i| format!("line number {i}")));
        assert!(text.len() <= DESCRIPTION_LIMIT + 4);
        assert!(text.ends_with('…'));
    }
}
