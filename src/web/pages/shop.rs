//! A server's shop: the paged item list with stock and Discord sync state, and the create form.
//! One item's page is `shop_item.rs`. Every change runs the API's handler (`api::shop`), so the
//! page and the endpoint share one service call.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use maud::{html, Markup};

use super::forms::{checkbox, form_error, input, textarea, FieldErrors, Fields, Filled};
use super::guild::respond;
use super::layout::{money, pager, slice, GuildHead};
use super::users::Note;
use super::{csrf_field, done, Page, PageResult};
use crate::domain::shop::{Item, ItemInput, Stock};
use crate::domain::{GuildId, RoleId};
use crate::guild::{SyncKind, SyncRecord};
use crate::web::api::guild::{sync_records, SyncQuery};
use crate::web::api::shop::{create_item, list_items, ShopQuery};
use crate::web::error::{ApiError, Path, Query as ApiQuery};
use crate::web::WebState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/servers/{g}/shop", get(shop).post(create))
        .merge(super::shop_item::routes())
}

const PER_PAGE: u64 = 25;
pub(super) const SHOP_EVENTS: &str =
    "item_created,item_updated,item_deleted,item_bought,stock_changed,sync_changed";

pub(super) fn stock_text(s: Stock) -> String {
    match s {
        Stock::Unlimited => "unlimited".into(),
        Stock::Limited(n) => n.to_string(),
    }
}

