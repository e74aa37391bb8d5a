//! Replies and messages for the shop: the `/shop` listing, purchases, inventories, `/use`, and
//! the item message (embed + persistent Buy button) the reconciler posts in the shop channel.
//! Pure functions; amounts through the guild's currency.

use poise::serenity_prelude as serenity;

use super::{join_lines, mention, ChannelMessage, GOLD, GREEN};
use crate::discord::reply::Reply;
use crate::discord::shop_buttons::ShopButton;
use crate::domain::embed::{limits, truncate_chars};
use crate::domain::shop::{Item, Stock};
use crate::domain::{GuildConfig, UserId};
use crate::guild::{GrantState, RoleGrant};
use crate::shop::{InventoryEntry, PurchaseOutcome, UseOutcome};

/// Embed text budget for a listing, below Discord's 6000 total.
const LISTING_BUDGET: usize = 5500;
/// Characters of an item's description shown in a listing line.
const LISTING_DESCRIPTION: usize = 100;

/// "unlimited", "3 left" or "sold out".
pub fn stock_text(stock: Stock) -> String {
    match stock {
        Stock::Unlimited => "unlimited".into(),
        Stock::Limited(0) => "sold out".into(),
        Stock::Limited(n) => format!("{n} left"),
    }
}

fn listing_line(cfg: &GuildConfig, item: &Item) -> String {
    let mut line = format!(
        "**{}** — {} · {}",
        item.label(),
        cfg.fmt_amount(item.price.get()),
        stock_text(item.stock)
    );
    if !item.description.is_empty() {
        let one_line = item.description.replace('\n', " ");
        line.push_str(&format!(
            "\n> {}",
            truncate_chars(&one_line, LISTING_DESCRIPTION)
        ));
    }
    line
}

/// The `/shop` listing: one field per category (in `categories` order), items by name.
/// `category` is the filter the member asked for, if any.
pub fn shop_listing(
    cfg: &GuildConfig,
    items: &[Item],
    categories: &[String],
    category: Option<&str>,
) -> Reply {
    let title = match category {
        Some(c) => format!("Shop · {c}"),
        None => "Shop".to_owned(),
    };
    let mut embed = serenity::CreateEmbed::new().title(&title).colour(GOLD);
    let mut used = title.len();
    if items.is_empty() {
        let text = match category {
            Some(c) if !categories.is_empty() => format!(
                "Nothing for sale in **{c}**. Categories: {}.",
                categories.join(", ")
            ),
            _ => "Nothing for sale yet. Check back later!".to_owned(),
        };
        return Reply::embed(embed.description(text), false);
    }
    let mut shown = 0;
    let mut fields = 0;
    for cat in categories {
        let mut in_cat: Vec<&Item> = items
            .iter()
            .filter(|i| i.category.to_lowercase() == cat.to_lowercase())
            .collect();
        if in_cat.is_empty() {
            continue;
        }
        in_cat.sort_by_key(|i| i.name.to_lowercase());
        let lines: Vec<String> = in_cat.iter().map(|i| listing_line(cfg, i)).collect();
        let value = fit_field(&lines);
        let name = truncate_chars(cat, limits::FIELD_NAME);
        if fields == limits::FIELDS || used + name.len() + value.len() > LISTING_BUDGET {
            break;
        }
        used += name.len() + value.len();
        shown += value.lines().filter(|l| l.starts_with("**")).count();
        fields += 1;
        embed = embed.field(name, value, false);
    }
    let mut footer = format!(
        "{} item{} · buy with /buy",
        items.len(),
        if items.len() == 1 { "" } else { "s" }
    );
    if shown < items.len() {
        footer.push_str(&format!(
            " · {} not shown: pick a category with /shop",
            items.len() - shown
        ));
    }
    if category.is_none() && categories.len() > 1 {
        footer.push_str(&format!(" · categories: {}", categories.join(", ")));
    }
    embed = embed.footer(serenity::CreateEmbedFooter::new(truncate_chars(
        &footer,
        limits::FOOTER,
    )));
    let mut for_sale: Vec<&Item> = items
        .iter()
        .filter(|i| i.is_for_sale() && i.stock != Stock::Limited(0))
        .collect();
    for_sale.sort_by_key(|i| i.name.to_lowercase());
    let buttons = for_sale
        .into_iter()
        .map(|i| {
            serenity::CreateButton::new(ShopButton::Buy(i.id).custom_id())
                .label(super::tasks::button_label(
                    "Buy",
                    &format!("{} ({})", i.name, cfg.fmt_amount(i.price.get())),
                ))
                .style(serenity::ButtonStyle::Success)
        })
        .collect();
    Reply::embed(embed, false).with_buttons(buttons)
}

