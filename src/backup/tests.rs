//! Backups: snapshots taken while writers run are consistent, damaged files are caught by
//! `verify` and refused by `restore`, restore keeps the database it replaces, retention.

use std::sync::Arc;

use super::*;
use crate::clock::ManualClock;
use crate::domain::{GuildId, Money, OpMeta, Source, TxKind, UserId};
use crate::store::accounts::NewEntry;
use crate::testing;

const G: GuildId = GuildId(4);

fn clock() -> SharedClock {
    ManualClock::new(testing::t0())
}

fn backups(ts: &testing::TestStore) -> Backups {
    Backups::new(
        ts.store.clone(),
        ts.dir.path().join("backups"),
        Retention::default(),
    )
}

fn pay(ts: &testing::TestStore, user: u64, amount: i64) {
    ts.store
        .write(G, |w| {
            w.append_entry(NewEntry::new(
                UserId(user),
                Money::new(amount),
                TxKind::AdminAdd,
                "test",
            ))
        })
        .unwrap();
}

#[test]
fn a_backup_is_listed_checksummed_and_verifies() {
    let ts = testing::store();
    pay(&ts, 1, 50);
    pay(&ts, 2, 70);
    let b = backups(&ts);
    let made = b.create(None).unwrap();
    assert!(made.name.starts_with("coffer-") && made.name.ends_with(".redb"));
    assert_eq!(b.list().unwrap(), vec![made.clone()]);
    let report = verify(&b.path_of(&made.name).unwrap(), clock()).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checksum_ok, Some(true));
    assert_eq!((report.servers, report.accounts, report.entries), (1, 2, 2));
    // A second one in the same second gets its own name.
    let again = b.create(None).unwrap();
    assert_ne!(again.name, made.name);
}

#[test]
fn a_snapshot_taken_while_money_moves_is_consistent() {
    let ts = testing::store();
    let b = backups(&ts);
    let economy = crate::economy::Economy::new(ts.store.clone());
    for u in 1..=20 {
        pay(&ts, u, 1_000);
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (economy, stop) = (economy.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let (from, to) = (n % 20 + 1, (n * 7 + 3) % 20 + 1);
                if from != to {
                    let meta = OpMeta::user(UserId(from), Source::DiscordCommand);
                    let _ = economy.transfer(G, UserId(from), UserId(to), Money::new(1), &meta);
                }
                n += 1;
            }
            n
        })
    };
    let mut files = Vec::new();
    for _ in 0..5 {
        files.push(b.create(None).unwrap());
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(writer.join().unwrap() > 0);
    for f in files {
        let report = verify(&b.path_of(&f.name).unwrap(), clock()).unwrap();
        assert!(report.ok, "{}: {report:?}", f.name);
    }
}

#[test]
fn a_truncated_or_damaged_backup_is_caught_and_restore_refuses_it() {
    let ts = testing::store();
    pay(&ts, 1, 50);
    let b = backups(&ts);
    let made = b.create(None).unwrap();
    let path = b.path_of(&made.name).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    // Cut short, with its checksum beside it.
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let report = verify(&path, clock()).unwrap();
    assert!(!report.ok);
    assert_eq!(report.checksum_ok, Some(false));
    assert!(report.problems[0].contains("cut short"), "{report:?}");
    // The same without a checksum: it does not open as a database.
    std::fs::remove_file(checksum_path(&path)).unwrap();
    let report = verify(&path, clock()).unwrap();
    assert!(!report.ok);
    assert!(
        report.problems[0].contains("cannot be opened"),
        "{report:?}"
    );
    // Not a database at all.
    let junk = ts.dir.path().join("junk.redb");
    std::fs::write(&junk, b"hello").unwrap();
    assert!(!verify(&junk, clock()).unwrap().ok);
    let live = ts.dir.path().join("other").join("coffer.redb");
    let err = restore(&junk, &live, &ts.dir.path().join("b2"), clock()).unwrap_err();
    assert!(err.user_message().contains("not a sound backup"), "{err}");
    assert!(!live.exists(), "nothing was changed");
}

