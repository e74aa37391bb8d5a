//! One shop item's page: its stock, sales and Discord message, and (for admins) the edit form,
//! the stock form, show / hide, and delete after a confirmation step. Through `api::shop`.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::html;

use super::forms::{form_error, input, select, FieldErrors, Fields, Filled};
use super::guild::respond;
use super::layout::{money, GuildHead};
use super::shop::{item_fields, parse_item, records, refused, stock_text, sync_badge, SHOP_EVENTS};
use super::users::Note;
use super::{csrf_field, done, Page, PageResult};
use crate::domain::shop::ItemPatch;
use crate::domain::GuildId;
use crate::shop::BulkAction;
use crate::web::api::shop::{
    bulk_update, delete_item, edit_item, get_item, update_stock, BulkRequest, StockOperation,
    StockRequest,
};
use crate::web::error::Path;
use crate::web::WebState;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/servers/{g}/shop/{id}", get(item).post(edit))
        .route("/servers/{g}/shop/{id}/stock", post(stock))
        .route("/servers/{g}/shop/{id}/visibility", post(visibility))
        .route("/servers/{g}/shop/{id}/delete", post(delete))
}

/// `GET /servers/{g}/shop/{id}`.
async fn item(
    State(s): State<WebState>,
    page: Page,
    Path((g, id)): Path<(GuildId, u64)>,
    Query(n): Query<Note>,
) -> PageResult<Response> {
    let head = GuildHead::load(&s, g).await?;
    render_item(&s, &page, &head, id, Filled::visit(n.done, None)).await
}

async fn render_item(
    s: &WebState,
    page: &Page,
    head: &GuildHead,
    id: u64,
    form: Filled,
) -> PageResult<Response> {
    let it = get_item(State(s.clone()), page.auth.clone(), Path((head.id, id)))
        .await?
        .0;
    let sync = records(s, page, head.id, "shop_item").await?;
    let rec = sync.iter().find(|r| r.object == id);
    let ops = [
        ("set".to_owned(), "Set to".to_owned()),
        ("add".to_owned(), "Add".to_owned()),
        ("subtract".to_owned(), "Subtract".to_owned()),
    ];
    let url = head.url(&format!("/shop/{id}"));
    let body = html! {
        div.cards #item-live data-live=(SHOP_EVENTS) {
            div.card { div.muted { "Price" } div.big { (money(head, it.price.get())) } }
            div.card { div.muted { "Stock" } div.big data-stock-item=(it.id) { (stock_text(it.stock)) } }
            div.card { div.muted { "Sold" } div.big { (it.sales_count) } }
            div.card { div.muted { "Discord message" } div { (sync_badge(rec)) }
                @if let Some(e) = rec.and_then(|r| r.last_error.as_deref()) { div.error { (e) } }
                div { a href=(head.url("/sync")) { "Sync page" } } }
        }
        @if page.can_write() {
            form.panel method="post" action=(url) {
                h2 { "Edit" }
                (csrf_field(page))
                (form_error(&form.errors))
                (item_fields(&form, Some(&it)))
                button type="submit" { "Save" }
            }
            form.panel method="post" action=(format!("{url}/stock")) {
                h2 { "Stock" }
                (csrf_field(page))
                div.grid {
                    (select("Change", "operation", &ops, "set", &FieldErrors::default()))
                    (input("Quantity (-1 with Set: unlimited)", "quantity", "text", "", &FieldErrors::default(), true))
                }
                button type="submit" { "Change stock" }
            }
            section.panel {
                h2 { "Visibility and removal" }
                form.inline method="post" action=(format!("{url}/visibility")) {
                    (csrf_field(page))
                    input type="hidden" name="action" value=(if it.visible { "hide" } else { "show" });
                    button type="submit" { @if it.visible { "Hide from the shop" } @else { "Show in the shop" } }
                }
                details.confirm-step {
                    summary.button.danger { "Delete…" }
                    p { "Delete " strong { (it.name) } "? Members lose it from their inventories and its Discord message is deleted. This cannot be undone." }
                    form.inline method="post" action=(format!("{url}/delete")) {
                        (csrf_field(page))
                        input type="hidden" name="confirm" value="yes";
                        button.danger type="submit" { "Yes, delete it" }
                    }
                }
            }
        }
        p { a href=(head.url("/shop")) { "← All items" } }
    };
    let title = format!("{} {}", it.emoji.clone().unwrap_or_default(), it.name);
    Ok(respond(page, head, (title.trim(), "shop"), &form, body))
}

