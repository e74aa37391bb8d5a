//! Property tests: random sequences of daily / transfer / adjust / reverse over 20 members,
//! checked step by step against a plain in-memory model and the DESIGN invariants.

use std::collections::{BTreeMap, HashSet};

use chrono::Duration;
use proptest::prelude::*;

use super::*;
use crate::domain::{GuildConfig, Money, Source, TxKind, UserId};
use crate::testing;

const G: GuildId = GuildId(42);
const USERS: u64 = 20;

#[derive(Debug, Clone)]
enum Op {
    Daily(u64),
    Transfer(u64, u64, i64),
    Add(u64, i64),
    Remove(u64, i64),
    Set(u64, i64),
    Reverse(usize),
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    let u = 0..USERS;
    prop_oneof![
        3 => u.clone().prop_map(Op::Daily),
        6 => (u.clone(), u.clone(), -10i64..400).prop_map(|(a, b, n)| Op::Transfer(a, b, n)),
        2 => (u.clone(), 1i64..500).prop_map(|(a, n)| Op::Add(a, n)),
        2 => (u.clone(), 1i64..300).prop_map(|(a, n)| Op::Remove(a, n)),
        1 => (u.clone(), 0i64..600).prop_map(|(a, n)| Op::Set(a, n)),
        2 => (0usize..64).prop_map(Op::Reverse),
        2 => (1i64..30 * 3600).prop_map(Op::Advance),
    ]
}

/// What the model expects the ledger to hold for one operation: (user, amount) legs.
#[derive(Debug, Clone)]
struct ModelOp {
    first_id: u64,
    legs: Vec<(u64, i64)>,
    reversed: bool,
}

#[derive(Default)]
struct Model {
    balances: BTreeMap<u64, i64>,
    last_daily: BTreeMap<u64, chrono::DateTime<chrono::Utc>>,
    ops: Vec<ModelOp>,
}

impl Model {
    fn bal(&self, u: u64) -> i64 {
        self.balances.get(&u).copied().unwrap_or(0)
    }
}

