//! Store-level tests: opening, locking, schema versions, atomicity and guild scoping.

use crate::clock::ManualClock;
use crate::domain::{DomainError, GuildId, IdemKey, Money, TxKind, UserId};
use crate::error::Error;
use crate::store::accounts::NewEntry;
use crate::store::{migrations, Store, StoreError, StoreOptions, WriteCtx};
use crate::testing;

const G: GuildId = GuildId(7);

fn open(path: &std::path::Path) -> Result<Store, StoreError> {
    Store::open(
        path,
        ManualClock::new(testing::t0()),
        StoreOptions::default(),
    )
}

#[test]
fn a_second_open_of_the_same_file_is_refused_with_a_clear_message() {
    let ts = testing::store();
    let err = open(ts.store.path()).unwrap_err();
    assert!(matches!(err, StoreError::AlreadyOpen { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("already open in another Coffer process"),
        "{err}"
    );
}

#[test]
fn a_database_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coffer.redb");
    drop(open(&path).unwrap());
    migrations::set_schema_version(&path, migrations::CURRENT + 1).unwrap();
    let err = open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found, .. } if found == migrations::CURRENT + 1)
    );
    assert!(err.to_string().contains("newer Coffer"), "{err}");
}

#[test]
fn a_fresh_database_is_stamped_with_the_current_schema_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("coffer.redb");
    let store = open(&path).unwrap();
    store
        .write(G, |w| {
            w.append_entry(NewEntry::new(
                UserId(1),
                Money::new(5),
                TxKind::AdminAdd,
                "x",
            ))
        })
        .unwrap();
    drop(store);
    let store = open(&path).unwrap();
    assert_eq!(
        store
            .read(G, |r| r.account(UserId(1)))
            .unwrap()
            .unwrap()
            .balance
            .get(),
        5
    );
    let db = redb::Database::create(&path);
    assert!(db.is_err(), "the store still holds the file lock");
    drop(store);
    let db = redb::Database::create(&path).unwrap();
    let tx = db.begin_write().unwrap();
    assert_eq!(
        migrations::schema_version(&tx).unwrap(),
        migrations::CURRENT
    );
}

#[test]
fn an_error_inside_a_write_rolls_back_everything_it_wrote() {
    let ts = testing::store();
    let res: Result<(), Error> = ts.store.write(G, |w| {
        w.append_entry(NewEntry::new(
            UserId(1),
            Money::new(100),
            TxKind::AdminAdd,
            "a",
        ))?;
        w.append_entry(NewEntry::new(
            UserId(2),
            Money::new(100),
            TxKind::AdminAdd,
            "b",
        ))?;
        Err(DomainError::Refused("changed my mind".into()).into())
    });
    assert!(res.is_err());
    ts.store
        .read(G, |r| {
            assert!(r.account(UserId(1))?.is_none());
            assert!(r.account(UserId(2))?.is_none());
            assert!(r.transaction(1)?.is_none());
            Ok::<_, StoreError>(())
        })
        .unwrap();
    // The id counter rolled back too: the next entry is still number 1.
    let tx = ts
        .store
        .write(G, |w| {
            w.append_entry(NewEntry::new(
                UserId(1),
                Money::new(1),
                TxKind::AdminAdd,
                "c",
            ))
        })
        .unwrap();
    assert_eq!(tx.id, 1);
}

#[test]
fn append_entry_refuses_negative_balances_and_update_account_cannot_touch_money() {
    let ts = testing::store();
    let err = ts
        .store
        .write(G, |w| -> Result<_, Error> {
            Ok(w.append_entry(NewEntry::new(
                UserId(1),
                Money::new(-1),
                TxKind::AdminRemove,
                "x",
            ))?)
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Domain(DomainError::NegativeBalance {
                user: UserId(1),
                ..
            })
        ),
        "{err:?}"
    );
    let err = ts
        .store
        .write(G, |w| -> Result<_, Error> {
            Ok(w.update_account(UserId(1), |a| a.balance = Money::new(1_000_000))?)
        })
        .unwrap_err();
    assert!(
        matches!(err, Error::Store(StoreError::Invariant(_))),
        "{err:?}"
    );
    assert!(ts
        .store
        .read(G, |r| r.account(UserId(1)))
        .unwrap()
        .is_none());
}

