//! Property test: random sequences of create / restock / purchase / transfer / use run against the
//! service and a plain model. After every step the service agrees with the model, `sales + stock`
//! is conserved for limited items, no balance is negative and the ledger validates.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::tests::{admin, buyer, fixture, Fixture, G};
use super::StockOp;
use crate::domain::shop::{ItemInput, Stock};
use crate::domain::{Money, Source, UserId};
use crate::economy::OpMeta;

const USERS: u64 = 10;
const MAX_ITEMS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Create {
        price: i64,
        stock: Option<u64>,
        max_per_user: Option<u32>,
    },
    Restock {
        item: usize,
        amount: u64,
    },
    Purchase {
        user: u64,
        item: usize,
        qty: u32,
    },
    Transfer {
        from: u64,
        to: u64,
        amount: i64,
    },
    Use {
        user: u64,
        item: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (1i64..60, proptest::option::of(0u64..6), proptest::option::of(1u32..4))
            .prop_map(|(price, stock, max_per_user)| Op::Create { price, stock, max_per_user }),
        1 => (0usize..MAX_ITEMS, 1u64..5).prop_map(|(item, amount)| Op::Restock { item, amount }),
        4 => (0..USERS, 0usize..MAX_ITEMS, 1u32..4)
            .prop_map(|(user, item, qty)| Op::Purchase { user, item, qty }),
        2 => (0..USERS, 0..USERS, 1i64..120)
            .prop_map(|(from, to, amount)| Op::Transfer { from, to, amount }),
        1 => (0..USERS, 0usize..MAX_ITEMS).prop_map(|(user, item)| Op::Use { user, item }),
    ]
}

struct ModelItem {
    id: u64,
    price: i64,
    stock: Option<u64>,
    /// Initial stock plus every restock: what `sales + stock` must equal.
    supplied: u64,
    sales: u64,
    max_per_user: Option<u32>,
}

#[derive(Default)]
struct Model {
    balances: BTreeMap<u64, i64>,
    items: Vec<ModelItem>,
    held: BTreeMap<(u64, u64), u64>,
    bought: BTreeMap<(u64, u64), u64>,
}

fn user(u: u64) -> UserId {
    UserId(1000 + u)
}

impl Model {
    /// Applies `op` to the model and says whether the service must accept it.
    fn apply(&mut self, op: &Op, created_id: impl FnOnce() -> u64) -> bool {
        match *op {
            Op::Create {
                price,
                stock,
                max_per_user,
            } => {
                if self.items.len() >= MAX_ITEMS {
                    return false;
                }
                self.items.push(ModelItem {
                    id: created_id(),
                    price,
                    stock,
                    supplied: stock.unwrap_or(0),
                    sales: 0,
                    max_per_user,
                });
                true
            }
            Op::Restock { item, amount } => match self.items.get_mut(item) {
                Some(ModelItem {
                    stock: Some(s),
                    supplied,
                    ..
                }) => {
                    *s += amount;
                    *supplied += amount;
                    true
                }
                _ => false,
            },
            Op::Purchase { user, item, qty } => {
                let Some(it) = self.items.get_mut(item) else {
                    return false;
                };
                let q = u64::from(qty);
                let bought = self.bought.entry((user, it.id)).or_default();
                let balance = self.balances.entry(user).or_default();
                let cost = it.price * i64::from(qty);
                if it.stock.is_some_and(|s| s < q)
                    || it.max_per_user.is_some_and(|m| *bought + q > u64::from(m))
                    || *balance < cost
                {
                    return false;
                }
                *balance -= cost;
                *bought += q;
                if let Some(s) = &mut it.stock {
                    *s -= q;
                }
                it.sales += q;
                *self.held.entry((user, it.id)).or_default() += q;
                true
            }
            Op::Transfer { from, to, amount } => {
                if from == to || self.balances.get(&from).copied().unwrap_or(0) < amount {
                    return false;
                }
                *self.balances.entry(from).or_default() -= amount;
                *self.balances.entry(to).or_default() += amount;
                true
            }
            Op::Use { user, item } => {
                let Some(it) = self.items.get(item) else {
                    return false;
                };
                match self.held.get_mut(&(user, it.id)) {
                    Some(h) if *h > 0 => {
                        *h -= 1;
                        true
                    }
                    _ => false,
                }
            }
        }
    }
}

fn run(f: &Fixture, model: &Model, op: &Op) -> bool {
    let item_id = |i: usize| model.items.get(i).map_or(u64::MAX, |it| it.id);
    match *op {
        Op::Create {
            price,
            stock,
            max_per_user,
        } => {
            let mut input = ItemInput::new(format!("Item {}", model.items.len()), price);
            input.stock = stock.map_or(-1, |s| s as i64);
            input.max_per_user = max_per_user;
            // The fifth item is refused by the model; the service has no such cap, so skip it.
            model.items.len() < MAX_ITEMS && f.shop.create_item(G, input, &admin()).is_ok()
        }
        Op::Restock { item, amount } => f
            .shop
            .update_stock(G, item_id(item), StockOp::Add(amount), &admin())
            .is_ok(),
        Op::Purchase { user: u, item, qty } => f
            .shop
            .purchase(G, user(u), item_id(item), qty, &buyer(user(u)))
            .is_ok(),
        Op::Transfer { from, to, amount } => f
            .economy
            .transfer(
                G,
                user(from),
                user(to),
                Money::new(amount),
                &OpMeta::user(user(from), Source::DiscordCommand),
            )
            .is_ok(),
        Op::Use { user: u, item } => f
            .shop
            .use_item(G, user(u), item_id(item), &buyer(user(u)))
            .is_ok(),
    }
}

fn check(f: &Fixture, model: &Model) -> Result<(), TestCaseError> {
    for it in &model.items {
        let stored = f.item(it.id);
        prop_assert_eq!(stored.sales_count, it.sales);
        match it.stock {
            Some(s) => {
                prop_assert_eq!(stored.stock, Stock::Limited(s));
                prop_assert_eq!(it.sales + s, it.supplied, "sales + stock not conserved");
            }
            None => prop_assert_eq!(stored.stock, Stock::Unlimited),
        }
        for u in 0..USERS {
            let held = model.held.get(&(u, it.id)).copied().unwrap_or(0);
            prop_assert_eq!(f.held(user(u), it.id), held);
        }
    }
    for u in 0..USERS {
        let b = f.balance(user(u));
        prop_assert!(b >= 0, "negative balance {b}");
        prop_assert_eq!(b, model.balances.get(&u).copied().unwrap_or(0));
    }
    prop_assert!(
        f.economy
            .validate_guild(G)
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .ok
    );
    Ok(())
}

proptest! {
    // 64 cases of up to 40 steps: each step is a durable commit, so keep the suite quick.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn shop_and_transfers_agree_with_the_model(
        funds in proptest::collection::vec(0i64..200, USERS as usize),
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let f = fixture();
        let mut model = Model::default();
        for (u, amount) in funds.iter().enumerate() {
            if *amount > 0 {
                f.fund(user(u as u64), *amount);
            }
            model.balances.insert(u as u64, *amount);
        }
        for op in &ops {
            let accepted = run(&f, &model, op);
            let next_id = || f.shop.list_items(G, &crate::shop::ItemFilter::all())
                .ok()
                .and_then(|items| items.last().map(|i| i.id))
                .unwrap_or(0);
            let expected = model.apply(op, next_id);
            prop_assert_eq!(accepted, expected, "service and model disagree on {:?}", op);
            check(&f, &model)?;
        }
    }
}