/// Whole lines up to the field value limit, with "…" when some did not fit.
fn fit_field(lines: &[String]) -> String {
    let mut out = String::new();
    for line in lines {
        let extra = if out.is_empty() { 0 } else { 1 };
        if out.chars().count() + extra + line.chars().count() > limits::FIELD_VALUE - 2 {
            out.push_str("\n…");
            return out;
        }
        if extra == 1 {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

/// The private answer to a purchase (command or button).
pub fn purchase(cfg: &GuildConfig, out: &PurchaseOutcome, grant: Option<&RoleGrant>) -> Reply {
    let mut text = format!(
        "You bought {}× **{}** for {}. Your balance is now {}. You have {} of it.",
        out.quantity,
        out.item_name,
        cfg.fmt_amount(out.total.get()),
        cfg.fmt_amount(out.balance.get()),
        out.held
    );
    // Says what happened to the role reward, never more than the worker has done.
    match grant {
        Some(g) if g.state == GrantState::Granted => {
            text.push_str(&format!(" You now have the role <@&{}>.", g.role));
        }
        Some(g) if g.state == GrantState::Failed => text.push_str(&format!(
            " The role <@&{}> could not be given: {}. An admin can see this on the dashboard.",
            g.role,
            g.error.as_deref().unwrap_or("Discord refused")
        )),
        Some(g) => text.push_str(&format!(
            " Coffer is adding the role <@&{}>; it can take a moment.",
            g.role
        )),
        None => {}
    }
    let embed = serenity::CreateEmbed::new()
        .title("Purchase complete")
        .colour(GREEN)
        .description(text)
        .footer(serenity::CreateEmbedFooter::new(format!(
            "Transaction {}",
            out.transaction_id
        )));
    Reply::embed(embed, true)
}

/// A member's inventory; `own` when they asked about themselves.
pub fn inventory(user: UserId, entries: &[InventoryEntry], own: bool) -> Reply {
    let title = if own {
        "Your inventory".to_owned()
    } else {
        "Inventory".to_owned()
    };
    let body = if entries.is_empty() {
        if own {
            "You don't have any items yet. Browse the shop with /shop.".to_owned()
        } else {
            format!("{} doesn't have any items.", mention(user))
        }
    } else {
        let lines = entries.iter().map(|e| {
            let label = match &e.emoji {
                Some(emoji) => format!("{emoji} {}", e.name),
                None => e.name.clone(),
            };
            let usable = if e.usable && own {
                " · use it with /use"
            } else {
                ""
            };
            format!("**{label}** × {}{usable}", e.quantity)
        });
        let mut body = if own {
            String::new()
        } else {
            format!("{}\n", mention(user))
        };
        body.push_str(&join_lines(lines));
        body
    };
    let embed = serenity::CreateEmbed::new()
        .title(title)
        .colour(GOLD)
        .description(body);
    Reply::embed(embed, true)
}

/// The private answer to `/use`.
pub fn used(out: &UseOutcome) -> Reply {
    let mut text = match &out.use_message {
        Some(m) => format!("You used **{}**.\n{m}", out.name),
        None => format!("You used **{}**.", out.name),
    };
    text.push_str(&format!("\nYou have {} left.", out.remaining));
    Reply::private(truncate_chars(&text, limits::CONTENT))
}

/// An admin's confirmation after changing an item.
pub fn item_changed(cfg: &GuildConfig, verb: &str, item: &Item) -> Reply {
    let state = match (item.active, item.visible) {
        (true, true) => "for sale",
        (true, false) => "hidden",
        (false, _) => "not for sale",
    };
    Reply::private(format!(
        "{verb} **{}** (item {}): {} · stock {} · {state}.",
        item.label(),
        item.id,
        cfg.fmt_amount(item.price.get()),
        stock_text(item.stock)
    ))
}

/// The message the reconciler posts (and keeps current) for `item`: name, description, price,
/// stock, and a persistent Buy button, disabled while the item is sold out or not for sale.
pub fn shop_item_message(item: &Item, cfg: &GuildConfig) -> ChannelMessage {
    let mut embed = serenity::CreateEmbed::new()
        .title(truncate_chars(&item.label(), limits::TITLE))
        .colour(GOLD)
        .field("Price", cfg.fmt_amount(item.price.get()), true)
        .field("Stock", stock_text(item.stock), true)
        .field(
            "Category",
            truncate_chars(&item.category, limits::FIELD_VALUE),
            true,
        )
        .footer(serenity::CreateEmbedFooter::new(format!(
            "Item {} · or buy with /buy",
            item.id
        )));
    if !item.description.is_empty() {
        embed = embed.description(truncate_chars(&item.description, limits::DESCRIPTION));
    }
    if let Some(role) = item.role_id {
        embed = embed.field("Role reward", format!("<@&{role}>"), true);
    }
    if let Some(max) = item.max_per_user {
        embed = embed.field("Limit", format!("{max} per member"), true);
    }
    let buyable = item.is_for_sale() && !item.stock.is_out();
    let label = if item.stock.is_out() {
        "Sold out".to_owned()
    } else {
        format!("Buy · {}", cfg.fmt_amount(item.price.get()))
    };
    let button = serenity::CreateButton::new(ShopButton::Buy(item.id).custom_id())
        .label(truncate_chars(&label, 80))
        .style(serenity::ButtonStyle::Success)
        .disabled(!buyable);
    ChannelMessage {
        embed,
        components: vec![serenity::CreateActionRow::Buttons(vec![button])],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::shop::{Item, ItemInput};
    use crate::domain::Money;
    use chrono::Utc;

    fn item(id: u64, name: &str, price: i64, stock: i64, category: &str) -> Item {
        let mut input = ItemInput::new(name, price);
        input.stock = stock;
        input.category = category.into();
        Item::new(id, input.validate().unwrap(), Utc::now())
    }

    fn cfg() -> GuildConfig {
        GuildConfig {
            currency_name: "gems".into(),
            currency_symbol: "💎".into(),
            ..GuildConfig::default()
        }
    }

    fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
        serde_json::to_value(v).unwrap()
    }

    #[test]
    fn the_item_message_has_a_buy_button_with_a_guild_free_custom_id() {
        let it = item(7, "Golden Ticket", 1500, 3, "tickets");
        let msg = shop_item_message(&it, &cfg());
        let rows = json(&msg.components);
        let button = &rows[0]["components"][0];
        assert_eq!(button["custom_id"], "shop:buy:7");
        assert_eq!(button["label"], "Buy · 💎 1,500 gems");
        assert_eq!(button["disabled"], false);
        let embed = json(&msg.embed).to_string();
        assert!(embed.contains("Golden Ticket"), "{embed}");
        assert!(embed.contains("3 left"), "{embed}");
        assert!(embed.contains("💎 1,500 gems"), "{embed}");
        let create = json(&msg.create());
        assert_eq!(
            create["components"][0]["components"][0]["custom_id"],
            "shop:buy:7"
        );
    }

    #[test]
    fn a_sold_out_or_hidden_item_has_a_disabled_button() {
        let sold_out = item(1, "Cake", 10, 0, "food");
        let b = json(&shop_item_message(&sold_out, &cfg()).components);
        assert_eq!(b[0]["components"][0]["disabled"], true);
        assert_eq!(b[0]["components"][0]["label"], "Sold out");
        let mut hidden = item(2, "Pie", 10, -1, "food");
        hidden.active = false;
        let b = json(&shop_item_message(&hidden, &cfg()).components);
        assert_eq!(b[0]["components"][0]["disabled"], true);
    }

    #[test]
    fn the_listing_groups_by_category_with_prices_and_stock() {
        let items = vec![
            item(1, "Pie", 20, -1, "food"),
            item(2, "Cake", 10, 0, "food"),
            item(3, "VIP", 5000, 2, "roles"),
        ];
        let cats = vec!["food".to_owned(), "roles".to_owned()];
        let r = shop_listing(&cfg(), &items, &cats, None);
        assert!(!r.ephemeral);
        let e = json(&r.embeds[0]);
        assert_eq!(e["fields"][0]["name"], "food");
        let food = e["fields"][0]["value"].as_str().unwrap();
        assert!(
            food.starts_with("**Cake** — 💎 10 gems · sold out\n**Pie** — 💎 20 gems · unlimited"),
            "{food}"
        );
        assert_eq!(e["fields"][1]["value"], "**VIP** — 💎 5,000 gems · 2 left");
        let footer = e["footer"]["text"].as_str().unwrap();
        assert!(footer.contains("3 items"), "{footer}");
        assert!(footer.contains("categories: food, roles"), "{footer}");
    }

    #[test]
    fn a_huge_listing_stays_under_the_embed_limits() {
        let long = "x".repeat(900);
        let items: Vec<Item> = (1..=300)
            .map(|i| {
                let mut it = item(i, &format!("Item {i}"), 5, -1, &format!("cat{}", i % 40));
                it.description = long.clone();
                it
            })
            .collect();
        let mut cats: Vec<String> = (0..40).map(|c| format!("cat{c}")).collect();
        cats.sort();
        let r = shop_listing(&cfg(), &items, &cats, None);
        let e = json(&r.embeds[0]);
        let fields = e["fields"].as_array().unwrap();
        assert!(fields.len() <= 25);
        let total: usize = fields
            .iter()
            .map(|f| {
                let v = f["value"].as_str().unwrap();
                assert!(v.chars().count() <= 1024);
                f["name"].as_str().unwrap().len() + v.len()
            })
            .sum::<usize>()
            + e["footer"]["text"].as_str().unwrap().len()
            + e["title"].as_str().unwrap().len();
        assert!(total <= 6000, "{total}");
        assert!(e["footer"]["text"].as_str().unwrap().contains("not shown"));
    }

    #[test]
    fn an_empty_category_names_the_others() {
        let r = shop_listing(&cfg(), &[], &["food".into()], Some("toys"));
        let text = json(&r.embeds[0]).to_string();
        assert!(
            text.contains("Nothing for sale in **toys**. Categories: food."),
            "{text}"
        );
    }

    #[test]
    fn a_purchase_reply_is_private_and_uses_the_currency() {
        let out = PurchaseOutcome {
            item_id: 1,
            item_name: "Pie".into(),
            quantity: 2,
            unit_price: Money::new(20),
            total: Money::new(40),
            balance: Money::new(1060),
            transaction_id: 9,
            stock: Stock::Unlimited,
            held: 3,
            role_grant: None,
        };
        let r = purchase(&cfg(), &out, None);
        assert!(r.ephemeral);
        let text = json(&r.embeds[0]).to_string();
        assert!(
            text.contains("You bought 2× **Pie** for 💎 40 gems. Your balance is now 💎 1,060 gems. You have 3 of it."),
            "{text}"
        );
    }

    #[test]
    fn a_purchase_reply_says_what_happened_to_the_role_reward() {
        let out = PurchaseOutcome {
            item_id: 1,
            item_name: "VIP".into(),
            quantity: 1,
            unit_price: Money::new(20),
            total: Money::new(20),
            balance: Money::new(0),
            transaction_id: 9,
            stock: Stock::Unlimited,
            held: 1,
            role_grant: Some(4),
        };
        let now = chrono::Utc::now();
        let grant = |state, error: Option<&str>| RoleGrant {
            id: 4,
            user: UserId(1),
            role: crate::domain::RoleId(77),
            reason: "item:1".into(),
            state,
            error: error.map(str::to_owned),
            attempts: 0,
            next_attempt_at: None,
            created_at: now,
            updated_at: now,
        };
        let said = |g: &RoleGrant| json(&purchase(&cfg(), &out, Some(g)).embeds[0]).to_string();
        assert!(said(&grant(GrantState::Granted, None)).contains("You now have the role <@&77>"));
        let failed = said(&grant(GrantState::Failed, Some("Missing Permissions")));
        assert!(
            failed.contains("could not be given: Missing Permissions"),
            "{failed}"
        );
        assert!(said(&grant(GrantState::Pending, None)).contains("is adding the role <@&77>"));
        assert!(!said(&grant(GrantState::Pending, None)).contains("shortly"));
    }

    #[test]
    fn inventories_list_quantities_and_say_when_empty() {
        let entries = vec![InventoryEntry {
            item_id: 1,
            name: "Pie".into(),
            emoji: Some("🥧".into()),
            category: "food".into(),
            quantity: 4,
            usable: true,
        }];
        let r = inventory(UserId(5), &entries, true);
        assert!(r.ephemeral);
        let text = json(&r.embeds[0]).to_string();
        assert!(text.contains("**🥧 Pie** × 4 · use it with /use"), "{text}");
        let empty = inventory(UserId(5), &[], false);
        assert!(json(&empty.embeds[0])
            .to_string()
            .contains("<@5> doesn't have any items."));
    }
}
