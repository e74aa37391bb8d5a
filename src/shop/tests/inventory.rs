//! Inventories: listing with names, admin add/remove, and using an item.

use super::*;
use crate::domain::shop::Stock;

#[test]
fn inventory_lists_held_items_with_their_names() {
    let f = fixture();
    let a = f.create_with("Apple", 1, |i| {
        i.emoji = Some("🍎".into());
        i.use_message = Some("Crunch.".into());
    });
    let b = f.create("Badge", 1, -1);
    f.create("Unbought", 1, -1);
    f.fund(ALICE, 10);
    f.buy(ALICE, b.id, 1).unwrap();
    f.buy(ALICE, a.id, 2).unwrap();
    let inv = f.shop.inventory(G, ALICE).unwrap();
    let lines: Vec<_> = inv
        .iter()
        .map(|e| (e.name.as_str(), e.quantity, e.usable))
        .collect();
    assert_eq!(lines, vec![("Apple", 2, true), ("Badge", 1, false)]);
    assert_eq!(inv[0].emoji.as_deref(), Some("🍎"));
    assert!(f.shop.inventory(G, BOB).unwrap().is_empty());
}

#[test]
fn admin_add_and_remove_change_holdings_only_and_are_audited() {
    let f = fixture();
    let item = f.create("Badge", 1, 5);
    let mark = f.mark();
    assert_eq!(
        f.shop
            .add_to_inventory(G, BOB, item.id, 4, &admin())
            .unwrap(),
        4
    );
    assert_eq!(
        f.shop
            .remove_from_inventory(G, BOB, item.id, 1, &admin())
            .unwrap(),
        3
    );
    assert_eq!(f.held(BOB, item.id), 3);
    let stored = f.item(item.id);
    assert_eq!((stored.stock, stored.sales_count), (Stock::Limited(5), 0));
    assert!(f.ledger().is_empty());
    let audit = f.audit();
    assert_eq!(audit[0].action, "shop.inventory.remove");
    assert_eq!(audit[1].action, "shop.inventory.add");
    assert_eq!(audit[1].target, format!("user:{BOB}"));
    assert_eq!(audit[1].before.as_ref().unwrap()["quantity"], 0);
    assert_eq!(audit[1].after.as_ref().unwrap()["quantity"], 4);
    let kinds = f.kinds_since(mark);
    assert_eq!(
        kinds,
        vec![EventKind::InventoryChanged, EventKind::InventoryChanged]
    );
}

#[test]
fn admin_remove_refuses_more_than_held_and_unknown_items() {
    let f = fixture();
    let item = f.create("Badge", 1, -1);
    f.shop
        .add_to_inventory(G, BOB, item.id, 2, &admin())
        .unwrap();
    let audits = f.audit().len();
    assert_eq!(
        refusal(f.shop.remove_from_inventory(G, BOB, item.id, 3, &admin())),
        format!("User {BOB} has only 2 of Badge; you can remove at most that.")
    );
    assert_eq!(
        refusal(f.shop.add_to_inventory(G, BOB, 77, 1, &admin())),
        "Item 77 not found."
    );
    assert!(
        refusal(f.shop.add_to_inventory(G, BOB, item.id, 0, &admin())).starts_with("quantity:")
    );
    assert_eq!(f.held(BOB, item.id), 2);
    assert_eq!(f.audit().len(), audits);
}

#[test]
fn using_an_item_consumes_one_and_returns_its_message() {
    let f = fixture();
    let item = f.create_with("Potion", 5, |i| {
        i.use_message = Some("You feel refreshed.".into())
    });
    f.fund(ALICE, 10);
    f.buy(ALICE, item.id, 2).unwrap();
    let mark = f.mark();
    let out = f.shop.use_item(G, ALICE, item.id, &buyer(ALICE)).unwrap();
    assert_eq!(out.use_message.as_deref(), Some("You feel refreshed."));
    assert_eq!(out.remaining, 1);
    assert_eq!(f.held(ALICE, item.id), 1);
    assert_eq!(f.kinds_since(mark), vec![EventKind::InventoryChanged]);
    f.shop.use_item(G, ALICE, item.id, &buyer(ALICE)).unwrap();
    assert!(f.shop.inventory(G, ALICE).unwrap().is_empty());
}

#[test]
fn using_an_item_you_do_not_hold_is_refused() {
    let f = fixture();
    let item = f.create("Potion", 5, -1);
    let mark = f.mark();
    assert_eq!(
        refusal(f.shop.use_item(G, ALICE, item.id, &buyer(ALICE))),
        "You don't have any Potion."
    );
    assert!(f.events_since(mark).is_empty());
    let plain = f.create("Rock", 1, -1);
    f.shop
        .add_to_inventory(G, ALICE, plain.id, 1, &admin())
        .unwrap();
    let out = f.shop.use_item(G, ALICE, plain.id, &buyer(ALICE)).unwrap();
    assert_eq!((out.use_message, out.remaining), (None, 0));
}
