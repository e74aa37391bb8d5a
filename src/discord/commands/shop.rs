//! The shop commands members use: `/shop`, `/buy`, `/inventory`, `/use`. Item options
//! autocomplete (for-sale items for `/buy`, the caller's own items for `/use`); an autocomplete
//! choice carries `#<item id>`, typed text is matched by name. Personal answers are ephemeral.

use poise::serenity_prelude as serenity;

use super::{author, guild, op_meta};
use crate::discord::reply::{respond, respond_blocking};
use crate::discord::{render, user_id, BotError, Ctx};
use crate::domain::shop::{Item, MAX_QUANTITY};
use crate::domain::{DomainError, GuildId};
use crate::error::Error;
use crate::services::blocking;
use crate::shop::{ItemFilter, Shop};

/// The value of an autocomplete choice for `item`.
pub fn choice_value(item_id: u64) -> String {
    format!("#{item_id}")
}

/// What an item option names: a chosen `#<id>`, or typed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemRef {
    Id(u64),
    Text(String),
}

/// Reads an item option as Discord delivers it.
pub fn parse_item_ref(raw: &str) -> ItemRef {
    let t = raw.trim();
    match t.strip_prefix('#').map(str::parse::<u64>) {
        Some(Ok(id)) => ItemRef::Id(id),
        _ => ItemRef::Text(t.to_owned()),
    }
}

/// The refusal for an item id that is not (or no longer) in this guild's shop.
pub const GONE: &str = "This item is no longer in the shop. Use /shop to see what's for sale.";

/// The item an option names: a chosen id, else an exact name (case-insensitive), else a bare
/// number as an id. Only items of `guild` are ever found.
pub fn resolve_item(shop: &Shop, guild: GuildId, raw: &str) -> Result<Item, Error> {
    let text = match parse_item_ref(raw) {
        ItemRef::Id(id) => {
            return shop.get_item(guild, id).map_err(|e| match e {
                Error::Domain(DomainError::NotFound(_)) => DomainError::Refused(GONE.into()).into(),
                other => other,
            })
        }
        ItemRef::Text(t) => t,
    };
    if let Some(item) = shop.find_item_by_name(guild, &text)? {
        return Ok(item);
    }
    if let Ok(id) = text.parse::<u64>() {
        if let Ok(item) = shop.get_item(guild, id) {
            return Ok(item);
        }
    }
    Err(DomainError::Refused(format!(
        "There is no item named \"{}\". Use /shop to see what's for sale.",
        crate::domain::embed::truncate_chars(&text, 100)
    ))
    .into())
}

/// An autocomplete choice: the label, price and stock, valued `#<id>`.
fn choice(label: String, id: u64) -> serenity::AutocompleteChoice {
    serenity::AutocompleteChoice::new(
        crate::domain::embed::truncate_chars(&label, 100),
        choice_value(id),
    )
}

async fn for_sale_choices(ctx: Ctx<'_>, partial: &str) -> Vec<serenity::AutocompleteChoice> {
    let (Ok(guild), Ok(services)) = (guild(ctx), ctx.data().services()) else {
        return Vec::new();
    };
    let partial = partial.to_owned();
    let found = blocking(move || {
        let cfg = services.guilds.config(guild)?;
        let items = services.shop.search_items(guild, &partial, 25)?;
        Ok(items
            .into_iter()
            .map(|i| {
                let label = format!(
                    "{} — {} · {}",
                    i.label(),
                    cfg.fmt_amount(i.price.get()),
                    render::stock_text(i.stock)
                );
                choice(label, i.id)
            })
            .collect())
    })
    .await;
    found.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "buy autocomplete failed");
        Vec::new()
    })
}

async fn inventory_choices(ctx: Ctx<'_>, partial: &str) -> Vec<serenity::AutocompleteChoice> {
    let (Ok(guild), Ok(services)) = (guild(ctx), ctx.data().services()) else {
        return Vec::new();
    };
    let (me, needle) = (author(ctx), partial.trim().to_lowercase());
    let shop = services.shop;
    let found = blocking(move || {
        Ok(shop
            .inventory(guild, me)?
            .into_iter()
            .filter(|e| e.quantity > 0 && e.name.to_lowercase().contains(&needle))
            .take(25)
            .map(|e| {
                let label = match &e.emoji {
                    Some(emoji) => format!("{emoji} {} × {}", e.name, e.quantity),
                    None => format!("{} × {}", e.name, e.quantity),
                };
                choice(label, e.item_id)
            })
            .collect())
    })
    .await;
    found.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "use autocomplete failed");
        Vec::new()
    })
}

