//! `/admin shop ...`: create, edit, delete, restock, hide and show items. Every handler re-checks
//! the caller's admin level itself (on top of the `/admin` check), and every change goes through
//! the shop service, which audits it and queues the item's shop-channel message.

use poise::serenity_prelude as serenity;

use super::shop::{choice_value, resolve_item};
use super::{guild, op_meta};
use crate::discord::checks::{self, Level};
use crate::discord::reply::{respond_blocking, Reply};
use crate::discord::{render, BotError, Ctx};
use crate::domain::shop::{ItemInput, ItemPatch, Stock};
use crate::domain::{DomainError, Money, RoleId, MAX_AMOUNT};
use crate::services::blocking;
use crate::shop::{BulkAction, StockOp};

/// Refuses anyone below admin, whatever Discord showed them.
pub(super) async fn ensure_admin(ctx: Ctx<'_>) -> Result<(), BotError> {
    if checks::caller_level(ctx).await? >= Level::Admin {
        return Ok(());
    }
    Err(DomainError::Refused("Only server admins can use this command.".into()).into())
}

/// Every item, hidden and not-for-sale ones included, valued `#<id>`.
async fn any_item_choices(ctx: Ctx<'_>, partial: &str) -> Vec<serenity::AutocompleteChoice> {
    let (Ok(guild), Ok(services)) = (guild(ctx), ctx.data().services()) else {
        return Vec::new();
    };
    let (partial, shop) = (partial.to_owned(), services.shop);
    let found = blocking(move || {
        Ok(shop
            .search_all_items(guild, &partial, 25)?
            .into_iter()
            .map(|i| {
                let state = if i.is_for_sale() { "" } else { " (hidden)" };
                let label = format!("{}{state} · item {}", i.label(), i.id);
                serenity::AutocompleteChoice::new(
                    crate::domain::embed::truncate_chars(&label, 100),
                    choice_value(i.id),
                )
            })
            .collect())
    })
    .await;
    found.unwrap_or_else(|e: crate::Error| {
        tracing::warn!(error = %e, "admin item autocomplete failed");
        Vec::new()
    })
}

/// Manage the shop's items.
#[poise::command(
    slash_command,
    subcommands("create", "edit", "delete", "restock", "hide", "show"),
    subcommand_required,
    rename = "shop"
)]
pub async fn admin_shop(_ctx: Ctx<'_>) -> Result<(), BotError> {
    Ok(())
}

/// Add an item to the shop.
#[allow(clippy::too_many_arguments)]
#[poise::command(slash_command)]
pub async fn create(
    ctx: Ctx<'_>,
    #[max_length = 100]
    #[description = "The item's name"]
    name: String,
    #[max_length = 32]
    #[description = "The price, e.g. 500 or 1.5k"]
    price: String,
    #[max_length = 1000]
    #[description = "What the item is"]
    description: Option<String>,
    #[max_length = 50]
    #[description = "Shop category (general if empty)"]
    category: Option<String>,
    #[description = "How many are for sale (unlimited if empty)"]
    #[min = 0]
    stock: Option<i64>,
    #[max_length = 64]
    #[description = "An emoji shown before the name"]
    emoji: Option<String>,
    #[description = "A role buyers get"] role: Option<serenity::Role>,
    #[description = "The most one member may buy"]
    #[min = 1]
    max_per_user: Option<u32>,
    #[max_length = 1000]
    #[description = "What /use says for this item"]
    use_message: Option<String>,
    #[description = "Keep it out of the shop for now"] hidden: Option<bool>,
) -> Result<(), BotError> {
    ensure_admin(ctx).await?;
    let guild = guild(ctx)?;
    let mut input = ItemInput::new(name, Money::parse(&price, MAX_AMOUNT)?.get());
    input.description = description.unwrap_or_default();
    if let Some(c) = category {
        input.category = c;
    }
    input.stock = stock.unwrap_or(-1);
    input.emoji = emoji;
    input.role_id = role.map(|r| RoleId(r.id.get()));
    input.max_per_user = max_per_user;
    input.use_message = use_message;
    input.visible = !hidden.unwrap_or(false);
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let item = s.shop.create_item(guild, input, &meta)?;
        Ok(render::item_changed(
            &s.guilds.config(guild)?,
            "Created",
            &item,
        ))
    })
    .await
}