#[test]
fn restore_replaces_the_database_and_keeps_the_one_it_replaced() {
    let ts = testing::store();
    pay(&ts, 1, 50);
    let b = backups(&ts);
    let made = b.create(None).unwrap();
    let snapshot = b.path_of(&made.name).unwrap();
    let live = ts.store.path().to_owned();
    // Refused while Coffer has the database open.
    let err = restore(&snapshot, &live, b.dir(), clock()).unwrap_err();
    assert!(
        err.user_message().contains("in use by a running Coffer"),
        "{err}"
    );
    pay(&ts, 1, 25);
    let (dir, store_path) = (ts.dir, live);
    drop(b);
    drop(ts.store);
    let report = restore(&snapshot, &store_path, &dir.path().join("backups"), clock()).unwrap();
    let previous = report.previous.expect("the replaced database was kept");
    assert!(
        previous.name.contains("before-restore"),
        "{}",
        previous.name
    );
    let store = Store::open(&store_path, clock(), StoreOptions::default()).unwrap();
    let balance = store.read(G, |r| r.account(UserId(1))).unwrap().unwrap();
    assert_eq!(balance.balance.get(), 50, "the snapshot's balance, not 75");
    drop(store);
    let kept = dir.path().join("backups").join(&previous.name);
    let old = Store::open(&kept, clock(), StoreOptions::default()).unwrap();
    let balance = old.read(G, |r| r.account(UserId(1))).unwrap().unwrap();
    assert_eq!(balance.balance.get(), 75);
}

#[test]
fn retention_keeps_the_newest_and_one_a_day() {
    let now = testing::t0();
    let file = |hours_ago: i64| BackupFile {
        name: file_name(now - chrono::Duration::hours(hours_ago), None),
        bytes: 1,
        created_at: now - chrono::Duration::hours(hours_ago),
        checksummed: true,
    };
    // Every 6 hours for 60 days, newest first.
    let all: Vec<BackupFile> = (0..240).map(|i| file(i * 6)).collect();
    let keep = kept(
        &all,
        Retention {
            keep_last: 3,
            keep_daily_days: 10,
        },
        now,
    );
    for f in &all[..3] {
        assert!(keep.contains(&f.name));
    }
    assert!(keep.len() <= 3 + 11, "{}", keep.len());
    assert!(keep.len() >= 10);
    assert!(!keep.contains(&all[239].name), "two months old goes");
}

#[test]
fn prune_deletes_what_retention_does_not_keep_and_the_schedule_waits_its_turn() {
    let ts = testing::store();
    let b = Backups::new(
        ts.store.clone(),
        ts.dir.path().join("backups"),
        Retention {
            keep_last: 2,
            keep_daily_days: 0,
        },
    );
    let every = chrono::Duration::hours(6);
    assert!(b.scheduled(every).unwrap().is_some());
    assert!(b.scheduled(every).unwrap().is_none(), "not due yet");
    for _ in 0..3 {
        ts.clock.advance(chrono::Duration::hours(7));
        assert!(b.scheduled(every).unwrap().is_some());
    }
    let left = b.list().unwrap();
    assert_eq!(left.len(), 2);
    let sums = std::fs::read_dir(b.dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".sha256")
        })
        .count();
    assert_eq!(sums, 2, "checksums go with their files");
}

#[test]
fn only_backup_names_in_the_folder_are_served() {
    let ts = testing::store();
    let b = backups(&ts);
    b.create(None).unwrap();
    for bad in [
        "../coffer.redb",
        "/etc/passwd",
        ".hidden.redb",
        "coffer.toml",
    ] {
        assert!(b.path_of(bad).is_err(), "{bad}");
    }
    assert!(matches!(
        b.path_of("coffer-20000101T000000Z.redb"),
        Err(Error::Domain(DomainError::NotFound(_)))
    ));
}

