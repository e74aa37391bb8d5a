//! Accounts and the ledger. `append_entry` is the only way a balance changes: it writes the
//! entry and the account in the same transaction, so `balance == sum(ledger)` holds by
//! construction. A member's entries are chained newest to oldest (`records.rs`): the account
//! names the latest, each entry the one before.

use std::collections::BTreeMap;

use redb::ReadableTable;

use super::{records, tables, StoreError, Tables, View, WriteCtx};
use crate::domain::{Account, Actor, DomainError, Money, Source, Transaction, TxKind, UserId};
use crate::events::EventKind;

/// The `seqs` counter that is the floor for ledger ids (see `next_ledger_id`).
pub(super) const LEDGER_COUNTER: &str = "ledger";

/// A balance change to append. `group` defaults to the entry's own id.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub user: UserId,
    pub amount: Money,
    pub kind: TxKind,
    pub description: String,
    pub actor: Actor,
    pub source: Source,
    pub group: Option<u64>,
    pub reverses: Option<u64>,
    pub metadata: BTreeMap<String, serde_json::Value>,
}

impl NewEntry {
    pub fn new(user: UserId, amount: Money, kind: TxKind, description: impl Into<String>) -> Self {
        NewEntry {
            user,
            amount,
            kind,
            description: description.into(),
            actor: Actor::System,
            source: Source::System,
            group: None,
            reverses: None,
            metadata: BTreeMap::new(),
        }
    }

    pub fn by(mut self, actor: Actor, source: Source) -> Self {
        self.actor = actor;
        self.source = source;
        self
    }

    pub fn in_group(mut self, group: Option<u64>) -> Self {
        self.group = group;
        self
    }

    pub fn meta(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.metadata.insert(key.to_owned(), value.into());
        self
    }
}

impl<T: Tables> View<'_, T> {
    pub fn account(&self, user: UserId) -> Result<Option<Account>, StoreError> {
        Ok(self.account_row(user)?.map(|(a, _)| a))
    }

    /// The account and the id of its latest entry (0: none).
    fn account_row(&self, user: UserId) -> Result<Option<(Account, u64)>, StoreError> {
        let t = self.tx.open(tables::ACCOUNTS)?;
        let v = t.get((self.g(), user.0))?;
        v.map(|v| {
            let b = v.value();
            Ok((
                records::decode_account("accounts", b)?,
                records::account_last_entry(b),
            ))
        })
        .transpose()
    }

    /// Every account in the guild, in user id order.
    pub fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let t = self.tx.open(tables::ACCOUNTS)?;
        let mut out = Vec::new();
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))? {
            out.push(records::decode_account("accounts", row?.1.value())?);
        }
        Ok(out)
    }

    pub fn transaction(&self, id: u64) -> Result<Option<Transaction>, StoreError> {
        let t = self.tx.open(tables::LEDGER)?;
        let v = t.get((self.g(), id))?;
        v.map(|v| records::decode_entry("ledger", v.value()))
            .transpose()
    }

    /// Visits the guild's ledger in id order (or newest first) until `visit` returns false.
    pub fn scan_ledger<E: From<StoreError>>(
        &self,
        newest_first: bool,
        mut visit: impl FnMut(Transaction) -> Result<bool, E>,
    ) -> Result<(), E> {
        let t = self.tx.open(tables::LEDGER)?;
        let range = t
            .range((self.g(), 0)..=(self.g(), u64::MAX))
            .map_err(StoreError::from)?;
        let mut entries = range.map(|row| {
            row.map_err(StoreError::from)
                .and_then(|(_, v)| records::decode_entry("ledger", v.value()))
        });
        let mut run =
            |it: &mut dyn Iterator<Item = Result<Transaction, StoreError>>| -> Result<(), E> {
                for tx in it {
                    if !visit(tx?)? {
                        break;
                    }
                }
                Ok(())
            };
        if newest_first {
            run(&mut entries.rev())
        } else {
            run(&mut entries)
        }
    }

    /// Visits one user's live entries in id order (or newest first) until `visit` returns
    /// false, following their chain from the account (it ends at the first archived entry).
    pub fn scan_user_ledger<E: From<StoreError>>(
        &self,
        user: UserId,
        newest_first: bool,
        mut visit: impl FnMut(Transaction) -> Result<bool, E>,
    ) -> Result<(), E> {
        let Some((_, last)) = self.account_row(user)? else {
            return Ok(());
        };
        let ledger = self.tx.open(tables::LEDGER)?;
        let g = self.g();
        let entry = |id: u64| -> Result<Option<(Transaction, u64)>, StoreError> {
            let Some(v) = ledger.get((g, id))? else {
                return Ok(None);
            };
            let t = records::decode_entry("ledger", v.value())?;
            let prev = records::entry_prev(v.value());
            if t.user != user || prev >= id {
                return Err(StoreError::Invariant(format!(
                    "entry {id} does not belong in the chain of user {user}"
                )));
            }
            Ok(Some((t, prev)))
        };
        if newest_first {
            let mut id = last;
            while id != 0 {
                let Some((t, prev)) = entry(id)? else { break };
                if !visit(t)? {
                    break;
                }
                id = prev;
            }
            return Ok(());
        }
        // Oldest first: collect the chain's ids (newest first), then visit them backwards.
        let mut ids = Vec::new();
        let mut id = last;
        while id != 0 {
            let Some(v) = ledger.get((g, id)).map_err(StoreError::from)? else {
                break;
            };
            ids.push(id);
            let prev = records::entry_prev(v.value());
            if prev >= id {
                return Err(StoreError::Invariant(format!("entry {id} chains forward")).into());
            }
            id = prev;
        }
        for id in ids.into_iter().rev() {
            let Some((t, _)) = entry(id)? else {
                return Err(StoreError::Invariant(format!("entry {id} vanished")).into());
            };
            if !visit(t)? {
                break;
            }
        }
        Ok(())
    }

    /// The refund entry that reversed `id`, if any.
    pub fn reversal_of(&self, id: u64) -> Result<Option<u64>, StoreError> {
        let t = self.tx.open(tables::REVERSALS)?;
        let v = t.get((self.g(), id))?;
        Ok(v.map(|v| v.value()))
    }
}

