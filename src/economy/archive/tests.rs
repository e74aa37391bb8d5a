//! Archive tests: balances and validation unchanged after archiving, archived rows still
//! readable and exportable, tampering still detected, refusals name the field.

use chrono::Duration;

use crate::domain::{Actor, DomainError, GuildId, Money, Source, UserId};
use crate::economy::{Adjustment, Economy, OpMeta, TxFilter, TxSort};
use crate::store::archive::ArchiveCheckpoint;
use crate::store::Store;
use crate::testing::{self, TestStore};

const G: GuildId = GuildId(1);
const A: UserId = UserId(10);
const B: UserId = UserId(20);

fn admin() -> OpMeta {
    OpMeta::user(UserId(999), Source::DiscordCommand)
}

fn give(eco: &Economy, u: UserId, amount: i64) {
    eco.adjust(G, u, Adjustment::Add(Money::new(amount)), "test", &admin())
        .unwrap();
}

fn balance(eco: &Economy, u: UserId) -> i64 {
    eco.account(G, u).unwrap().balance.get()
}

/// A: +100, -30 (to B), B: +30, all 10 days ago; then A: +5 now.
fn history(ts: &TestStore, eco: &Economy) {
    give(eco, A, 100);
    eco.transfer(
        G,
        A,
        B,
        Money::new(30),
        &OpMeta::user(A, Source::DiscordCommand),
    )
    .unwrap();
    ts.clock.advance(Duration::days(10));
    give(eco, A, 5);
}

fn all(eco: &Economy, include_archived: bool) -> Vec<u64> {
    let f = TxFilter {
        include_archived,
        sort: TxSort::OldestFirst,
        ..TxFilter::default()
    };
    eco.transactions(G, &f)
        .unwrap()
        .items
        .iter()
        .map(|t| t.id)
        .collect()
}

#[test]
fn archiving_moves_old_entries_and_keeps_balances_and_validation() {
    let ts = testing::store();
    let eco = Economy::new(ts.store.clone());
    history(&ts, &eco);
    let report = eco.archive(G, 5, &Actor::Cli.into()).unwrap();
    assert_eq!(
        (report.archived, report.users, report.last_id),
        (3, 2, Some(3))
    );
    assert_eq!((balance(&eco, A), balance(&eco, B)), (75, 30));
    assert_eq!(all(&eco, false), vec![4]);
    assert_eq!(all(&eco, true), vec![1, 2, 3, 4]);
    let b_only = TxFilter {
        user: Some(B),
        include_archived: true,
        ..TxFilter::default()
    };
    assert_eq!(eco.transactions(G, &b_only).unwrap().total, 1);
    assert_eq!(eco.transaction(G, 2).unwrap().amount.get(), -30);

    let guild = eco.validate_guild(G).unwrap();
    assert!(guild.ok, "{guild:?}");
    assert_eq!((guild.entries, guild.archived_entries), (1, 3));
    let a = eco.validate_user(G, A).unwrap();
    assert!(a.ok, "{a:?}");
    assert_eq!(
        (a.entries, a.archived_entries, a.expected_balance.get()),
        (3, 2, 75)
    );

    // Later entries chain on from the checkpoint, and a second run extends it.
    eco.transfer(
        G,
        B,
        A,
        Money::new(10),
        &OpMeta::user(B, Source::DiscordCommand),
    )
    .unwrap();
    assert!(eco.validate_guild(G).unwrap().ok);
    ts.clock.advance(Duration::days(10));
    assert_eq!(eco.archive(G, 5, &Actor::Cli.into()).unwrap().archived, 3);
    assert_eq!(eco.archive(G, 5, &Actor::Cli.into()).unwrap().archived, 0);
    let guild = eco.validate_guild(G).unwrap();
    assert!(guild.ok, "{guild:?}");
    assert_eq!((guild.entries, guild.archived_entries), (0, 6));
    assert_eq!((balance(&eco, A), balance(&eco, B)), (85, 20));
    assert!(eco.validate_user(G, B).unwrap().ok);
}

#[test]
fn archived_entries_cannot_be_reversed_and_bad_retention_is_refused() {
    let ts = testing::store();
    let eco = Economy::new(ts.store.clone());
    history(&ts, &eco);
    eco.archive(G, 1, &Actor::Cli.into()).unwrap();
    let e = eco.reverse(G, 1, "oops", &admin()).unwrap_err();
    assert!(matches!(e.domain(), Some(DomainError::Refused(m)) if m.contains("archived")));
    assert_eq!(balance(&eco, A), 75);
    for days in [0, 40_000] {
        let e = eco.archive(G, days, &Actor::Cli.into()).unwrap_err();
        assert!(
            matches!(e.domain(), Some(DomainError::Invalid { field, .. }) if field == "days_to_keep")
        );
    }
}