/// Change an item; empty options stay as they are.
#[allow(clippy::too_many_arguments)]
#[poise::command(slash_command)]
pub async fn edit(
    ctx: Ctx<'_>,
    #[description = "The item to change"]
    #[autocomplete = "any_item_choices"]
    #[max_length = 100]
    item: String,
    #[max_length = 100]
    #[description = "New name"]
    name: Option<String>,
    #[max_length = 32]
    #[description = "New price, e.g. 500 or 1.5k"]
    price: Option<String>,
    #[max_length = 1000]
    #[description = "New description"]
    description: Option<String>,
    #[max_length = 50]
    #[description = "New category"]
    category: Option<String>,
    #[description = "New stock (-1 for unlimited)"]
    #[min = -1]
    stock: Option<i64>,
    #[max_length = 64]
    #[description = "New emoji"]
    emoji: Option<String>,
    #[description = "New role reward"] role: Option<serenity::Role>,
    #[description = "Remove the role reward"] remove_role: Option<bool>,
    #[description = "New per-member limit"]
    #[min = 1]
    max_per_user: Option<u32>,
    #[max_length = 1000]
    #[description = "New /use message"]
    use_message: Option<String>,
    #[description = "Whether members can buy it"] for_sale: Option<bool>,
) -> Result<(), BotError> {
    ensure_admin(ctx).await?;
    let guild = guild(ctx)?;
    let price = price
        .map(|p| Money::parse(&p, MAX_AMOUNT).map(Money::get))
        .transpose()?;
    let role = match (role, remove_role) {
        (_, Some(true)) => Some(None),
        (Some(r), _) => Some(Some(RoleId(r.id.get()))),
        (None, _) => None,
    };
    let patch = ItemPatch {
        name,
        description,
        emoji: emoji.map(Some),
        price,
        category,
        stock,
        active: for_sale,
        visible: None,
        role_id: role,
        max_per_user: max_per_user.map(Some),
        use_message: use_message.map(Some),
    };
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let id = resolve_item(&s.shop, guild, &item)?.id;
        let item = s.shop.edit_item(guild, id, patch, &meta)?;
        Ok(render::item_changed(
            &s.guilds.config(guild)?,
            "Updated",
            &item,
        ))
    })
    .await
}

/// Remove an item from the shop (members lose it from their inventories).
#[poise::command(slash_command)]
pub async fn delete(
    ctx: Ctx<'_>,
    #[description = "The item to delete"]
    #[autocomplete = "any_item_choices"]
    #[max_length = 100]
    item: String,
) -> Result<(), BotError> {
    ensure_admin(ctx).await?;
    let guild = guild(ctx)?;
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let id = resolve_item(&s.shop, guild, &item)?.id;
        let item = s.shop.delete_item(guild, id, &meta)?;
        Ok(Reply::private(format!(
            "Deleted **{}** (item {}). Its shop message will be removed.",
            item.label(),
            item.id
        )))
    })
    .await
}

/// How a restock changes the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum RestockMode {
    #[name = "add to the stock"]
    Add,
    #[name = "set the stock to exactly this (-1 = unlimited)"]
    Set,
}

/// Add stock to an item, or set it exactly.
#[poise::command(slash_command)]
pub async fn restock(
    ctx: Ctx<'_>,
    #[description = "The item to restock"]
    #[autocomplete = "any_item_choices"]
    #[max_length = 100]
    item: String,
    #[description = "How many"]
    #[min = -1]
    amount: i64,
    #[description = "Add to the stock (default) or set it"] mode: Option<RestockMode>,
) -> Result<(), BotError> {
    ensure_admin(ctx).await?;
    let guild = guild(ctx)?;
    let op = match mode.unwrap_or(RestockMode::Add) {
        RestockMode::Set => StockOp::Set(Stock::from_raw(amount)?),
        RestockMode::Add => match u64::try_from(amount) {
            Ok(n) => StockOp::Add(n),
            Err(_) => return Err(DomainError::invalid("amount", "must be at least 1").into()),
        },
    };
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let id = resolve_item(&s.shop, guild, &item)?.id;
        let item = s.shop.update_stock(guild, id, op, &meta)?;
        Ok(render::item_changed(
            &s.guilds.config(guild)?,
            "Restocked",
            &item,
        ))
    })
    .await
}

/// Take an item out of the shop without deleting it.
#[poise::command(slash_command)]
pub async fn hide(
    ctx: Ctx<'_>,
    #[description = "The item to hide"]
    #[autocomplete = "any_item_choices"]
    #[max_length = 100]
    item: String,
) -> Result<(), BotError> {
    toggle(ctx, item, BulkAction::Hide, "Hid").await
}

/// Put a hidden item back in the shop.
#[poise::command(slash_command)]
pub async fn show(
    ctx: Ctx<'_>,
    #[description = "The item to show"]
    #[autocomplete = "any_item_choices"]
    #[max_length = 100]
    item: String,
) -> Result<(), BotError> {
    toggle(ctx, item, BulkAction::Show, "Showed").await
}

async fn toggle(
    ctx: Ctx<'_>,
    item: String,
    action: BulkAction,
    verb: &'static str,
) -> Result<(), BotError> {
    ensure_admin(ctx).await?;
    let guild = guild(ctx)?;
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let id = resolve_item(&s.shop, guild, &item)?.id;
        let changed = s.shop.bulk_update(guild, &[id], action, &meta)?;
        let item = changed
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::NotFound(format!("Item {id}")))?;
        Ok(render::item_changed(&s.guilds.config(guild)?, verb, &item))
    })
    .await
}
