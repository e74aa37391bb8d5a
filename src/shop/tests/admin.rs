//! Admin item changes: create, edit, delete, stock and bulk toggles, each audited and synced.

use super::*;
use crate::domain::shop::{ItemPatch, Stock};
use crate::domain::{ChannelId, DomainError, RoleId};
use crate::shop::{BulkAction, ItemFilter, StockOp};
use crate::store::outbox::SyncState;

fn patch(json: &str) -> ItemPatch {
    serde_json::from_str(json).expect("patch json")
}

#[test]
fn create_stores_the_item_with_audit_outbox_and_event() {
    let f = fixture();
    f.config(|c| c.shop_channel_id = Some(ChannelId(77)));
    let mark = f.mark();
    let item = f.create_with("Golden Ticket", 250, |i| {
        i.stock = 5;
        i.emoji = Some("🎟️".into());
        i.role_id = Some(RoleId(9));
        i.category = "Events".into();
    });
    assert_eq!(f.item(item.id), item);
    assert_eq!(item.stock, Stock::Limited(5));
    assert_eq!(item.sales_count, 0);
    let audit = f.audit();
    assert_eq!(audit[0].action, "shop.item.create");
    assert_eq!(audit[0].target, format!("item:{}", item.id));
    assert!(audit[0].before.is_none());
    assert_eq!(audit[0].after.as_ref().unwrap()["name"], "Golden Ticket");
    let sync = f.sync(item.id).expect("outbox record");
    assert_eq!(
        (sync.channel, sync.desired_version, sync.state),
        (Some(ChannelId(77)), 1, SyncState::Pending)
    );
    assert!(f.kinds_since(mark).contains(&EventKind::ItemCreated));
}

#[test]
fn create_refuses_a_name_another_item_has_in_any_case() {
    let f = fixture();
    f.create("Golden Ticket", 10, -1);
    let audits = f.audit().len();
    let err = f
        .shop
        .create_item(G, ItemInput::new("  golden TICKET ", 5), &admin())
        .unwrap_err();
    assert!(err.user_message().contains("already exists"), "{err}");
    assert_eq!(f.shop.list_items(G, &ItemFilter::all()).unwrap().len(), 1);
    assert_eq!(f.audit().len(), audits);
}

#[test]
fn create_refuses_bad_fields_naming_them_and_writes_nothing() {
    let f = fixture();
    let mut input = ItemInput::new("Ticket", 0);
    let err = f.shop.create_item(G, input.clone(), &admin()).unwrap_err();
    assert!(matches!(err.domain(), Some(DomainError::Invalid { field, .. }) if field == "price"));
    input.price = 5;
    input.name = "x".repeat(101);
    let err = f.shop.create_item(G, input, &admin()).unwrap_err();
    assert!(matches!(err.domain(), Some(DomainError::Invalid { field, .. }) if field == "name"));
    assert!(f.shop.list_items(G, &ItemFilter::all()).unwrap().is_empty());
    assert!(f.audit().is_empty());
}

#[test]
fn create_with_the_same_idempotency_key_creates_one_item() {
    let f = fixture();
    let meta = admin().with_key(crate::testing::key("create-1"));
    let a = f
        .shop
        .create_item(G, ItemInput::new("Ticket", 5), &meta)
        .unwrap();
    let b = f
        .shop
        .create_item(G, ItemInput::new("Ticket", 5), &meta)
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(f.shop.list_items(G, &ItemFilter::all()).unwrap().len(), 1);
}

