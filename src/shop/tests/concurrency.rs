//! Concurrent purchases against one store: redb serializes write transactions, so the checks
//! inside each purchase see every earlier one, and no stock or coin is spent twice.

use std::sync::Arc;
use std::thread;

use super::*;
use crate::domain::TxKind;

/// Runs `n` purchases of `qty` from `users(i)` at once; returns how many succeeded.
fn race(f: &Fixture, item: u64, n: usize, users: impl Fn(usize) -> UserId) -> usize {
    let barrier = Arc::new(std::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let shop = f.shop.clone();
            let user = users(i);
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                shop.purchase(G, user, item, 1, &buyer(user)).is_ok()
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .filter(|ok| *ok)
        .count()
}

fn purchases(f: &Fixture) -> usize {
    f.ledger()
        .iter()
        .filter(|t| t.kind == TxKind::ShopPurchase)
        .count()
}

#[test]
fn fifty_buyers_of_the_last_unit_leave_exactly_one_winner() {
    let f = fixture();
    let item = f.create("Last One", 10, 1);
    for i in 0..50 {
        f.fund(UserId(100 + i), 10);
    }
    let wins = race(&f, item.id, 50, |i| UserId(100 + i as u64));
    assert_eq!(wins, 1);
    let stored = f.item(item.id);
    assert_eq!(stored.stock, Stock::Limited(0));
    assert_eq!(stored.sales_count, 1);
    assert_eq!(purchases(&f), 1);
    let holders: u64 = (0..50).map(|i| f.held(UserId(100 + i), item.id)).sum();
    assert_eq!(holders, 1);
    assert!(f.economy.validate_guild(G).unwrap().ok);
}

#[test]
fn twenty_purchases_with_money_for_one_spend_it_once() {
    let f = fixture();
    let item = f.create("Ticket", 25, -1);
    f.fund(ALICE, 25);
    let wins = race(&f, item.id, 20, |_| ALICE);
    assert_eq!(wins, 1);
    assert_eq!(f.balance(ALICE), 0);
    assert_eq!(f.held(ALICE, item.id), 1);
    assert_eq!(purchases(&f), 1);
    assert!(f.economy.validate_guild(G).unwrap().ok);
}
