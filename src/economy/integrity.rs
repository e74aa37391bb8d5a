//! Integrity validation: recompute every balance from the ledger and compare with what the
//! accounts store. Reports expected vs stored and every broken entry; changes nothing. A user
//! with archived entries starts from their archive checkpoint (count, sum, last balance).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Economy;
use crate::domain::{GuildId, Money, Transaction, UserId};
use crate::error::Error;
use crate::store::archive::ArchiveCheckpoint;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserIntegrity {
    pub user: UserId,
    /// The balance the account record holds (`None`: entries exist but no account).
    pub stored_balance: Option<Money>,
    /// The sum of the user's ledger amounts.
    pub expected_balance: Money,
    /// Entries counted, archived ones included.
    pub entries: u64,
    /// Of which archived (summed up by the checkpoint).
    #[serde(default)]
    pub archived_entries: u64,
    pub ok: bool,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuildIntegrity {
    pub guild: GuildId,
    pub accounts: u64,
    /// Live ledger entries scanned.
    pub entries: u64,
    /// Entries in the archive, counted through the checkpoints.
    #[serde(default)]
    pub archived_entries: u64,
    pub total_currency: i64,
    pub ok: bool,
    /// Only the users with problems.
    pub mismatches: Vec<UserIntegrity>,
}

/// Walks one user's entries in order and checks each and the chain between them.
#[derive(Default)]
struct Chain {
    sum: i64,
    entries: u64,
    archived: u64,
    /// Live entries must have ids above this (the newest archived entry).
    archived_up_to: u64,
    last_after: Option<Money>,
    problems: Vec<String>,
}

impl Chain {
    /// A chain that resumes after the user's archived entries. A checkpoint must be
    /// self-consistent: its entries start from 0, so their sum is the last balance they left.
    fn resume(cp: Option<&ArchiveCheckpoint>) -> Chain {
        let Some(cp) = cp else {
            return Chain::default();
        };
        let mut c = Chain {
            sum: cp.sum.get(),
            entries: cp.entries,
            archived: cp.entries,
            archived_up_to: cp.last_id,
            last_after: Some(cp.last_balance_after),
            problems: Vec::new(),
        };
        if cp.sum != cp.last_balance_after {
            c.problems.push(format!(
                "archive checkpoint: archived entries sum to {} but the last left a balance of {}",
                cp.sum, cp.last_balance_after
            ));
        }
        c
    }

    fn push(&mut self, tx: &Transaction) {
        self.entries += 1;
        if tx.id <= self.archived_up_to {
            self.problems.push(format!(
                "entry {} is in the live ledger but its id is not after the archived entries (up to {})",
                tx.id, self.archived_up_to
            ));
        }
        match self.sum.checked_add(tx.amount.get()) {
            Some(s) => self.sum = s,
            None => self
                .problems
                .push(format!("entry {}: running sum overflows", tx.id)),
        }
        if !tx.is_consistent() {
            self.problems.push(format!(
                "entry {}: balance_before {} + amount {} != balance_after {}",
                tx.id, tx.balance_before, tx.amount, tx.balance_after
            ));
        }
        let expected_before = self.last_after.unwrap_or(Money::ZERO);
        if tx.balance_before != expected_before {
            self.problems.push(format!(
                "entry {}: balance_before is {} but the previous entry left {}",
                tx.id, tx.balance_before, expected_before
            ));
        }
        self.last_after = Some(tx.balance_after);
    }

    fn finish(mut self, user: UserId, stored: Option<Money>) -> UserIntegrity {
        let expected = Money::new(self.sum);
        match stored {
            Some(s) if s != expected => self.problems.push(format!(
                "stored balance {s} but the ledger sums to {expected}"
            )),
            None if self.entries > 0 => self
                .problems
                .push(format!("{} ledger entries but no account", self.entries)),
            _ => {}
        }
        UserIntegrity {
            user,
            stored_balance: stored,
            expected_balance: expected,
            entries: self.entries,
            archived_entries: self.archived,
            ok: self.problems.is_empty(),
            problems: self.problems,
        }
    }
}

impl Economy {
    /// Recomputes one member's balance from their ledger entries.
    pub fn validate_user(&self, guild: GuildId, user: UserId) -> Result<UserIntegrity, Error> {
        self.store.read(guild, |r| {
            let mut chain = Chain::resume(r.archive_checkpoint(user)?.as_ref());
            r.scan_user_ledger(user, false, |tx| -> Result<bool, Error> {
                if tx.user != user {
                    chain
                        .problems
                        .push(format!("entry {} is indexed under the wrong user", tx.id));
                }
                chain.push(&tx);
                Ok(true)
            })?;
            let stored = r.account(user)?.map(|a| a.balance);
            Ok(chain.finish(user, stored))
        })
    }

    /// Recomputes every balance in the guild in one pass over the ledger.
    pub fn validate_guild(&self, guild: GuildId) -> Result<GuildIntegrity, Error> {
        self.store.read(guild, |r| {
            let mut chains: BTreeMap<UserId, Chain> = BTreeMap::new();
            let mut archived_entries = 0u64;
            for cp in r.archive_checkpoints()? {
                archived_entries += cp.entries;
                chains.insert(cp.user, Chain::resume(Some(&cp)));
            }
            let mut entries = 0u64;
            let mut misplaced = Vec::new();
            r.scan_ledger(false, |tx| -> Result<bool, Error> {
                entries += 1;
                if tx.guild != guild {
                    misplaced.push(format!("entry {} belongs to guild {}", tx.id, tx.guild));
                }
                chains.entry(tx.user).or_default().push(&tx);
                Ok(true)
            })?;
            let accounts = r.accounts()?;
            let mut total = 0i64;
            let mut mismatches = Vec::new();
            for a in &accounts {
                total = total.saturating_add(a.balance.get());
                let chain = chains.remove(&a.user).unwrap_or_default();
                let report = chain.finish(a.user, Some(a.balance));
                if !report.ok {
                    mismatches.push(report);
                }
            }
            for (user, chain) in chains {
                mismatches.push(chain.finish(user, None));
            }
            if !misplaced.is_empty() {
                mismatches.push(UserIntegrity {
                    user: UserId(0),
                    stored_balance: None,
                    expected_balance: Money::ZERO,
                    entries: 0,
                    archived_entries: 0,
                    ok: false,
                    problems: misplaced,
                });
            }
            Ok(GuildIntegrity {
                guild,
                accounts: accounts.len() as u64,
                entries,
                archived_entries,
                total_currency: total,
                ok: mismatches.is_empty(),
                mismatches,
            })
        })
    }
}
