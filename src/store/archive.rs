//! The ledger archive: old entries move from `ledger` to `ledger_archive` in one write
//! transaction, together with per-user checkpoints (count, sum, last `balance_after`, last id).
//! Balances never change; integrity validation starts each user's chain from the checkpoint,
//! and the archive stays readable (export with archived rows, lookup by id).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{decode, encode, records, tables, StoreError, Tables, View, WriteCtx};
use crate::domain::{Money, Transaction, UserId};
use crate::events::EventKind;

/// What one user's archived entries add up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveCheckpoint {
    pub user: UserId,
    /// Archived entries of this user.
    pub entries: u64,
    /// The sum of their amounts.
    pub sum: Money,
    /// `balance_after` of the newest archived entry: the first live entry must start here.
    pub last_balance_after: Money,
    /// Id of the newest archived entry.
    pub last_id: u64,
    pub updated_at: DateTime<Utc>,
}

/// What an archive run moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveReport {
    pub cutoff: DateTime<Utc>,
    pub archived: u64,
    /// Users with entries moved.
    pub users: u64,
    /// Newest archived entry id, if any.
    pub last_id: Option<u64>,
}

impl<T: Tables> View<'_, T> {
    pub fn archive_checkpoint(
        &self,
        user: UserId,
    ) -> Result<Option<ArchiveCheckpoint>, StoreError> {
        let t = self.tx.open(tables::ARCHIVE_CHECKPOINTS)?;
        let v = t.get((self.g(), user.0))?;
        v.map(|v| decode("archive_checkpoints", v.value()))
            .transpose()
    }

    /// Every checkpoint of the guild, by user.
    pub fn archive_checkpoints(&self) -> Result<Vec<ArchiveCheckpoint>, StoreError> {
        let t = self.tx.open(tables::ARCHIVE_CHECKPOINTS)?;
        let mut out = Vec::new();
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))? {
            out.push(decode("archive_checkpoints", row?.1.value())?);
        }
        Ok(out)
    }

    pub fn archived_transaction(&self, id: u64) -> Result<Option<Transaction>, StoreError> {
        let t = self.tx.open(tables::LEDGER_ARCHIVE)?;
        let v = t.get((self.g(), id))?;
        v.map(|v| records::decode_entry("ledger_archive", v.value()))
            .transpose()
    }

    /// Visits the guild's archived entries in id order (or newest first) until `visit`
    /// returns false.
    pub fn scan_archive<E: From<StoreError>>(
        &self,
        newest_first: bool,
        mut visit: impl FnMut(Transaction) -> Result<bool, E>,
    ) -> Result<(), E> {
        let t = self.tx.open(tables::LEDGER_ARCHIVE)?;
        let range = t
            .range((self.g(), 0)..=(self.g(), u64::MAX))
            .map_err(StoreError::from)?;
        let mut step = |row: Result<_, redb::StorageError>| -> Result<bool, E> {
            let (_, v): (_, redb::AccessGuard<'_, &[u8]>) = row.map_err(StoreError::from)?;
            visit(records::decode_entry("ledger_archive", v.value())?)
        };
        if newest_first {
            for row in range.rev() {
                if !step(row)? {
                    break;
                }
            }
        } else {
            for row in range {
                if !step(row)? {
                    break;
                }
            }
        }
        Ok(())
    }
}

impl WriteCtx<'_> {
    /// Moves the oldest entries (the longest id-ordered run of entries written before `cutoff`)
    /// to the archive and folds them into each user's checkpoint. Taking a prefix in id order
    /// keeps every user's archived entries a prefix of their chain, so validation can resume
    /// from the checkpoint. Accounts are not touched.
    pub fn archive_ledger_before(
        &mut self,
        cutoff: DateTime<Utc>,
    ) -> Result<ArchiveReport, StoreError> {
        // Each with its link to the member's previous entry, kept in the archive.
        let mut moved: Vec<(Transaction, u64)> = Vec::new();
        {
            let ledger = self.tx.open_table(tables::LEDGER)?;
            for row in ledger.range((self.g(), 0)..=(self.g(), u64::MAX))? {
                let row = row?;
                let tx = records::decode_entry("ledger", row.1.value())?;
                if tx.at >= cutoff {
                    break;
                }
                moved.push((tx, records::entry_prev(row.1.value())));
            }
        }
        {
            let mut ledger = self.tx.open_table(tables::LEDGER)?;
            for (tx, _) in &moved {
                ledger.remove((self.g(), tx.id))?;
            }
        }
        let users = self.put_archived(&moved)?;
        let report = ArchiveReport {
            cutoff,
            archived: moved.len() as u64,
            users,
            last_id: moved.last().map(|(t, _)| t.id),
        };
        if report.archived > 0 {
            self.emit(
                EventKind::TransactionsArchived,
                vec![report.archived.to_string()],
            );
        }
        Ok(report)
    }

    /// Adds `entries` (id order, each after every entry already archived, each with the id of
    /// its member's previous entry or 0) to the archive and folds them into each user's
    /// checkpoint; returns how many users' checkpoints changed. An archive run moves them here
    /// from the ledger; an import writes them as exported.
    pub(crate) fn put_archived(&self, entries: &[(Transaction, u64)]) -> Result<u64, StoreError> {
        let mut checkpoints: BTreeMap<UserId, ArchiveCheckpoint> = BTreeMap::new();
        {
            let mut archive = self.tx.open_table(tables::LEDGER_ARCHIVE)?;
            for (tx, prev) in entries {
                archive.insert(
                    (self.g(), tx.id),
                    records::encode_entry(tx, *prev)?.as_slice(),
                )?;
                let cp = match checkpoints.entry(tx.user) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(self.view.archive_checkpoint(tx.user)?.unwrap_or(
                            ArchiveCheckpoint {
                                user: tx.user,
                                entries: 0,
                                sum: Money::ZERO,
                                last_balance_after: Money::ZERO,
                                last_id: 0,
                                updated_at: self.now,
                            },
                        ))
                    }
                };
                cp.entries += 1;
                cp.sum = cp.sum.checked_add(tx.amount).ok_or_else(|| {
                    StoreError::Invariant(format!("archive sum overflows at entry {}", tx.id))
                })?;
                cp.last_balance_after = tx.balance_after;
                cp.last_id = tx.id;
                cp.updated_at = self.now;
            }
        }
        let mut t = self.tx.open_table(tables::ARCHIVE_CHECKPOINTS)?;
        for cp in checkpoints.values() {
            t.insert((self.g(), cp.user.0), encode(cp)?.as_slice())?;
        }
        Ok(checkpoints.len() as u64)
    }
}