impl WriteCtx<'_> {
    /// The account, created on first touch with the guild's starting balance (written as an
    /// `initial` entry so the ledger explains every coin from the first moment).
    pub fn ensure_account(&mut self, user: UserId) -> Result<Account, StoreError> {
        Ok(self.ensure_account_row(user)?.0)
    }

    /// `ensure_account`, with the id of the account's latest entry.
    fn ensure_account_row(&mut self, user: UserId) -> Result<(Account, u64), StoreError> {
        if let Some(row) = self.account_row(user)? {
            return Ok(row);
        }
        let account = Account::new(self.guild, user, self.now);
        self.put_account(&account, 0)?;
        self.emit(EventKind::AccountCreated, vec![user.to_string()]);
        let starting = self.guild_config()?.starting_balance;
        if starting > 0 {
            let tx = self.append_entry(NewEntry::new(
                user,
                Money::new(starting),
                TxKind::Initial,
                "Starting balance",
            ))?;
            return self.account_row(user)?.ok_or_else(|| {
                StoreError::Invariant(format!("account vanished after entry {}", tx.id))
            });
        }
        Ok((account, 0))
    }

    fn put_account(&mut self, a: &Account, last_entry: u64) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::ACCOUNTS)?;
        t.insert(
            (self.g(), a.user.0),
            records::encode_account(a, last_entry).as_slice(),
        )?;
        // For the leaderboard index, applied once this commits.
        self.accounts.push(a.into());
        Ok(())
    }

    /// Changes an account's non-balance fields (last_daily, active, ...). Refuses to change the
    /// balance or totals: those move only through `append_entry`.
    pub fn update_account(
        &mut self,
        user: UserId,
        f: impl FnOnce(&mut Account),
    ) -> Result<Account, StoreError> {
        let (before, last_entry) = self.ensure_account_row(user)?;
        let mut after = before.clone();
        f(&mut after);
        if (
            after.balance,
            after.total_earned,
            after.total_spent,
            after.user,
            after.guild,
        ) != (
            before.balance,
            before.total_earned,
            before.total_spent,
            before.user,
            before.guild,
        ) {
            return Err(StoreError::Invariant(
                "update_account may not change balances".into(),
            ));
        }
        self.put_account(&after, last_entry)?;
        Ok(after)
    }

    /// Appends one ledger entry and applies it to the account. Refuses (writing nothing) an
    /// entry that would overflow or make the balance negative.
    pub fn append_entry(&mut self, e: NewEntry) -> Result<Transaction, StoreError> {
        let (mut account, prev) = self.ensure_account_row(e.user)?;
        let before = account.balance;
        let after = before
            .checked_add(e.amount)
            .ok_or(DomainError::BalanceOverflow)?;
        if after.is_negative() {
            return Err(DomainError::NegativeBalance {
                user: e.user,
                balance: after,
                currency: self.guild_config()?.currency_name,
            }
            .into());
        }
        let id = self.next_ledger_id()?;
        let tx = Transaction {
            id,
            guild: self.guild,
            user: e.user,
            amount: e.amount,
            balance_before: before,
            balance_after: after,
            kind: e.kind,
            description: e.description,
            at: self.now,
            actor: e.actor,
            source: e.source,
            group: e.group.unwrap_or(id),
            reverses: e.reverses,
            metadata: e.metadata,
        };
        account.balance = after;
        if e.amount.get() > 0 {
            account.total_earned =
                Money::new(account.total_earned.get().saturating_add(e.amount.get()));
        } else {
            account.total_spent =
                Money::new(account.total_spent.get().saturating_sub(e.amount.get()));
        }
        account.last_active = self.now;
        self.put_entry(&tx, prev)?;
        self.put_account(&account, id)?;
        self.emit(
            EventKind::BalanceChanged,
            vec![e.user.to_string(), id.to_string()],
        );
        Ok(tx)
    }

    /// The next ledger id. Ledger rows are only ever moved to the archive, never deleted, so
    /// the highest id used is the last key of the live ledger or of the archive (see
    /// `next_id_after`).
    fn next_ledger_id(&self) -> Result<u64, StoreError> {
        self.next_id_after(LEDGER_COUNTER, &[tables::LEDGER, tables::LEDGER_ARCHIVE])
    }

    fn put_entry(&self, tx: &Transaction, prev: u64) -> Result<(), StoreError> {
        let mut ledger = self.tx.open_table(tables::LEDGER)?;
        ledger.insert(
            (self.g(), tx.id),
            records::encode_entry(tx, prev)?.as_slice(),
        )?;
        Ok(())
    }

    pub fn record_reversal(&self, original: u64, by: u64) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::REVERSALS)?;
        t.insert((self.g(), original), by)?;
        Ok(())
    }
}