#[test]
fn the_archive_run_is_audited_and_leaves_the_last_day_live() {
    let ts = testing::store();
    let eco = Economy::new(ts.store.clone());
    give(&eco, A, 1);
    ts.clock.advance(Duration::hours(23));
    give(&eco, A, 2);
    assert_eq!(eco.archive(G, 1, &Actor::Cli.into()).unwrap().archived, 0);
    ts.clock.advance(Duration::hours(2));
    assert_eq!(eco.archive(G, 1, &Actor::Cli.into()).unwrap().archived, 1);
    let last = ts
        .store
        .read(G, |r| {
            let mut out = None;
            r.scan_audit(|e| -> Result<bool, crate::Error> {
                out = Some(e);
                Ok(false)
            })?;
            Ok::<_, crate::Error>(out)
        })
        .unwrap()
        .unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor),
        ("transactions.archive", Actor::Cli)
    );
    assert_eq!(last.after.unwrap()["archived"], 1);
}

/// Rewrites A's checkpoint or account behind Coffer's back, then reopens the store.
fn tamper(
    ts: TestStore,
    table: &str,
    f: impl FnOnce(&mut serde_json::Value),
) -> (TestStore, Economy) {
    use redb::ReadableTable;
    let path = ts.store.path().to_owned();
    let TestStore { store, clock, dir } = ts;
    drop(store);
    {
        let db = redb::Database::create(&path).unwrap();
        let w = db.begin_write().unwrap();
        {
            let def = match table {
                "checkpoint" => crate::store::tables::ARCHIVE_CHECKPOINTS,
                _ => crate::store::tables::ACCOUNTS,
            };
            let mut t = w.open_table(def).unwrap();
            let raw = t.get((G.0, A.0)).unwrap().unwrap().value().to_vec();
            use crate::store::records::{account_last_entry, decode_account, encode_account};
            let accounts = table != "checkpoint";
            let mut v: serde_json::Value = if accounts {
                serde_json::to_value(decode_account("accounts", &raw).unwrap()).unwrap()
            } else {
                serde_json::from_slice(&raw).unwrap()
            };
            f(&mut v);
            let bytes = if accounts {
                encode_account(
                    &serde_json::from_value(v).unwrap(),
                    account_last_entry(&raw),
                )
            } else {
                serde_json::to_vec(&v).unwrap()
            };
            t.insert((G.0, A.0), bytes.as_slice()).unwrap();
        }
        w.commit().unwrap();
    }
    let store = Store::open(&path, clock.clone(), Default::default()).unwrap();
    let eco = Economy::new(store.clone());
    (TestStore { store, clock, dir }, eco)
}

#[test]
fn tampering_with_a_checkpoint_or_a_balance_after_archiving_is_detected() {
    let ts = testing::store();
    let eco = Economy::new(ts.store.clone());
    history(&ts, &eco);
    eco.archive(G, 5, &Actor::Cli.into()).unwrap();
    drop(eco);
    let (ts, eco) = tamper(ts, "checkpoint", |v| v["sum"] = serde_json::json!(500));
    let cp: ArchiveCheckpoint = ts
        .store
        .read(G, |r| r.archive_checkpoint(A))
        .unwrap()
        .unwrap();
    assert_eq!(cp.sum.get(), 500);
    let a = eco.validate_user(G, A).unwrap();
    assert!(!a.ok);
    assert!(
        a.problems.iter().any(|p| p.contains("archive checkpoint")),
        "{a:?}"
    );
    assert!(!eco.validate_guild(G).unwrap().ok);
    assert!(eco.validate_user(G, B).unwrap().ok);
    drop(eco);

    let (ts, eco) = tamper(ts, "checkpoint", |v| v["sum"] = serde_json::json!(70));
    assert!(eco.validate_user(G, A).unwrap().ok, "restored");
    drop(eco);
    let (_ts, eco) = tamper(ts, "account", |v| v["balance"] = serde_json::json!(1_000));
    let a = eco.validate_user(G, A).unwrap();
    assert!(!a.ok);
    assert_eq!(
        (a.stored_balance.unwrap().get(), a.expected_balance.get()),
        (1000, 75)
    );
}