#[test]
fn guild_ids_lists_every_guild_with_state() {
    let ts = testing::store();
    for g in [3u64, 1, 2, u64::MAX] {
        ts.store
            .write(GuildId(g), |w| w.ensure_account(UserId(1)))
            .unwrap();
    }
    assert_eq!(
        ts.store.guild_ids().unwrap(),
        vec![GuildId(1), GuildId(2), GuildId(3), GuildId(u64::MAX)]
    );
}

fn add(w: &mut WriteCtx<'_>, user: u64, amount: i64) -> Result<u64, Error> {
    Ok(w.append_entry(NewEntry::new(
        UserId(user),
        Money::new(amount),
        TxKind::AdminAdd,
        "x",
    ))?
    .id)
}

fn balance_of(ts: &testing::TestStore, user: u64) -> i64 {
    ts.store
        .read(G, |r| r.account(UserId(user)))
        .unwrap()
        .map_or(0, |a| a.balance.get())
}

#[test]
fn write_once_replays_the_same_request_and_refuses_a_different_one() {
    let ts = testing::store();
    let k = |fp: &str| IdemKey::new("K", fp).unwrap();
    let first: u64 = ts
        .store
        .write_once(G, Some(&k("user 8 +100")), "adjust", |w| add(w, 8, 100))
        .unwrap();
    // Same key, same input: the first answer, nothing applied again.
    let again: u64 = ts
        .store
        .write_once(G, Some(&k("user 8 +100")), "adjust", |w| add(w, 8, 100))
        .unwrap();
    assert_eq!(first, again);
    // Same key, another input: refused, nothing applied.
    let err = ts
        .store
        .write_once(G, Some(&k("user 9 +999")), "adjust", |w| add(w, 9, 999))
        .unwrap_err();
    assert!(
        matches!(err, Error::Domain(DomainError::IdempotencyKeyReused)),
        "{err:?}"
    );
    // Same key, another operation: refused too.
    let err = ts
        .store
        .write_once(G, Some(&k("user 8 +100")), "reverse", |w| add(w, 8, 100))
        .unwrap_err();
    assert_eq!(err.domain(), Some(&DomainError::IdempotencyKeyReused));
    assert_eq!((balance_of(&ts, 8), balance_of(&ts, 9)), (100, 0));
    // Keys are per guild.
    let other: u64 = ts
        .store
        .write_once(GuildId(G.0 + 1), Some(&k("user 9 +999")), "adjust", |w| {
            add(w, 9, 999)
        })
        .unwrap();
    assert_eq!(other, 1);
}

#[test]
fn a_refused_write_leaves_its_key_unused_and_old_records_are_pruned() {
    let ts = testing::store();
    let k = IdemKey::new("K", "fp").unwrap();
    assert!(ts
        .store
        .write_once(G, Some(&k), "adjust", |w| add(w, 8, -5))
        .is_err());
    assert!(ts
        .store
        .read(G, |r| r.idempotency_record("K"))
        .unwrap()
        .is_none());
    ts.store
        .write_once(G, Some(&k), "adjust", |w| add(w, 8, 5))
        .unwrap();
    assert!(ts
        .store
        .read(G, |r| r.idempotency_record("K"))
        .unwrap()
        .is_some());
    assert_eq!(ts.store.prune_idempotency(testing::t0()).unwrap(), 0);
    let later = testing::t0() + chrono::Duration::seconds(1);
    assert_eq!(ts.store.prune_idempotency(later).unwrap(), 1);
    assert!(ts
        .store
        .read(G, |r| r.idempotency_record("K"))
        .unwrap()
        .is_none());
}

