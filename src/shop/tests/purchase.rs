//! Purchases: what a successful one writes, and that every refusal changes nothing.

use super::*;
use crate::domain::shop::{ItemPatch, Stock};
use crate::domain::{ChannelId, DomainError, RoleId, TxKind};
use crate::store::roles::GrantState;

/// Runs a purchase that must be refused and checks it changed nothing; returns the message.
fn refused(f: &Fixture, user: UserId, item: u64, qty: u32) -> String {
    let before = f.snapshot(user, item);
    let mark = f.mark();
    let msg = refusal(f.buy(user, item, qty));
    assert_eq!(
        f.snapshot(user, item),
        before,
        "refusal `{msg}` changed state"
    );
    assert!(
        f.events_since(mark).is_empty(),
        "refusal `{msg}` emitted events"
    );
    msg
}

#[test]
fn purchase_pays_takes_stock_fills_inventory_and_counts_the_sale() {
    let f = fixture();
    f.config(|c| c.shop_channel_id = Some(ChannelId(5)));
    let item = f.create("Golden Ticket", 40, 5);
    f.fund(ALICE, 200);
    let mark = f.mark();
    let out = f.buy(ALICE, item.id, 3).unwrap();
    assert_eq!(out.total.get(), 120);
    assert_eq!(out.balance.get(), 80);
    assert_eq!(
        (out.stock, out.held, out.quantity),
        (Stock::Limited(2), 3, 3)
    );
    assert_eq!(f.balance(ALICE), 80);
    let stored = f.item(item.id);
    assert_eq!((stored.stock, stored.sales_count), (Stock::Limited(2), 3));
    assert_eq!(f.held(ALICE, item.id), 3);
    let tx = f.ledger().pop().unwrap();
    assert_eq!(tx.id, out.transaction_id);
    assert_eq!(
        (tx.kind, tx.amount.get(), tx.user),
        (TxKind::ShopPurchase, -120, ALICE)
    );
    assert!(
        tx.description.contains("3× Golden Ticket"),
        "{}",
        tx.description
    );
    assert_eq!(tx.metadata["quantity"], 3);
    assert_eq!(tx.metadata["unit_price"], 40);
    let sync = f.sync(item.id).unwrap();
    assert_eq!(
        (sync.desired_version, sync.channel),
        (2, Some(ChannelId(5)))
    );
    let kinds = f.kinds_since(mark);
    for k in [
        EventKind::ItemBought,
        EventKind::StockChanged,
        EventKind::BalanceChanged,
    ] {
        assert!(kinds.contains(&k), "missing {k:?} in {kinds:?}");
    }
    assert!(f.economy.validate_guild(G).unwrap().ok);
}

#[test]
fn unlimited_items_keep_their_stock_and_their_message_untouched() {
    let f = fixture();
    let item = f.create("Sticker", 5, -1);
    f.fund(ALICE, 50);
    let mark = f.mark();
    let out = f.buy(ALICE, item.id, 4).unwrap();
    assert_eq!(out.stock, Stock::Unlimited);
    assert_eq!(f.item(item.id).sales_count, 4);
    assert_eq!(f.sync(item.id).unwrap().desired_version, 1);
    assert!(!f.kinds_since(mark).contains(&EventKind::StockChanged));
}

#[test]
fn purchase_of_a_role_item_records_a_pending_role_grant() {
    let f = fixture();
    let item = f.create_with("VIP", 10, |i| i.role_id = Some(RoleId(99)));
    f.fund(ALICE, 10);
    let out = f.buy(ALICE, item.id, 1).unwrap();
    let grants = f.grants();
    assert_eq!(grants.len(), 1);
    assert_eq!(Some(grants[0].id), out.role_grant);
    assert_eq!((grants[0].user, grants[0].role), (ALICE, RoleId(99)));
    assert_eq!(grants[0].state, GrantState::Pending);
    assert_eq!(grants[0].reason, format!("item:{}", item.id));
}

#[test]
fn insufficient_funds_says_how_much_is_needed_and_changes_nothing() {
    let f = fixture();
    let item = f.create("Ticket", 125, 5);
    f.fund(ALICE, 120);
    assert_eq!(
        refused(&f, ALICE, item.id, 2),
        "You need 250 coins but have 120."
    );
    let e = f.buy(ALICE, item.id, 2).unwrap_err();
    assert!(matches!(
        e.domain(),
        Some(DomainError::InsufficientFunds { .. })
    ));
}

#[test]
fn purchase_fails_when_stock_is_zero_or_too_low() {
    let f = fixture();
    let item = f.create("Ticket", 1, 2);
    f.fund(ALICE, 100);
    assert_eq!(
        refused(&f, ALICE, item.id, 3),
        "Only 2 of Ticket left; you asked for 3."
    );
    f.buy(ALICE, item.id, 2).unwrap();
    assert_eq!(refused(&f, ALICE, item.id, 1), "Ticket is out of stock.");
}