#[test]
fn every_table_is_in_the_list_a_backup_copies() {
    let src = include_str!("../store/tables.rs");
    let defined = src.matches(": TableDefinition<").count();
    assert_eq!(defined, crate::store::tables::COUNT);
}

#[test]
fn a_schema_migration_is_preceded_by_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coffer.redb");
    let backups_dir = dir.path().join("backups");
    let opts = || StoreOptions {
        backup_dir: Some(backups_dir.clone()),
        ..StoreOptions::default()
    };
    let store = Store::open(&path, clock(), opts()).unwrap();
    drop(store);
    assert!(
        list_dir(&backups_dir).unwrap().is_empty(),
        "a fresh database needs none"
    );
    crate::store::migrations::set_schema_version(&path, 1).unwrap();
    let store = Store::open(&path, clock(), opts()).unwrap();
    drop(store);
    let made = list_dir(&backups_dir).unwrap();
    assert_eq!(made.len(), 1);
    assert!(
        made[0].name.contains("before-schema-v2"),
        "{}",
        made[0].name
    );
}

#[test]
fn every_attempt_is_recorded_and_a_failure_stays_on_record_until_one_works() {
    let ts = testing::store();
    pay(&ts, 1, 10);
    let dir = ts.dir.path().join("backups");
    // A file where the folder should be: the snapshot cannot be written.
    std::fs::write(&dir, b"not a folder").unwrap();
    let b = backups(&ts);
    assert!(b.scheduled(chrono::Duration::hours(6)).is_err());
    let failed = b.failing().unwrap().expect("the failure is on record");
    assert_eq!(failed.trigger, Trigger::Scheduled);
    assert!(!failed.ok && failed.name.is_none());
    assert!(failed.error.as_deref().is_some_and(|e| !e.is_empty()));
    assert_eq!(failed.at, ts.store.now());

    // Still on record for a new process over the same database.
    let again = Backups::new(ts.store.clone(), dir.clone(), Retention::default());
    assert_eq!(again.failing().unwrap(), Some(failed.clone()));

    std::fs::remove_file(&dir).unwrap();
    let made = b.create(None).unwrap();
    assert_eq!(b.failing().unwrap(), None);
    let attempts = b.attempts().unwrap();
    assert_eq!(attempts.len(), 2);
    assert!(attempts[0].ok && attempts[0].trigger == Trigger::Manual);
    assert_eq!(attempts[0].name.as_deref(), Some(made.name.as_str()));
    assert_eq!(attempts[1], failed);

    // Bounded: only the newest are kept.
    for _ in 0..KEPT_ATTEMPTS + 5 {
        let _ = b.record(BackupAttempt {
            at: ts.store.now(),
            trigger: Trigger::Manual,
            ok: true,
            name: None,
            bytes: None,
            error: None,
        });
    }
    assert_eq!(b.attempts().unwrap().len(), KEPT_ATTEMPTS);
}

/// Backups started together in the same second (the one at start-up and one from the
/// dashboard) both succeed, under two names, and both verify. They used to take the same name
/// and the same `.partial` file, and one failed with "No such file or directory".
#[test]
fn backups_started_at_the_same_moment_both_succeed_under_two_names() {
    let ts = testing::store();
    ts.store
        .write(G, |w| {
            for u in 0..5_000 {
                let entry = NewEntry::new(UserId(u % 50 + 1), Money::new(10), TxKind::AdminAdd, "");
                w.append_entry(entry)?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let b = backups(&ts);
    let start = std::sync::Barrier::new(4);
    let made: Vec<Result<BackupFile, Error>> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    b.create(None)
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut names: Vec<String> = made
        .into_iter()
        .map(|m| m.expect("every backup succeeds").name)
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 4, "{names:?}");
    for name in &names {
        let report = verify(&b.path_of(name).unwrap(), clock()).unwrap();
        assert!(report.ok, "{name}: {report:?}");
    }
}
