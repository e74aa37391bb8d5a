//! The shop of one server: items (list, create, read, edit, delete), stock changes, bulk
//! visibility toggles, and members' inventories. Every write goes through `Shop` with the
//! dashboard account as actor (so it is audited) and honours `Idempotency-Key`.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, dashboard_meta};
use crate::domain::shop::{Item, ItemInput, ItemPatch, Stock};
use crate::domain::{DomainError, GuildId, UserId};
use crate::shop::{BulkAction, InventoryEntry, ItemFilter, StockOp};
use crate::web::auth::{Auth, IdempotencyKey};
use crate::web::error::{ApiResult, ErrorBody, Json, Path, Query};
use crate::web::WebState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShopQuery {
    /// Only this category (case-insensitive).
    pub category: Option<String>,
    /// Only items that are for sale at all (default false: inactive ones too).
    pub active_only: Option<bool>,
    /// Include sold-out items (default true).
    pub include_out_of_stock: Option<bool>,
    /// Include items hidden from the shop channel (default true).
    pub include_hidden: Option<bool>,
}

/// A server's shop items, in creation order. Items are the stored shape: `id`, `name`,
/// `description`, `emoji`, `price`, `category`, `stock` (-1 = unlimited), `active`, `visible`,
/// `role_id`, `max_per_user`, `use_message`, `sales_count`, `created_at`, `updated_at`.
#[utoipa::path(get, path = "/api/{server_id}/shop", tag = "shop",
    params(("server_id" = String, Path), ShopQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<Item>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_items(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<ShopQuery>,
) -> ApiResult<Json<Vec<Item>>> {
    let filter = ItemFilter {
        category: q.category.filter(|c| !c.trim().is_empty()),
        active_only: q.active_only.unwrap_or(false),
        include_out_of_stock: q.include_out_of_stock.unwrap_or(true),
        include_hidden: q.include_hidden.unwrap_or(true),
    };
    let items = blocking(&s, move |svc| svc.shop.list_items(guild, &filter)).await?;
    Ok(Json(items))
}

/// Creates an item (admin). Body: `name`, `price` (required), `description`, `emoji`,
/// `category`, `stock` (-1 = unlimited, the default), `active`, `visible`, `role_id`,
/// `max_per_user`, `use_message`.
#[utoipa::path(post, path = "/api/{server_id}/shop", tag = "shop",
    params(("server_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    request_body = ItemInput,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = Item), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_item(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path(guild): Path<GuildId>,
    crate::web::body::Body(input): crate::web::body::Body<ItemInput>,
) -> ApiResult<(axum::http::StatusCode, Json<Item>)> {
    let meta = dashboard_meta(&auth, key);
    let item = blocking(&s, move |svc| svc.shop.create_item(guild, input, &meta)).await?;
    Ok((axum::http::StatusCode::CREATED, Json(item)))
}

/// One item of this server.
#[utoipa::path(get, path = "/api/{server_id}/shop/{item_id}", tag = "shop",
    params(("server_id" = String, Path), ("item_id" = u64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Item), (status = 404, body = ErrorBody)))]
pub async fn get_item(
    State(s): State<WebState>,
    _auth: Auth,
    Path((guild, id)): Path<(GuildId, u64)>,
) -> ApiResult<Json<Item>> {
    let item = blocking(&s, move |svc| svc.shop.get_item(guild, id)).await?;
    Ok(Json(item))
}