#[test]
fn inactive_and_hidden_items_are_not_for_sale() {
    let f = fixture();
    let inactive = f.create_with("Old", 1, |i| i.active = false);
    let hidden = f.create_with("Secret", 1, |i| i.visible = false);
    f.fund(ALICE, 100);
    assert_eq!(
        refused(&f, ALICE, inactive.id, 1),
        "Old is not for sale right now."
    );
    assert_eq!(
        refused(&f, ALICE, hidden.id, 1),
        "Secret is not for sale right now."
    );
    assert_eq!(refused(&f, ALICE, 999, 1), "Item 999 not found.");
}

#[test]
fn per_member_limit_counts_every_unit_ever_bought_even_after_use() {
    let f = fixture();
    let item = f.create_with("Ticket", 1, |i| {
        i.max_per_user = Some(3);
        i.use_message = Some("Used!".into());
    });
    f.fund(ALICE, 100);
    f.fund(BOB, 100);
    assert_eq!(
        refused(&f, ALICE, item.id, 4),
        "Each member can buy at most 3 of Ticket; you can buy 3 more."
    );
    f.buy(ALICE, item.id, 2).unwrap();
    f.shop.use_item(G, ALICE, item.id, &buyer(ALICE)).unwrap();
    f.shop.use_item(G, ALICE, item.id, &buyer(ALICE)).unwrap();
    assert_eq!(f.held(ALICE, item.id), 0);
    assert_eq!(
        refused(&f, ALICE, item.id, 2),
        "Each member can buy at most 3 of Ticket; you can buy 1 more."
    );
    f.buy(ALICE, item.id, 1).unwrap();
    assert_eq!(
        refused(&f, ALICE, item.id, 1),
        "You already bought the most allowed per member (3) of Ticket."
    );
    // The limit is per member.
    f.buy(BOB, item.id, 3).unwrap();
}

#[test]
fn quantity_must_be_between_1_and_100() {
    let f = fixture();
    let item = f.create("Ticket", 1, -1);
    f.fund(ALICE, 1000);
    assert!(refused(&f, ALICE, item.id, 0).starts_with("quantity:"));
    assert!(refused(&f, ALICE, item.id, 101).starts_with("quantity:"));
    f.buy(ALICE, item.id, 100).unwrap();
    assert_eq!(f.balance(ALICE), 900);
}

#[test]
fn largest_price_times_largest_quantity_is_refused_cleanly() {
    let f = fixture();
    let item = f.create("Castle", crate::domain::MAX_AMOUNT, -1);
    f.fund(ALICE, 5);
    assert_eq!(
        refused(&f, ALICE, item.id, 100),
        "You need 100,000,000,000,000 coins but have 5."
    );
}

#[test]
fn purchase_is_refused_when_the_shop_or_the_currency_is_off() {
    let f = fixture();
    let item = f.create("Ticket", 1, 5);
    f.fund(ALICE, 10);
    f.config(|c| c.features.shop = false);
    assert_eq!(
        refused(&f, ALICE, item.id, 1),
        "The shop is turned off on this server."
    );
    f.config(|c| {
        c.features.shop = true;
        c.features.currency = false;
    });
    assert_eq!(
        refused(&f, ALICE, item.id, 1),
        "The currency is turned off on this server."
    );
}

#[test]
fn a_repeated_idempotency_key_buys_once() {
    let f = fixture();
    let item = f.create("Ticket", 10, 5);
    f.fund(ALICE, 100);
    let meta = buyer(ALICE).with_key(crate::testing::key("interaction-1"));
    let a = f.shop.purchase(G, ALICE, item.id, 1, &meta).unwrap();
    let b = f.shop.purchase(G, ALICE, item.id, 1, &meta).unwrap();
    assert_eq!(a, b);
    assert_eq!(f.balance(ALICE), 90);
    assert_eq!(f.stock(item.id), Stock::Limited(4));
    assert_eq!(f.held(ALICE, item.id), 1);
    assert_eq!(f.ledger().len(), 2);
}

#[test]
fn purchases_share_the_member_rate_limit_and_refusals_give_the_slot_back() {
    let f = fixture_with(GuildConfig {
        rate_limit_per_minute: 2,
        ..GuildConfig::default()
    });
    let item = f.create("Ticket", 10, -1);
    let costly = f.create("Crown", 1000, -1);
    f.fund(ALICE, 100);
    refused(&f, ALICE, costly.id, 1);
    f.buy(ALICE, item.id, 1).unwrap();
    f.buy(ALICE, item.id, 1).unwrap();
    let e = f.buy(ALICE, item.id, 1).unwrap_err();
    assert!(matches!(e.domain(), Some(DomainError::RateLimited { .. })));
    assert_eq!(f.balance(ALICE), 80);
    f.ts.clock.advance(chrono::Duration::seconds(61));
    f.buy(ALICE, item.id, 1).unwrap();
}

#[test]
fn the_price_paid_is_the_price_at_the_moment_of_purchase() {
    let f = fixture();
    let item = f.create("Ticket", 10, -1);
    f.fund(ALICE, 100);
    f.buy(ALICE, item.id, 1).unwrap();
    let p: ItemPatch = serde_json::from_str(r#"{"price":30}"#).unwrap();
    f.shop.edit_item(G, item.id, p, &admin()).unwrap();
    let out = f.buy(ALICE, item.id, 1).unwrap();
    assert_eq!((out.unit_price.get(), out.balance.get()), (30, 60));
}