fn check_invariants(eco: &Economy, model: &Model) -> Result<(), TestCaseError> {
    for u in 0..USERS {
        let stored = eco
            .find_account(G, UserId(u))
            .unwrap()
            .map(|a| a.balance.get())
            .unwrap_or(0);
        prop_assert_eq!(stored, model.bal(u), "balance of user {}", u);
        prop_assert!(stored >= 0);
    }
    let report = eco.validate_guild(G).unwrap();
    prop_assert!(report.ok, "integrity: {:?}", report.mismatches);
    let all = eco.transactions(G, &TxFilter::default()).unwrap().items;
    let mut groups: BTreeMap<u64, i64> = BTreeMap::new();
    let mut total = 0i64;
    for tx in &all {
        prop_assert!(tx.is_consistent(), "entry {} inconsistent", tx.id);
        total += tx.amount.get();
        if tx.kind.is_transfer_leg() {
            *groups.entry(tx.group).or_default() += tx.amount.get();
        }
    }
    // Transfers only move currency: each transfer's send and receive legs cancel out, so the
    // total changes only through minting or burning kinds.
    for (g, sum) in groups {
        prop_assert_eq!(sum, 0, "transfer group {} does not net to zero", g);
    }
    let balances: i64 = model.balances.values().sum();
    prop_assert_eq!(total, balances);
    // The leaderboard index (kept by the writer after each commit, built at the first check)
    // agrees with the accounts sorted from scratch, and so does every rank.
    let mut expected: Vec<(i64, u64)> = Vec::new();
    for u in 0..USERS {
        if let Some(a) = eco.find_account(G, UserId(u)).unwrap().filter(|a| a.active) {
            expected.push((a.balance.get(), u));
        }
    }
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let board = eco.leaderboard(G, 1, 100).unwrap();
    let got: Vec<(i64, u64)> = board
        .items
        .iter()
        .map(|e| (e.balance.get(), e.user.0))
        .collect();
    prop_assert_eq!(&got, &expected);
    prop_assert_eq!(board.total, expected.len() as u64);
    for (i, (_, u)) in expected.iter().enumerate() {
        let rank = eco.rank(G, UserId(*u)).unwrap().map(|e| e.rank);
        prop_assert_eq!(rank, Some(i as u64 + 1), "rank of user {}", u);
    }
    Ok(())
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let ts = testing::store_with(GuildConfig {
        rate_limit_per_minute: 0,
        transfer_tax_percent: 3,
        ..GuildConfig::default()
    });
    let eco = Economy::new(ts.store.clone());
    let admin = OpMeta::user(UserId(9999), Source::Dashboard);
    let mut m = Model::default();
    for op in ops {
        let next_id = eco.transactions(G, &TxFilter::default()).unwrap().total + 1;
        match op {
            Op::Daily(u) => {
                let now = ts.store.now();
                let allowed = m
                    .last_daily
                    .get(&u)
                    .is_none_or(|l| now >= *l + Duration::hours(24));
                let res = eco.daily(
                    G,
                    UserId(u),
                    &OpMeta::user(UserId(u), Source::DiscordCommand),
                );
                prop_assert_eq!(res.is_ok(), allowed, "daily for {}", u);
                if allowed {
                    m.last_daily.insert(u, now);
                    *m.balances.entry(u).or_default() += 100;
                    m.ops.push(ModelOp {
                        first_id: next_id,
                        legs: vec![(u, 100)],
                        reversed: false,
                    });
                }
            }
            Op::Transfer(a, b, n) => {
                let tax = if n > 0 { n * 3 / 100 } else { 0 };
                let allowed = a != b && n > 0 && m.bal(a) >= n + tax;
                let res = eco.transfer(
                    G,
                    UserId(a),
                    UserId(b),
                    Money::new(n),
                    &OpMeta::user(UserId(a), Source::DiscordCommand),
                );
                prop_assert_eq!(
                    res.is_ok(),
                    allowed,
                    "transfer {} -> {} of {}: {:?}",
                    a,
                    b,
                    n,
                    res
                );
                if allowed {
                    *m.balances.entry(a).or_default() -= n + tax;
                    *m.balances.entry(b).or_default() += n;
                    let mut legs = vec![(a, -n), (b, n)];
                    if tax > 0 {
                        legs.push((a, -tax));
                    }
                    m.ops.push(ModelOp {
                        first_id: next_id,
                        legs,
                        reversed: false,
                    });
                }
            }
            Op::Add(u, n) | Op::Remove(u, n) | Op::Set(u, n) => {
                let (adj, delta, allowed) = match op {
                    Op::Add(..) => (Adjustment::Add(Money::new(n)), n, true),
                    Op::Remove(..) => (Adjustment::Remove(Money::new(n)), -n, m.bal(u) >= n),
                    _ => (Adjustment::Set(Money::new(n)), n - m.bal(u), true),
                };
                let res = eco.adjust(G, UserId(u), adj, "prop", &admin);
                prop_assert_eq!(res.is_ok(), allowed, "{:?}", op);
                if allowed && delta != 0 {
                    *m.balances.entry(u).or_default() += delta;
                    m.ops.push(ModelOp {
                        first_id: next_id,
                        legs: vec![(u, delta)],
                        reversed: false,
                    });
                }
            }
            Op::Reverse(i) => {
                if m.ops.is_empty() {
                    continue;
                }
                let i = i % m.ops.len();
                let target = m.ops[i].clone();
                let mut trial = m.balances.clone();
                let mut fits = true;
                for (u, amt) in &target.legs {
                    let b = trial.entry(*u).or_default();
                    *b -= amt;
                    fits &= *b >= 0;
                }
                let allowed = !target.reversed && fits;
                let res = eco.reverse(G, target.first_id, "prop", &admin);
                prop_assert_eq!(res.is_ok(), allowed, "reverse op {:?}: {:?}", target, res);
                if allowed {
                    m.balances = trial;
                    // Refund entries can't be reversed, so they never join `m.ops`.
                    m.ops[i].reversed = true;
                }
            }
            Op::Advance(secs) => ts.clock.advance(Duration::seconds(secs)),
        }
        check_invariants(&eco, &m)?;
    }
    // Every model op is in the ledger with its legs, at the ids the model expected.
    let mut seen = HashSet::new();
    for op in &m.ops {
        for (k, (u, amt)) in op.legs.iter().enumerate() {
            let tx = eco.transaction(G, op.first_id + k as u64).unwrap();
            prop_assert_eq!((tx.user.0, tx.amount.get()), (*u, *amt));
            prop_assert!(tx.kind != TxKind::Refund);
            prop_assert!(seen.insert(tx.id));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_ledger_operations_keep_every_invariant(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops)?;
    }
}