#[test]
fn edit_changes_fields_and_audits_before_and_after() {
    let f = fixture();
    let item = f.create_with("Ticket", 10, |i| i.role_id = Some(RoleId(3)));
    f.ts.clock.advance(chrono::Duration::minutes(5));
    let mark = f.mark();
    let after = f
        .shop
        .edit_item(
            G,
            item.id,
            patch(r#"{"price":20,"role_id":null,"use_message":"Enjoy!"}"#),
            &admin(),
        )
        .unwrap();
    assert_eq!(after.price.get(), 20);
    assert_eq!(after.role_id, None);
    assert_eq!(after.use_message.as_deref(), Some("Enjoy!"));
    assert_eq!(after.name, "Ticket");
    assert!(after.updated_at > item.updated_at);
    assert_eq!(f.item(item.id), after);
    let audit = &f.audit()[0];
    assert_eq!(audit.action, "shop.item.update");
    assert_eq!(audit.before.as_ref().unwrap()["price"], 10);
    assert_eq!(audit.after.as_ref().unwrap()["price"], 20);
    assert_eq!(f.sync(item.id).unwrap().desired_version, 2);
    assert!(f.kinds_since(mark).contains(&EventKind::ItemUpdated));
}

#[test]
fn edit_that_changes_nothing_writes_nothing() {
    let f = fixture();
    let item = f.create("Ticket", 10, 3);
    let got = f
        .shop
        .edit_item(G, item.id, patch(r#"{"price":10}"#), &admin())
        .unwrap();
    assert_eq!(got, item);
    assert_eq!(f.audit().len(), 1);
    assert_eq!(f.sync(item.id).unwrap().desired_version, 1);
}

#[test]
fn edit_refuses_unknown_items_bad_values_and_taken_names() {
    let f = fixture();
    let a = f.create("Ticket", 10, 3);
    f.create("Badge", 10, 3);
    assert_eq!(
        refusal(f.shop.edit_item(G, 99, ItemPatch::default(), &admin())),
        "Item 99 not found."
    );
    assert!(refusal(
        f.shop
            .edit_item(G, a.id, patch(r#"{"stock":-7}"#), &admin())
    )
    .starts_with("stock:"));
    assert!(refusal(
        f.shop
            .edit_item(G, a.id, patch(r#"{"name":"BADGE"}"#), &admin())
    )
    .contains("already exists"));
    assert_eq!(f.item(a.id), a);
    assert_eq!(f.audit().len(), 2);
}

#[test]
fn delete_removes_item_and_holdings_but_the_ledger_still_names_it() {
    let f = fixture();
    let item = f.create("Golden Ticket", 30, -1);
    f.fund(ALICE, 100);
    let bought = f.buy(ALICE, item.id, 2).unwrap();
    let mark = f.mark();
    let deleted = f.shop.delete_item(G, item.id, &admin()).unwrap();
    assert_eq!(deleted.id, item.id);
    assert_eq!(
        refusal(f.shop.get_item(G, item.id)),
        format!("Item {} not found.", item.id)
    );
    assert_eq!(f.held(ALICE, item.id), 0);
    assert!(f.shop.inventory(G, ALICE).unwrap().is_empty());
    let tx = f
        .ledger()
        .into_iter()
        .find(|t| t.id == bought.transaction_id)
        .unwrap();
    assert!(tx.description.contains("Golden Ticket"));
    assert_eq!(tx.metadata["item_name"], "Golden Ticket");
    assert_eq!(tx.metadata["item_id"], item.id);
    let audit = &f.audit()[0];
    assert_eq!(audit.action, "shop.item.delete");
    assert_eq!(
        audit.before.as_ref().unwrap()["inventory"][0]["quantity"],
        2
    );
    assert!(audit.after.is_none());
    assert!(f.sync(item.id).unwrap().delete);
    assert!(f.kinds_since(mark).contains(&EventKind::ItemDeleted));
    assert_eq!(f.balance(ALICE), 40);
}

#[test]
fn deleted_name_can_be_reused_and_purchase_counters_start_over() {
    let f = fixture();
    let old = f.create_with("Ticket", 1, |i| i.max_per_user = Some(1));
    f.fund(ALICE, 10);
    f.buy(ALICE, old.id, 1).unwrap();
    f.shop.delete_item(G, old.id, &admin()).unwrap();
    let new = f.create_with("ticket", 1, |i| i.max_per_user = Some(1));
    assert_ne!(new.id, old.id);
    f.buy(ALICE, new.id, 1).unwrap();
    assert_eq!(f.held(ALICE, new.id), 1);
}

#[test]
fn stock_set_add_and_subtract_move_stock_and_are_audited() {
    let f = fixture();
    let item = f.create("Ticket", 10, 5);
    let mark = f.mark();
    let s = |op| f.shop.update_stock(G, item.id, op, &admin()).unwrap().stock;
    assert_eq!(s(StockOp::Add(3)), Stock::Limited(8));
    assert_eq!(s(StockOp::Subtract(8)), Stock::Limited(0));
    assert_eq!(s(StockOp::Set(Stock::Limited(4))), Stock::Limited(4));
    assert_eq!(s(StockOp::Set(Stock::Unlimited)), Stock::Unlimited);
    let audit = f.audit();
    assert_eq!(audit.len(), 5);
    assert!(audit[..4].iter().all(|a| a.action == "shop.item.stock"));
    assert_eq!(audit[3].before.as_ref().unwrap()["stock"], 5);
    assert_eq!(audit[3].after.as_ref().unwrap()["stock"], 8);
    assert_eq!(f.sync(item.id).unwrap().desired_version, 5);
    let kinds = f.kinds_since(mark);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == EventKind::StockChanged)
            .count(),
        4
    );
}

#[test]
fn stock_never_goes_below_zero() {
    let f = fixture();
    let item = f.create("Ticket", 10, 3);
    let msg = refusal(
        f.shop
            .update_stock(G, item.id, StockOp::Subtract(4), &admin()),
    );
    assert_eq!(
        msg,
        "Ticket has only 3 in stock; you can subtract at most that."
    );
    assert_eq!(f.stock(item.id), Stock::Limited(3));
    assert_eq!(f.audit().len(), 1);
    assert_eq!(f.sync(item.id).unwrap().desired_version, 1);
}

#[test]
fn unlimited_items_refuse_add_and_subtract() {
    let f = fixture();
    let item = f.create("Ticket", 10, -1);
    for op in [StockOp::Add(5), StockOp::Subtract(1)] {
        let msg = refusal(f.shop.update_stock(G, item.id, op, &admin()));
        assert!(msg.contains("unlimited stock; set a number first"), "{msg}");
    }
    assert_eq!(f.stock(item.id), Stock::Unlimited);
    assert_eq!(f.audit().len(), 1);
}

#[test]
fn stock_refuses_zero_amounts_overflow_and_unknown_items() {
    let f = fixture();
    let item = f.create("Ticket", 10, 3);
    assert!(
        refusal(f.shop.update_stock(G, item.id, StockOp::Add(0), &admin())).starts_with("amount:")
    );
    assert!(refusal(
        f.shop
            .update_stock(G, item.id, StockOp::Add(u64::MAX), &admin())
    )
    .contains("at most 1000000000"));
    assert!(refusal(f.shop.update_stock(
        G,
        item.id,
        StockOp::Set(Stock::Limited(1_000_000_001)),
        &admin()
    ))
    .starts_with("stock:"));
    assert_eq!(
        refusal(f.shop.update_stock(G, 42, StockOp::Add(1), &admin())),
        "Item 42 not found."
    );
    assert_eq!(f.stock(item.id), Stock::Limited(3));
    assert_eq!(f.audit().len(), 1);
}

#[test]
fn bulk_actions_toggle_many_items_in_one_go() {
    let f = fixture();
    let a = f.create("A", 1, -1);
    let b = f.create("B", 1, -1);
    let c = f.create("C", 1, -1);
    let out = f
        .shop
        .bulk_update(G, &[b.id, a.id, a.id], BulkAction::Hide, &admin())
        .unwrap();
    assert_eq!(
        out.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![a.id, b.id]
    );
    assert!(!f.item(a.id).visible && !f.item(b.id).visible && f.item(c.id).visible);
    assert_eq!(f.audit()[0].action, "shop.item.hide");
    let hidden = f.sync(a.id).unwrap();
    assert_eq!((hidden.desired_version, hidden.delete), (2, true));
    f.shop
        .bulk_update(G, &[a.id, c.id], BulkAction::Deactivate, &admin())
        .unwrap();
    assert!(!f.item(a.id).active && !f.item(c.id).active && f.item(b.id).active);
    f.shop
        .bulk_update(G, &[a.id], BulkAction::Activate, &admin())
        .unwrap();
    f.shop
        .bulk_update(G, &[a.id, b.id], BulkAction::Show, &admin())
        .unwrap();
    assert!(f.item(a.id).is_for_sale() && f.item(b.id).is_for_sale());
    assert!(!f.sync(a.id).unwrap().delete);
    // 3 creates + 2 hides + 2 deactivates + 1 activate + 2 shows.
    assert_eq!(f.audit().len(), 10);
}

#[test]
fn bulk_action_with_an_unknown_id_changes_nothing_and_names_it() {
    let f = fixture();
    let a = f.create("A", 1, -1);
    let msg = refusal(
        f.shop
            .bulk_update(G, &[a.id, 404], BulkAction::Hide, &admin()),
    );
    assert_eq!(msg, "Item 404 not found.");
    assert!(f.item(a.id).visible);
    assert_eq!(f.audit().len(), 1);
    assert!(
        refusal(f.shop.bulk_update(G, &[], BulkAction::Hide, &admin())).starts_with("item_ids:")
    );
}

#[test]
fn bulk_action_skips_items_already_in_that_state() {
    let f = fixture();
    let a = f.create("A", 1, -1);
    f.shop
        .bulk_update(G, &[a.id], BulkAction::Show, &admin())
        .unwrap();
    assert_eq!(f.audit().len(), 1);
    assert_eq!(f.sync(a.id).unwrap().desired_version, 1);
}

#[test]
fn a_hidden_item_has_no_message_until_it_is_shown() {
    let f = fixture();
    let item = f.create_with("Secret", 1, |i| i.visible = false);
    assert_eq!(f.sync(item.id), None);
    f.shop
        .edit_item(G, item.id, patch(r#"{"price":2}"#), &admin())
        .unwrap();
    assert_eq!(f.sync(item.id), None);
    f.shop
        .edit_item(G, item.id, patch(r#"{"visible":true}"#), &admin())
        .unwrap();
    let rec = f.sync(item.id).unwrap();
    assert_eq!((rec.desired_version, rec.delete), (1, false));
}