/// A sync record's state as a badge (with its error as the tooltip).
pub fn sync_badge(r: Option<&SyncRecord>) -> Markup {
    let Some(r) = r else {
        return html! { span.badge { "not posted" } };
    };
    let state = serde_json::to_value(r.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let class = match state.as_str() {
        "synced" => "ok",
        "failed" => "bad",
        _ => "warn",
    };
    html! { span.badge.(class) title=[r.last_error.as_deref()] { (state) } }
}

pub(super) async fn records(
    s: &WebState,
    page: &Page,
    g: GuildId,
    kind: &str,
) -> PageResult<Vec<SyncRecord>> {
    let q = SyncQuery {
        kind: kind.parse().ok(),
        state: None,
    };
    Ok(
        sync_records(State(s.clone()), page.auth.clone(), Path(g), ApiQuery(q))
            .await?
            .0,
    )
}

pub(super) fn item_fields(f: &Filled, it: Option<&Item>) -> Markup {
    let e = &f.errors;
    let d = |name: &str, v: String| f.value(name, &v);
    html! {
        div.grid {
            (input("Name", "name", "text", &d("name", it.map(|i| i.name.clone()).unwrap_or_default()), e, true))
            (input("Price", "price", "text", &d("price", it.map(|i| i.price.get().to_string()).unwrap_or_default()), e, true))
            (input("Category", "category", "text", &d("category", it.map(|i| i.category.clone()).unwrap_or_else(|| "general".into())), e, false))
            (input("Emoji", "emoji", "text", &d("emoji", it.and_then(|i| i.emoji.clone()).unwrap_or_default()), e, false))
            (input("Stock (blank or -1: unlimited)", "stock", "text", &d("stock", it.map(|i| i.stock.raw().to_string()).unwrap_or_default()), e, false))
            (input("Most per member (blank: no limit)", "max_per_user", "text", &d("max_per_user", it.and_then(|i| i.max_per_user).map(|m| m.to_string()).unwrap_or_default()), e, false))
            (input("Role reward (role id)", "role_id", "text", &d("role_id", it.and_then(|i| i.role_id).map(|r| r.to_string()).unwrap_or_default()), e, false))
        }
        (textarea("Description", "description", &d("description", it.map(|i| i.description.clone()).unwrap_or_default()), e))
        (textarea("Reply to /use", "use_message", &d("use_message", it.and_then(|i| i.use_message.clone()).unwrap_or_default()), e))
        @let filled = !f.fields.0.is_empty();
        (checkbox("For sale", "active", if filled { f.fields.checked("active") } else { it.is_none_or(|i| i.active) }))
        (checkbox("Shown in the shop channel", "visible", if filled { f.fields.checked("visible") } else { it.is_none_or(|i| i.visible) }))
    }
}

/// The item a form describes, or the fields that are wrong.
pub(super) fn parse_item(f: &Fields) -> Result<ItemInput, FieldErrors> {
    let mut e = FieldErrors::default();
    let name = f.get("name").to_owned();
    if name.is_empty() {
        e.add("name", "Give the item a name.");
    }
    let price = f.int("price", &mut e);
    let stock = f.opt_int("stock", &mut e);
    let max = f.opt_int("max_per_user", &mut e);
    let role = match f.get("role_id") {
        "" => None,
        r => match r.parse::<u64>() {
            Ok(id) => Some(RoleId(id)),
            Err(_) => {
                e.add("role_id", "A role id is digits (leave it blank for none).");
                None
            }
        },
    };
    let max = match max.flatten() {
        None => None,
        Some(m) => match u32::try_from(m) {
            Ok(m) => Some(m),
            Err(_) => {
                e.add("max_per_user", "Enter 1 or more, or leave it blank.");
                None
            }
        },
    };
    let (Some(price), Some(stock), true) = (price, stock, e.is_empty()) else {
        return Err(e);
    };
    let mut input = ItemInput::new(name, price);
    input.description = f.get("description").to_owned();
    input.emoji = f.opt("emoji");
    if let Some(c) = f.opt("category") {
        input.category = c;
    }
    input.stock = stock.unwrap_or(-1);
    input.active = f.checked("active");
    input.visible = f.checked("visible");
    input.role_id = role;
    input.max_per_user = max;
    input.use_message = f.opt("use_message");
    Ok(input)
}

pub(super) fn refused(e: ApiError) -> FieldErrors {
    FieldErrors::from_api(&e, &[], Some("_form"))
}

/// `GET /servers/{g}/shop`.
async fn shop(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Query(n): Query<Note>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    render_shop(&s, &page, &head, Filled::visit(n.done, n.page)).await
}

async fn render_shop(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    form: Filled,
) -> PageResult<Response> {
    let n = form.n;
    let items = list_items(
        State(s.clone()),
        page.auth.clone(),
        Path(head.id),
        ApiQuery(ShopQuery::default()),
    )
    .await?
    .0;
    let sync = records(s, page, head.id, "shop_item").await?;
    let (shown, n, pages) = slice(&items, n, PER_PAGE);
    let body = html! {
        div.table-wrap #shop-items data-live=(SHOP_EVENTS) {
            table {
                thead { tr { th { "Item" } th.num { "Price" } th.num { "Stock" } th.num { "Sold" } th { "Shown" } th { "Discord" } } }
                tbody {
                    @for it in shown {
                        tr data-item=(it.id) {
                            td {
                                a href=(head.url(&format!("/shop/{}", it.id))) { (it.emoji.clone().unwrap_or_default()) " " (it.name) }
                                " " span.muted { (it.category) }
                                @if !it.active { " " span.badge.warn { "not for sale" } }
                            }
                            td.num { (money(head, it.price.get())) }
                            td.num data-stock-item=(it.id) { (stock_text(it.stock)) }
                            td.num { (it.sales_count) }
                            td { @if it.visible { "yes" } @else { "hidden" } }
                            td { (sync_badge(sync.iter().find(|r| r.kind == SyncKind::ShopItem && r.object == it.id))) }
                        }
                    }
                    @if items.is_empty() { tr { td colspan="6" { "No items yet." } } }
                }
            }
        }
        (pager(&head.url("/shop"), n, pages))
        @if page.can_write() {
            form.panel method="post" action=(head.url("/shop")) #create-item {
                h2 { "New item" }
                (csrf_field(page))
                (form_error(&form.errors))
                (item_fields(&form, None))
                button type="submit" { "Create item" }
            }
        }
    };
    Ok(respond(page, head, ("Shop", "shop"), &form, body))
}

/// `POST /servers/{g}/shop`: creates an item.
async fn create(
    State(s): State<WebState>,
    page: Page,
    Path(g): Path<GuildId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let head = GuildHead::load(&s, g).await?;
    let result = match parse_item(&f) {
        Ok(input) => create_item(
            State(s.clone()),
            page.auth.clone(),
            page.idem(&f),
            Path(head.id),
            crate::web::body::Body(input),
        )
        .await
        .map_err(refused),
        Err(e) => Err(e),
    };
    match result {
        Ok((_, item)) => Ok(done(
            &head.url("/shop"),
            &format!("Created {}.", item.0.name),
        )),
        Err(errors) => render_shop(&s, &page, &head, Filled::new(f, errors)).await,
    }
}
