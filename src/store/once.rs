//! At-most-once for service calls that take no idempotency key of their own (dashboard writes
//! such as announcements or config): `Store::once` runs the call with an ambient key, the first
//! write transaction inside it records the key atomically with its changes, and a repeat of the
//! same key replays the stored answer instead of applying anything again.

use std::cell::RefCell;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{IdempotencyRecord, Store, StoreError, WriteCtx};
use crate::domain::{DomainError, GuildId};
use crate::error::Error;

struct Ambient {
    guild: GuildId,
    key: String,
    op: String,
}

thread_local! {
    // Set only while `Store::once` runs its closure on this (blocking) thread.
    static AMBIENT: RefCell<Option<Ambient>> = const { RefCell::new(None) };
}

/// Clears the ambient key even if the service call panics.
struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        AMBIENT.with(|a| a.borrow_mut().take());
    }
}

/// Called by `Store::write` at the start of each transaction: if an ambient key for this guild
/// is waiting, it is consumed and recorded in this transaction (so it commits or rolls back with
/// the change). A key already present means a concurrent repeat got there first.
pub(super) fn claim_ambient(w: &WriteCtx<'_>) -> Result<(), StoreError> {
    let Some(amb) = AMBIENT.with(|a| {
        let mut slot = a.borrow_mut();
        match slot.as_ref() {
            Some(x) if x.guild == w.guild() => slot.take(),
            _ => None,
        }
    }) else {
        return Ok(());
    };
    if w.idempotency_record(&amb.key)?.is_some() {
        return Err(StoreError::IdempotencyReplay);
    }
    w.put_idempotency_record(
        &amb.key,
        &IdempotencyRecord {
            op: amb.op,
            result: serde_json::Value::Null,
            at: w.now,
        },
    )
}

fn replay<T: DeserializeOwned>(rec: IdempotencyRecord, op: &str) -> Result<T, Error> {
    if rec.op != op {
        return Err(DomainError::IdempotencyConflict.into());
    }
    if rec.result.is_null() {
        return Err(DomainError::Conflict(
            "This request was already applied (its answer is not available); reload to see the result."
                .into(),
        )
        .into());
    }
    serde_json::from_value(rec.result).map_err(|e| {
        Error::Store(StoreError::Corrupt {
            table: "idempotency",
            detail: e.to_string(),
        })
    })
}

impl Store {
    /// Runs `f` at most once per `(guild, key)`; without a key it just runs `f`.
    pub fn once<T: Serialize + DeserializeOwned>(
        &self,
        guild: GuildId,
        key: Option<&str>,
        op: &str,
        f: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        let Some(key) = key else {
            return f();
        };
        if key.is_empty() || key.len() > 200 {
            return Err(
                DomainError::invalid("idempotency_key", "must be 1 to 200 characters").into(),
            );
        }
        if let Some(rec) = self.read(guild, |r| r.idempotency_record(key))? {
            return replay(rec, op);
        }
        let out = {
            AMBIENT.with(|a| {
                *a.borrow_mut() = Some(Ambient {
                    guild,
                    key: key.to_owned(),
                    op: op.to_owned(),
                })
            });
            let _guard = Guard;
            f()
        };
        let out = match out {
            Err(Error::Store(StoreError::IdempotencyReplay)) => {
                let rec = self.read(guild, |r| r.idempotency_record(key))?;
                return match rec {
                    Some(rec) => replay(rec, op),
                    None => Err(DomainError::Conflict("Please retry the request.".into()).into()),
                };
            }
            other => other?,
        };
        let result = serde_json::to_value(&out).map_err(|e| StoreError::Corrupt {
            table: "idempotency",
            detail: e.to_string(),
        })?;
        self.write(guild, |w| -> Result<(), StoreError> {
            // Only if the call really recorded the key (a call that wrote nothing did not).
            if let Some(mut rec) = w.idempotency_record(key)? {
                if rec.result.is_null() && rec.op == op {
                    rec.result = result;
                    w.put_idempotency_record(key, &rec)?;
                }
            }
            Ok(())
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::{GuildId, Money, TxKind, UserId};
    use crate::error::Error;
    use crate::store::accounts::NewEntry;
    use crate::testing;

    const G: GuildId = GuildId(9);

    #[test]
    fn a_repeated_key_replays_the_first_answer_and_applies_once() {
        let ts = testing::store();
        let add = || {
            ts.store.write(G, |w| {
                w.append_entry(NewEntry::new(
                    UserId(1),
                    Money::new(5),
                    TxKind::AdminAdd,
                    "x",
                ))
                .map(|t| t.id)
            })
        };
        let first: u64 = ts.store.once(G, Some("k1"), "op", add).unwrap();
        let again: u64 = ts.store.once(G, Some("k1"), "op", add).unwrap();
        assert_eq!(first, again);
        let bal = ts
            .store
            .read(G, |r| r.account(UserId(1)))
            .unwrap()
            .unwrap()
            .balance;
        assert_eq!(bal.get(), 5);
        let err = ts
            .store
            .once::<u64>(G, Some("k1"), "other", add)
            .unwrap_err();
        assert!(err.to_string().contains("different operation"), "{err}");
        // Keys are per guild, and no key means no protection.
        let other: u64 = ts
            .store
            .once(GuildId(10), Some("k1"), "op", || {
                ts.store.write(GuildId(10), |w| {
                    w.append_entry(NewEntry::new(
                        UserId(1),
                        Money::new(5),
                        TxKind::AdminAdd,
                        "x",
                    ))
                    .map(|t| t.id)
                })
            })
            .unwrap();
        assert_eq!(other, 1);
        ts.store.once(G, None, "op", add).unwrap();
        let bal = ts
            .store
            .read(G, |r| r.account(UserId(1)))
            .unwrap()
            .unwrap()
            .balance;
        assert_eq!(bal.get(), 10);
    }

    #[test]
    fn a_failed_call_leaves_the_key_unused() {
        let ts = testing::store();
        let fail = || -> Result<u64, Error> {
            ts.store.write(G, |w| {
                w.append_entry(NewEntry::new(
                    UserId(1),
                    Money::new(-5),
                    TxKind::AdminRemove,
                    "x",
                ))
                .map(|t| t.id)
            })
        };
        assert!(ts.store.once(G, Some("k"), "op", fail).is_err());
        assert!(ts
            .store
            .read(G, |r| r.idempotency_record("k"))
            .unwrap()
            .is_none());
        let ok: u64 = ts
            .store
            .once(G, Some("k"), "op", || {
                ts.store.write(G, |w| {
                    w.append_entry(NewEntry::new(
                        UserId(1),
                        Money::new(5),
                        TxKind::AdminAdd,
                        "x",
                    ))
                    .map(|t| t.id)
                })
            })
            .unwrap();
        assert_eq!(ok, 1);
    }
}