/// Browse what's for sale, with prices and stock.
#[poise::command(slash_command, guild_only)]
pub async fn shop(
    ctx: Ctx<'_>,
    #[max_length = 50]
    #[description = "Only show this category"]
    category: Option<String>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    respond_blocking(ctx, false, move |s| {
        let cfg = s.guilds.config(guild)?;
        if !cfg.features.shop {
            return Err(
                DomainError::Refused("The shop is turned off on this server.".into()).into(),
            );
        }
        let all = ItemFilter::shop();
        let categories = s.shop.categories(guild, &all)?;
        let filter = match &category {
            Some(c) => all.in_category(c.trim()),
            None => all,
        };
        let items = s.shop.list_items(guild, &filter)?;
        // An empty category answers with every category there is.
        let shown = if items.is_empty() {
            categories
        } else {
            s.shop.categories(guild, &filter)?
        };
        Ok(render::shop_listing(
            &cfg,
            &items,
            &shown,
            category.as_deref(),
        ))
    })
    .await
}

/// Buy an item from the shop.
#[poise::command(slash_command, guild_only)]
pub async fn buy(
    ctx: Ctx<'_>,
    #[description = "The item to buy (start typing to search)"]
    #[autocomplete = "for_sale_choices"]
    #[max_length = 100]
    item: String,
    #[description = "How many (1 if empty)"]
    #[min = 1]
    #[max = 100]
    quantity: Option<u32>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let me = author(ctx);
    let quantity = quantity.unwrap_or(1).clamp(1, MAX_QUANTITY);
    let meta = op_meta(ctx);
    let s = ctx.data().services()?;
    respond(ctx, true, async move {
        let s2 = s.clone();
        let (out, cfg) = blocking(move || {
            let found = resolve_item(&s.shop, guild, &item)?;
            let out = s.shop.purchase(guild, me, found.id, quantity, &meta)?;
            Ok((out, s.guilds.config(guild)?))
        })
        .await?;
        let grant = crate::discord::shop_buttons::settled_grant(&s2, guild, &out).await?;
        Ok(render::purchase(&cfg, &out, grant.as_ref()))
    })
    .await
}

/// See the items you own, or another member's.
#[poise::command(slash_command, guild_only)]
pub async fn inventory(
    ctx: Ctx<'_>,
    #[description = "Whose items to show (yours if empty)"] user: Option<serenity::User>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let me = author(ctx);
    let target = user.as_ref().map(|u| user_id(u.id)).unwrap_or(me);
    respond_blocking(ctx, true, move |s| {
        let entries = s.shop.inventory(guild, target)?;
        Ok(render::inventory(target, &entries, target == me))
    })
    .await
}

/// Use one of your items.
#[poise::command(slash_command, guild_only, rename = "use")]
pub async fn use_item(
    ctx: Ctx<'_>,
    #[description = "The item to use (start typing to search your items)"]
    #[autocomplete = "inventory_choices"]
    #[max_length = 100]
    item: String,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let me = author(ctx);
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let found = resolve_item(&s.shop, guild, &item)?;
        let out = s.shop.use_item(guild, me, found.id, &meta)?;
        Ok(render::used(&out))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::shop::ItemInput;
    use crate::economy::OpMeta;
    use crate::testing;

    #[test]
    fn item_options_read_chosen_ids_and_typed_text() {
        assert_eq!(parse_item_ref("#12"), ItemRef::Id(12));
        assert_eq!(parse_item_ref(" #12 "), ItemRef::Id(12));
        assert_eq!(parse_item_ref("#x"), ItemRef::Text("#x".into()));
        assert_eq!(
            parse_item_ref("Golden Ticket"),
            ItemRef::Text("Golden Ticket".into())
        );
        assert_eq!(parse_item_ref(&choice_value(7)), ItemRef::Id(7));
    }

    #[test]
    fn resolving_prefers_the_chosen_id_then_the_exact_name_and_stays_in_the_guild() {
        let (_ts, services) = testing::services();
        let shop = services.shop;
        let (g, other) = (GuildId(1), GuildId(2));
        let sys = OpMeta::system();
        let one = shop.create_item(g, ItemInput::new("2", 10), &sys).unwrap();
        let two = shop
            .create_item(g, ItemInput::new("Cake", 10), &sys)
            .unwrap();
        for i in 0..5 {
            shop.create_item(other, ItemInput::new(format!("x{i}"), 1), &sys)
                .unwrap();
        }
        assert_eq!(resolve_item(&shop, g, "#2").unwrap().id, two.id);
        // An item named "2" wins over item id 2 when typed.
        assert_eq!(resolve_item(&shop, g, "2").unwrap().id, one.id);
        assert_eq!(resolve_item(&shop, g, " cake ").unwrap().id, two.id);
        // Item 5 exists only in the other guild.
        let e = resolve_item(&shop, g, "#5").unwrap_err();
        assert_eq!(e.user_message(), GONE);
        let e = resolve_item(&shop, g, "Pie").unwrap_err();
        assert!(
            e.user_message().contains("There is no item named \"Pie\""),
            "{}",
            e.user_message()
        );
    }
}