/// Edits an item (admin): absent fields stay; `null` clears `emoji`, `role_id`,
/// `max_per_user` and `use_message`. Unknown fields are refused.
#[utoipa::path(put, path = "/api/{server_id}/shop/{item_id}", tag = "shop",
    params(("server_id" = String, Path), ("item_id" = u64, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    request_body = ItemPatch,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Item), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_item(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
    crate::web::body::Body(patch): crate::web::body::Body<ItemPatch>,
) -> ApiResult<Json<Item>> {
    let meta = dashboard_meta(&auth, key);
    let item = blocking(&s, move |svc| svc.shop.edit_item(guild, id, patch, &meta)).await?;
    Ok(Json(item))
}

/// Deletes an item, its inventory rows, and (through the reconciler) its Discord message.
#[utoipa::path(delete, path = "/api/{server_id}/shop/{item_id}", tag = "shop",
    params(("server_id" = String, Path), ("item_id" = u64, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Item, description = "The deleted item"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_item(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
) -> ApiResult<Json<Item>> {
    let meta = dashboard_meta(&auth, key);
    let item = blocking(&s, move |svc| svc.shop.delete_item(guild, id, &meta)).await?;
    Ok(Json(item))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StockOperation {
    Set,
    Add,
    Subtract,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockRequest {
    /// With `set`: the new stock (-1 = unlimited); otherwise how many to add or subtract.
    pub quantity: i64,
    /// set (default), add or subtract.
    #[serde(default)]
    pub operation: Option<StockOperation>,
}

/// Sets, adds to or subtracts from an item's stock (admin). Stock never goes below 0.
#[utoipa::path(put, path = "/api/{server_id}/shop/{item_id}/stock", tag = "shop",
    params(("server_id" = String, Path), ("item_id" = u64, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    request_body = StockRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Item), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_stock(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
    crate::web::body::Body(req): crate::web::body::Body<StockRequest>,
) -> ApiResult<Json<Item>> {
    let count = |q: i64| {
        u64::try_from(q)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| DomainError::invalid("quantity", "must be at least 1"))
    };
    let op = match req.operation.unwrap_or(StockOperation::Set) {
        StockOperation::Set => StockOp::Set(Stock::from_raw(req.quantity).map_err(|_| {
            DomainError::invalid("quantity", "must be -1 (unlimited) or 0 or more")
        })?),
        StockOperation::Add => StockOp::Add(count(req.quantity)?),
        StockOperation::Subtract => StockOp::Subtract(count(req.quantity)?),
    };
    let meta = dashboard_meta(&auth, key);
    let item = blocking(&s, move |svc| svc.shop.update_stock(guild, id, op, &meta)).await?;
    Ok(Json(item))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    pub item_ids: Vec<u64>,
    /// show, hide, activate or deactivate.
    #[schema(value_type = String)]
    pub action: BulkAction,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkResponse {
    pub updated: u64,
    pub items: Vec<Item>,
}

/// Shows, hides, activates or deactivates many items at once (admin). An unknown id refuses
/// the whole request.
#[utoipa::path(post, path = "/api/{server_id}/shop/bulk", tag = "shop",
    params(("server_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    request_body = BulkRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = BulkResponse), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bulk_update(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path(guild): Path<GuildId>,
    crate::web::body::Body(req): crate::web::body::Body<BulkRequest>,
) -> ApiResult<Json<BulkResponse>> {
    for id in &req.item_ids {
        crate::web::contract::positive_id("item_ids", *id)?;
    }
    let meta = dashboard_meta(&auth, key);
    let items = blocking(&s, move |svc| {
        svc.shop
            .bulk_update(guild, &req.item_ids, req.action, &meta)
    })
    .await?;
    Ok(Json(BulkResponse {
        updated: items.len() as u64,
        items,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InventoryLine {
    pub item_id: u64,
    pub name: String,
    pub emoji: Option<String>,
    pub category: String,
    pub quantity: u64,
    pub usable: bool,
}

impl From<InventoryEntry> for InventoryLine {
    fn from(e: InventoryEntry) -> Self {
        InventoryLine {
            item_id: e.item_id,
            name: e.name,
            emoji: e.emoji,
            category: e.category,
            quantity: e.quantity,
            usable: e.usable,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InventoryView {
    pub user_id: String,
    pub items: Vec<InventoryLine>,
}

/// What a member holds.
#[utoipa::path(get, path = "/api/{server_id}/users/{user_id}/inventory", tag = "shop",
    params(("server_id" = String, Path), ("user_id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = InventoryView), (status = 400, body = ErrorBody)))]
pub async fn inventory(
    State(s): State<WebState>,
    _auth: Auth,
    Path((guild, user)): Path<(GuildId, UserId)>,
) -> ApiResult<Json<InventoryView>> {
    let items = blocking(&s, move |svc| svc.shop.inventory(guild, user)).await?;
    Ok(Json(InventoryView {
        user_id: user.to_string(),
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryChange {
    pub item_id: u64,
    /// 1 or more (default 1).
    #[serde(default = "one")]
    pub quantity: u64,
}

fn one() -> u64 {
    1
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InventoryChanged {
    pub user_id: String,
    pub item_id: u64,
    /// How many the member holds now.
    pub quantity: u64,
}

/// Gives a member units of an item (admin; no sale: stock and balance untouched).
#[utoipa::path(post, path = "/api/{server_id}/users/{user_id}/inventory", tag = "shop",
    params(("server_id" = String, Path), ("user_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    request_body = InventoryChange,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = InventoryChanged), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_inventory(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, user)): Path<(GuildId, UserId)>,
    crate::web::body::Body(req): crate::web::body::Body<InventoryChange>,
) -> ApiResult<Json<InventoryChanged>> {
    crate::web::contract::positive_id("item_id", req.item_id)?;
    let meta = dashboard_meta(&auth, key);
    let item = req.item_id;
    let quantity = blocking(&s, move |svc| {
        svc.shop
            .add_to_inventory(guild, user, item, req.quantity, &meta)
    })
    .await?;
    Ok(Json(InventoryChanged {
        user_id: user.to_string(),
        item_id: item,
        quantity,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemoveQuery {
    /// How many to take away (default 1).
    #[param(inline)]
    pub quantity: Option<crate::web::contract::Ranged<1, { crate::domain::shop::MAX_STOCK }>>,
}

/// Takes units of an item away from a member (admin); refuses more than they hold.
#[utoipa::path(delete, path = "/api/{server_id}/users/{user_id}/inventory/{item_id}", tag = "shop",
    params(("server_id" = String, Path), ("user_id" = String, Path), ("item_id" = u64, Path),
        RemoveQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = InventoryChanged), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove_inventory(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, user, item)): Path<(GuildId, UserId, u64)>,
    Query(q): Query<RemoveQuery>,
) -> ApiResult<Json<InventoryChanged>> {
    let meta = dashboard_meta(&auth, key);
    let n = q.quantity.map_or(1, |q| q.get());
    let quantity = blocking(&s, move |svc| {
        svc.shop.remove_from_inventory(guild, user, item, n, &meta)
    })
    .await?;
    Ok(Json(InventoryChanged {
        user_id: user.to_string(),
        item_id: item,
        quantity,
    }))
}
