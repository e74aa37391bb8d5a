//! Store-level tests: opening, locking, schema versions, atomicity and guild scoping.

use crate::clock::ManualClock;
use crate::domain::{DomainError, GuildId, Money, TxKind, UserId};
use crate::error::Error;
use crate::store::accounts::NewEntry;
use crate::store::{migrations, Store, StoreError, StoreOptions};
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
        .write(G, |w| {
            w.append_entry(NewEntry::new(
                UserId(1),
                Money::new(-1),
                TxKind::AdminRemove,
                "x",
            ))
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
        .write(G, |w| {
            w.update_account(UserId(1), |a| a.balance = Money::new(1_000_000))
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

#[test]
fn idempotency_keys_are_bounded_in_length() {
    let ts = testing::store();
    let long = "k".repeat(201);
    let err = ts
        .store
        .write_idempotent(G, Some(&long), "op", |_| Ok(1u8))
        .unwrap_err();
    assert!(err.to_string().contains("idempotency_key"), "{err}");
}