#[test]
fn the_work_lists_come_from_indexes_kept_in_step_with_the_rows() {
    use crate::store::outbox::SyncKind;
    use crate::store::sync_work::{MessageFact, SyncOutcome, SyncVerdict};
    let ts = testing::store();
    let (grant, notice) = ts
        .store
        .write(G, |w| {
            w.sync_touch(SyncKind::Task, 1, None)?;
            w.sync_touch(SyncKind::Task, 2, None)?;
            let g = w.record_role_grant(UserId(1), crate::domain::RoleId(2), "t")?;
            w.record_role_grant(UserId(2), crate::domain::RoleId(2), "t")?;
            let n = w.record_notice(UserId(1), "t", "hello")?;
            Ok::<_, StoreError>((g.id, n.id))
        })
        .unwrap();
    assert_eq!(ts.store.sync_backlog().unwrap().len(), 2);
    ts.store
        .write(G, |w| {
            let synced = SyncOutcome {
                message: MessageFact::Unchanged,
                verdict: SyncVerdict::Synced,
            };
            w.sync_finish(SyncKind::Task, 1, 1, synced)?;
            w.finish_role_grant(grant, Ok(()))?;
            w.finish_notice(notice, Err("closed".into()))?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let backlog = ts.store.sync_backlog().unwrap();
    assert_eq!(
        backlog.iter().map(|(_, r)| r.object).collect::<Vec<_>>(),
        [2]
    );
    assert_eq!(ts.store.pending_role_grants().unwrap().len(), 1);
    assert!(ts.store.pending_notices().unwrap().is_empty());
    // A retried grant stays on the list; a touched synced record comes back.
    let pending = ts.store.pending_role_grants().unwrap()[0].1.id;
    ts.store
        .write(G, |w| {
            w.retry_role_grant(pending, testing::t0(), "503".into())?;
            w.sync_touch(SyncKind::Task, 1, None)?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    assert_eq!(ts.store.pending_role_grants().unwrap()[0].1.attempts, 1);
    assert_eq!(ts.store.sync_backlog().unwrap().len(), 2);
}

#[test]
fn the_v2_migration_fills_the_work_indexes_from_rows_stored_before_them() {
    use crate::store::tables;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coffer.redb");
    {
        let store = open(&path).unwrap();
        store
            .write(G, |w| {
                w.sync_touch(crate::store::outbox::SyncKind::Task, 1, None)?;
                w.record_role_grant(UserId(1), crate::domain::RoleId(2), "t")?;
                w.record_notice(UserId(1), "t", "hello")?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
    // As a v1 database was: the rows without the indexes.
    {
        let db = redb::Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        tx.delete_table(tables::SYNC_DUE).unwrap();
        tx.delete_table(tables::GRANTS_DUE).unwrap();
        tx.delete_table(tables::NOTICES_DUE).unwrap();
        tx.open_table(tables::META)
            .unwrap()
            .insert("schema_version", 1)
            .unwrap();
        tx.commit().unwrap();
    }
    let store = open(&path).unwrap();
    assert_eq!(store.sync_backlog().unwrap().len(), 1);
    assert_eq!(store.pending_role_grants().unwrap().len(), 1);
    assert_eq!(store.pending_notices().unwrap().len(), 1);
}

/// Issue 13: schema v3 stores accounts and ledger entries as binary records, chained per member
/// instead of a by-user index. A v2 database (JSON rows) is backed up, then rewritten; every
/// row reads back the same and each member's history is found through the chain.
#[test]
fn the_v3_migration_rewrites_json_rows_as_chained_binary_records_after_a_backup() {
    use crate::store::{codec, records, tables};
    use redb::ReadableTable;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coffer.redb");
    let (accounts, ledger) = {
        let store = open(&path).unwrap();
        store
            .write(G, |w| {
                for u in 1..=30 {
                    w.append_entry(
                        NewEntry::new(
                            UserId(u),
                            Money::new(100 + u as i64),
                            TxKind::AdminAdd,
                            "seed",
                        )
                        .meta("reason", "because"),
                    )?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        accounts_and_ledger(&store)
    };
    // As a v2 database was: JSON rows.
    {
        let db = redb::Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx.open_table(tables::ACCOUNTS).unwrap();
            for a in &accounts {
                t.insert((G.0, a.user.0), codec::encode(a).unwrap().as_slice())
                    .unwrap();
            }
            let mut t = tx.open_table(tables::LEDGER).unwrap();
            for e in &ledger {
                t.insert((G.0, e.id), codec::encode(e).unwrap().as_slice())
                    .unwrap();
            }
            tx.open_table(tables::META)
                .unwrap()
                .insert("schema_version", 2)
                .unwrap();
        }
        tx.commit().unwrap();
    }
    let backups = dir.path().join("backups");
    let store = Store::open(
        &path,
        ManualClock::new(testing::t0()),
        StoreOptions {
            backup_dir: Some(backups.clone()),
            ..StoreOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        std::fs::read_dir(&backups).unwrap().count(),
        1,
        "a backup first"
    );
    let (accounts2, ledger2) = accounts_and_ledger(&store);
    assert_eq!((accounts2, ledger2), (accounts, ledger.clone()));
    // The by-user index is gone; each member's chain names their entries.
    let mine = store
        .read(G, |r| {
            let mut ids = Vec::new();
            r.scan_user_ledger(UserId(5), false, |t| -> Result<bool, StoreError> {
                ids.push(t.id);
                Ok(true)
            })?;
            Ok::<_, StoreError>(ids)
        })
        .unwrap();
    let expected: Vec<u64> = ledger
        .iter()
        .filter(|t| t.user == UserId(5))
        .map(|t| t.id)
        .collect();
    assert_eq!(mine, expected);
    let tx = store.begin_read().unwrap();
    let t = tx.open_table(tables::LEDGER).unwrap();
    for row in t.iter().unwrap() {
        let v = row.unwrap().1;
        assert_ne!(v.value()[0], b'{', "rewritten as binary");
        records::decode_entry("ledger", v.value()).unwrap();
    }
}

/// Issue 10 point 12: the data directory was created 0755 and `coffer.redb` 0644, so any local
/// user could read the password and refresh-token hashes.
#[cfg(unix)]
#[test]
fn the_data_dir_is_created_0700_and_the_database_file_is_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let path = data.join("coffer.redb");
    drop(open(&path).unwrap());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&path), 0o600);
    // A file an older Coffer left world-readable is tightened on the next open.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(open(&path).unwrap());
    assert_eq!(mode(&path), 0o600);
}

/// Rows put in wholesale (an import) bypass the per-account bookkeeping: the leaderboard index
/// is dropped and rebuilt, so it shows the imported balances, not the ones before.
#[test]
fn an_import_of_rows_is_seen_by_the_leaderboard() {
    let ts = testing::store();
    let store = ts.store.clone();
    let fund = |g: GuildId, u: u64, n: i64| {
        store
            .write(g, |w| {
                w.append_entry(NewEntry::new(
                    UserId(u),
                    Money::new(n),
                    TxKind::AdminAdd,
                    "t",
                ))
            })
            .unwrap();
    };
    fund(GuildId(1), 5, 500);
    fund(G, 9, 10);
    // Both boards built.
    assert_eq!(store.leaderboard(G, 0, 10).unwrap().1, 1);
    assert_eq!(store.leaderboard(GuildId(1), 0, 10).unwrap().1, 1);
    let rows = store.read(GuildId(1), |r| r.dump()).unwrap();
    let other = GuildId(2);
    assert_eq!(store.leaderboard(other, 0, 10).unwrap().1, 0);
    store.write_guilds(&[other], |w| w.put_rows(&rows)).unwrap();
    let (top, total) = store.leaderboard(other, 0, 10).unwrap();
    assert_eq!(total, 1);
    assert_eq!(
        (top[0].fact.user, top[0].fact.balance),
        (UserId(5), Money::new(500))
    );
    // The others still answer (rebuilt from the store).
    assert_eq!(store.leaderboard(G, 0, 10).unwrap().1, 1);
}

/// Every account and live ledger entry of `G`.
fn accounts_and_ledger(
    store: &Store,
) -> (Vec<crate::domain::Account>, Vec<crate::domain::Transaction>) {
    store
        .read(G, |r| {
            let mut ledger = Vec::new();
            r.scan_ledger(false, |t| -> Result<bool, StoreError> {
                ledger.push(t);
                Ok(true)
            })?;
            Ok::<_, StoreError>((r.accounts()?, ledger))
        })
        .unwrap()
}

#[test]
fn ledger_ids_rise_without_the_counter_and_are_never_reused_after_an_archive() {
    let ts = testing::store();
    let s = &ts.store;
    // Several in one transaction and across transactions: 1, 2, 3, ... without gaps.
    let first = s
        .write(G, |w| {
            Ok::<_, Error>(vec![add(w, 1, 1)?, add(w, 2, 1)?, add(w, 1, 1)?])
        })
        .unwrap();
    assert_eq!(first, vec![1, 2, 3]);
    assert_eq!(s.write(G, |w| add(w, 3, 1)).unwrap(), 4);
    // The counter table is not written by appends any more (one B-tree fewer per commit).
    assert_eq!(s.read(G, |r| r.seq_value("ledger")).unwrap(), 0);
    // Another guild counts on its own.
    assert_eq!(s.write(GuildId(8), |w| add(w, 1, 1)).unwrap(), 1);
    // Everything archived: the live ledger is empty, and the next id still follows the last.
    let cutoff = s.now() + chrono::Duration::days(1);
    let report = s.write(G, |w| w.archive_ledger_before(cutoff)).unwrap();
    assert_eq!(report.archived, 4);
    assert_eq!(s.write(G, |w| add(w, 2, 1)).unwrap(), 5);
    // Some archived, some live: the live ledger's last id wins.
    assert_eq!(s.write(G, |w| add(w, 2, 1)).unwrap(), 6);
}

#[test]
fn a_ledger_counter_left_above_the_entries_is_still_a_floor() {
    // Databases written before ids were derived kept the last id in `seqs`; an import raises
    // it too. An id below it is never handed out.
    let ts = testing::store();
    ts.store
        .write_global(|tx| {
            let mut t = tx.open_table(crate::store::tables::SEQS)?;
            t.insert((G.0, "ledger"), 41)?;
            Ok(())
        })
        .unwrap();
    assert_eq!(ts.store.write(G, |w| add(w, 1, 1)).unwrap(), 42);
    assert_eq!(ts.store.write(G, |w| add(w, 1, 1)).unwrap(), 43);
}

#[test]
fn audit_ids_follow_the_last_entry_and_a_counter_left_above_it() {
    let ts = testing::store();
    let s = &ts.store;
    let actor = crate::domain::Actor::Cli;
    let audit = |w: &mut WriteCtx<'_>| w.audit(&actor, "test", "x", None, None).map(|e| e.id);
    assert_eq!(
        s.write(G, |w| Ok::<_, StoreError>((audit(w)?, audit(w)?)))
            .unwrap(),
        (1, 2)
    );
    assert_eq!(s.read(G, |r| r.seq_value("audit")).unwrap(), 0);
    s.write_global(|tx| {
        let mut t = tx.open_table(crate::store::tables::SEQS)?;
        t.insert((G.0, "audit"), 9)?;
        Ok(())
    })
    .unwrap();
    assert_eq!(s.write(G, audit).unwrap(), 10);
    assert_eq!(s.write(G, audit).unwrap(), 11);
}
