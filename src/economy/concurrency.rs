//! Concurrency: many threads transferring at once never lose or create money, never go negative,
//! and every acknowledged transfer survives closing and reopening the database.

use rand::{Rng, SeedableRng};

use super::*;
use crate::clock::ManualClock;
use crate::domain::{GuildConfig, Money, Source, TxKind, UserId};
use crate::store::{Store, StoreOptions};
use crate::testing;

const G: GuildId = GuildId(5);
const ACCOUNTS: u64 = 100;
const THREADS: u64 = 16;
const PER_THREAD: usize = 1000;
const START: i64 = 1_000;

#[test]
fn sixteen_threads_of_random_transfers_keep_the_books_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coffer.redb");
    let opts = StoreOptions {
        defaults: GuildConfig {
            rate_limit_per_minute: 0,
            starting_balance: START,
            ..GuildConfig::default()
        },
        event_buffer: 64,
        ..StoreOptions::default()
    };
    let clock = ManualClock::new(testing::t0());
    let store = Store::open(&path, clock.clone(), opts.clone()).unwrap();
    let eco = Economy::new(store.clone());
    for u in 0..ACCOUNTS {
        eco.account(G, UserId(u)).unwrap();
    }
    let total_before = ACCOUNTS as i64 * START;

    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let eco = eco.clone();
            std::thread::spawn(move || {
                let mut rng = rand::rngs::StdRng::seed_from_u64(t);
                let mut acked = Vec::new();
                let mut refused = 0usize;
                for _ in 0..PER_THREAD {
                    let from = rng.gen_range(0..ACCOUNTS);
                    let to = rng.gen_range(0..ACCOUNTS);
                    let amount = rng.gen_range(1..=400);
                    let meta = OpMeta::user(UserId(from), Source::Api);
                    match eco.transfer(G, UserId(from), UserId(to), Money::new(amount), &meta) {
                        Ok(out) => acked.push((from, to, amount, out.transaction_ids)),
                        Err(crate::error::Error::Domain(_)) => refused += 1,
                        Err(e) => panic!("unexpected failure: {e:?}"),
                    }
                }
                (acked, refused)
            })
        })
        .collect();
    let mut acked = Vec::new();
    let mut refused = 0;
    for h in handles {
        let (a, r) = h.join().unwrap();
        acked.extend(a);
        refused += r;
    }
    assert_eq!(acked.len() + refused, (THREADS as usize) * PER_THREAD);
    assert!(
        acked.len() > 5_000,
        "most transfers should succeed, got {}",
        acked.len()
    );

    let check = |eco: &Economy| {
        let report = eco.validate_guild(G).unwrap();
        assert!(report.ok, "{:?}", report.mismatches);
        assert_eq!(report.total_currency, total_before);
        for u in 0..ACCOUNTS {
            assert!(
                eco.find_account(G, UserId(u))
                    .unwrap()
                    .unwrap()
                    .balance
                    .get()
                    >= 0
            );
        }
    };
    check(&eco);

    drop(eco);
    drop(store);
    let store = Store::open(&path, clock, opts).unwrap();
    let eco = Economy::new(store);
    check(&eco);
    for (from, to, amount, ids) in &acked {
        let send = eco.transaction(G, ids[0]).unwrap();
        let recv = eco.transaction(G, ids[1]).unwrap();
        assert_eq!(
            (send.kind, send.user.0, send.amount.get()),
            (TxKind::TransferSend, *from, -amount)
        );
        assert_eq!(
            (recv.kind, recv.user.0, recv.amount.get()),
            (TxKind::TransferReceive, *to, *amount)
        );
    }
    let entries = eco.transactions(G, &TxFilter::default()).unwrap().total;
    assert_eq!(entries, ACCOUNTS + 2 * acked.len() as u64);
}