/// `POST /servers/{g}/shop/{id}`: saves the edit form (every field, as one patch).
async fn edit(
    State(s): State<WebState>,
    page: Page,
    Path((g, id)): Path<(GuildId, u64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let head = GuildHead::load(&s, g).await?;
    let result = match parse_item(&f) {
        Ok(i) => {
            let patch = ItemPatch {
                name: Some(i.name),
                description: Some(i.description),
                emoji: Some(i.emoji),
                price: Some(i.price),
                category: Some(i.category),
                stock: Some(i.stock),
                active: Some(i.active),
                visible: Some(i.visible),
                role_id: Some(i.role_id),
                max_per_user: Some(i.max_per_user),
                use_message: Some(i.use_message),
            };
            edit_item(
                State(s.clone()),
                page.auth.clone(),
                page.idem(&f),
                Path((head.id, id)),
                crate::web::body::Body(patch),
            )
            .await
            .map_err(refused)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(done(&head.url(&format!("/shop/{id}")), "Saved.")),
        Err(errors) => render_item(&s, &page, &head, id, Filled::new(f, errors)).await,
    }
}

/// `POST /servers/{g}/shop/{id}/stock`.
async fn stock(
    State(s): State<WebState>,
    page: Page,
    Path((g, id)): Path<(GuildId, u64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let head = GuildHead::load(&s, g).await?;
    let mut errors = FieldErrors::default();
    let quantity = f.int("quantity", &mut errors);
    let operation = match f.get("operation") {
        "add" => StockOperation::Add,
        "subtract" => StockOperation::Subtract,
        _ => StockOperation::Set,
    };
    let result = match quantity {
        Some(quantity) => update_stock(
            State(s.clone()),
            page.auth.clone(),
            page.idem(&f),
            Path((head.id, id)),
            crate::web::body::Body(StockRequest {
                quantity,
                operation: Some(operation),
            }),
        )
        .await
        .map(|_| ())
        .map_err(|e| FieldErrors::from_api(&e, &[], Some("_form"))),
        None => Err(errors),
    };
    match result {
        Ok(()) => Ok(done(&head.url(&format!("/shop/{id}")), "Stock changed.")),
        Err(errors) => {
            render_item(&s, &page, &head, id, Filled::new(Fields::default(), errors)).await
        }
    }
}

/// `POST /servers/{g}/shop/{id}/visibility` (`action` = show or hide).
async fn visibility(
    State(s): State<WebState>,
    page: Page,
    Path((g, id)): Path<(GuildId, u64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let g = super::server(g)?;
    let action = if f.get("action") == "hide" {
        BulkAction::Hide
    } else {
        BulkAction::Show
    };
    bulk_update(
        State(s),
        page.auth.clone(),
        page.idem(&f),
        Path(g),
        crate::web::body::Body(BulkRequest {
            item_ids: vec![id],
            action,
        }),
    )
    .await?;
    let note = if action == BulkAction::Hide {
        "Hidden."
    } else {
        "Shown."
    };
    Ok(done(&format!("/servers/{g}/shop/{id}"), note))
}

/// `POST /servers/{g}/shop/{id}/delete` (after the confirmation step).
async fn delete(
    State(s): State<WebState>,
    page: Page,
    Path((g, id)): Path<(GuildId, u64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields::from_pairs(pairs);
    page.check_write(&f)?;
    let g = super::server(g)?;
    if f.get("confirm") != "yes" {
        return Ok(done(
            &format!("/servers/{g}/shop/{id}"),
            "Nothing was deleted: confirm first.",
        ));
    }
    let item = delete_item(State(s), page.auth.clone(), page.idem(&f), Path((g, id))).await?;
    Ok(done(
        &format!("/servers/{g}/shop"),
        &format!("Deleted {}.", item.0.name),
    ))
}
