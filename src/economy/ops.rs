//! Balance-changing operations. Each is one write transaction: every check runs before the first
//! write, and any refusal aborts the transaction, so nothing moves unless everything does.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::{next_daily_at, Economy, OpMeta};
use crate::domain::{DomainError, GuildId, Money, Transaction, TxKind, UserId, MAX_AMOUNT};
use crate::error::Error;
use crate::events::EventKind;
use crate::store::accounts::NewEntry;
use crate::store::WriteCtx;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyOutcome {
    pub amount: Money,
    pub balance: Money,
    pub transaction_id: u64,
    pub next_claim_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferOutcome {
    pub amount: Money,
    pub tax: Money,
    pub sender_balance: Money,
    pub receiver_balance: Money,
    /// Send, receive and (when taxed) tax entries, in that order.
    pub transaction_ids: Vec<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", content = "amount", rename_all = "snake_case")]
pub enum Adjustment {
    Add(Money),
    Remove(Money),
    Set(Money),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustOutcome {
    pub balance_before: Money,
    pub balance: Money,
    /// `None` when `Set` named the balance the account already had.
    pub transaction: Option<Transaction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReverseOutcome {
    pub reversed: Vec<u64>,
    pub refunds: Vec<Transaction>,
}

fn require_currency(w: &WriteCtx<'_>) -> Result<crate::domain::GuildConfig, Error> {
    let cfg = w.guild_config()?;
    if !cfg.features.currency {
        return Err(
            DomainError::Refused("The currency is turned off on this server.".into()).into(),
        );
    }
    Ok(cfg)
}

impl Economy {
    /// Claims the daily reward, or says exactly when the next claim opens.
    pub fn daily(
        &self,
        guild: GuildId,
        user: UserId,
        meta: &OpMeta,
    ) -> Result<DailyOutcome, Error> {
        self.limited(guild, user, meta, || {
            self.store.write_once(guild, meta.key(), "daily", |w| {
                let cfg = require_currency(w)?;
                if cfg.daily_amount <= 0 {
                    return Err(DomainError::Refused(
                        "Daily rewards are turned off on this server.".into(),
                    )
                    .into());
                }
                let account = w.ensure_account(user)?;
                if let Some(last) = account.last_daily {
                    let until = next_daily_at(last, &cfg);
                    if w.now < until {
                        return Err(DomainError::OnCooldown { until, now: w.now }.into());
                    }
                }
                let tx = w.append_entry(
                    NewEntry::new(
                        user,
                        Money::new(cfg.daily_amount),
                        TxKind::Daily,
                        "Daily reward",
                    )
                    .by(meta.actor.clone(), meta.source),
                )?;
                let now = w.now;
                w.update_account(user, |a| a.last_daily = Some(now))?;
                w.emit(
                    EventKind::DailyClaimed,
                    vec![user.to_string(), tx.id.to_string()],
                );
                Ok(DailyOutcome {
                    amount: tx.amount,
                    balance: tx.balance_after,
                    transaction_id: tx.id,
                    next_claim_at: next_daily_at(now, &cfg),
                })
            })
        })
    }

    /// Moves `amount` from `from` to `to`, with the guild's limits and tax. All or nothing.
    pub fn transfer(
        &self,
        guild: GuildId,
        from: UserId,
        to: UserId,
        amount: Money,
        meta: &OpMeta,
    ) -> Result<TransferOutcome, Error> {
        Money::positive(amount.get(), MAX_AMOUNT)?;
        if from == to {
            return Err(DomainError::SelfTransfer.into());
        }
        self.limited(guild, from, meta, || {
            self.store.write_once(guild, meta.key(), "transfer", |w| {
                transfer_in(w, from, to, amount, meta)
            })
        })
    }

    /// Admin add / remove / set. Not rate limited; the reason is kept in the entry.
    pub fn adjust(
        &self,
        guild: GuildId,
        user: UserId,
        adjustment: Adjustment,
        reason: &str,
        meta: &OpMeta,
    ) -> Result<AdjustOutcome, Error> {
        let reason = clean_reason(reason)?;
        match adjustment {
            Adjustment::Add(m) | Adjustment::Remove(m) => {
                Money::positive(m.get(), MAX_AMOUNT)?;
            }
            Adjustment::Set(m) => {
                Money::non_negative(m.get(), MAX_AMOUNT)?;
            }
        }
        self.store.write_once(guild, meta.key(), "adjust", |w| {
            let cfg = w.guild_config()?;
            let account = w.ensure_account(user)?;
            let before = account.balance;
            let (kind, delta, verb) = match adjustment {
                Adjustment::Add(m) => (TxKind::AdminAdd, m, "Added"),
                Adjustment::Remove(m) => {
                    if m > before {
                        return Err(DomainError::RemoveExceedsBalance {
                            user,
                            balance: before,
                            currency: cfg.currency_name,
                        }
                        .into());
                    }
                    (TxKind::AdminRemove, Money::new(-m.get()), "Removed")
                }
                Adjustment::Set(m) => {
                    let delta = m.checked_sub(before).ok_or(DomainError::BalanceOverflow)?;
                    (TxKind::AdminSet, delta, "Set")
                }
            };
            if delta == Money::ZERO {
                return Ok(AdjustOutcome {
                    balance_before: before,
                    balance: before,
                    transaction: None,
                });
            }
            let description = match reason.as_deref() {
                Some(r) => format!("{verb} by an admin: {r}"),
                None => format!("{verb} by an admin"),
            };
            let mut entry =
                NewEntry::new(user, delta, kind, description).by(meta.actor.clone(), meta.source);
            if let Some(r) = &reason {
                entry = entry.meta("reason", r.clone());
            }
            let tx = w.append_entry(entry)?;
            let action = match adjustment {
                Adjustment::Add(_) => "balance.add",
                Adjustment::Remove(_) => "balance.remove",
                Adjustment::Set(_) => "balance.set",
            };
            w.audit(
                &meta.actor,
                action,
                format!("user:{user}"),
                Some(serde_json::json!({ "balance": before })),
                Some(serde_json::json!({
                    "balance": tx.balance_after,
                    "transaction": tx.id,
                    "reason": reason,
                })),
            )?;
            Ok(AdjustOutcome {
                balance_before: before,
                balance: tx.balance_after,
                transaction: Some(tx),
            })
        })
    }

    /// Undoes a past entry with compensating `refund` entries (a transfer: all its legs).
    /// History is never edited; an entry can be reversed once; nothing goes negative.
    pub fn reverse(
        &self,
        guild: GuildId,
        transaction_id: u64,
        reason: &str,
        meta: &OpMeta,
    ) -> Result<ReverseOutcome, Error> {
        let reason = clean_reason(reason)?;
        self.store
            .write_once(guild, meta.key(), "reverse", |w| {
                let Some(original) = w.transaction(transaction_id)? else {
                    if w.archived_transaction(transaction_id)?.is_some() {
                        return Err(DomainError::Refused(format!(
                            "Transaction {transaction_id} is archived; archived entries can't be reversed."
                        ))
                        .into());
                    }
                    return Err(
                        DomainError::NotFound(format!("Transaction {transaction_id}")).into(),
                    );
                };
                if original.kind == TxKind::Refund {
                    return Err(DomainError::Refused(format!(
                        "Transaction {transaction_id} is itself a reversal; it can't be reversed."
                    ))
                    .into());
                }
                let legs = operation_legs(w, &original)?;
                for leg in &legs {
                    if let Some(by) = w.reversal_of(leg.id)? {
                        return Err(DomainError::AlreadyReversed { original: leg.id, by }.into());
                    }
                }
                let mut refunds = Vec::new();
                let mut group = None;
                for leg in legs.iter().filter(|l| l.amount != Money::ZERO) {
                    let amount = leg.amount.checked_neg().ok_or(DomainError::BalanceOverflow)?;
                    let description = match reason.as_deref() {
                        Some(r) => format!("Reversal of transaction {}: {r}", leg.id),
                        None => format!("Reversal of transaction {}", leg.id),
                    };
                    let mut entry = NewEntry::new(leg.user, amount, TxKind::Refund, description)
                        .by(meta.actor.clone(), meta.source)
                        .in_group(group);
                    entry.reverses = Some(leg.id);
                    let refund = w.append_entry(entry).map_err(|e| match Error::from(e) {
                        Error::Domain(DomainError::NegativeBalance { .. }) => {
                            DomainError::ReversalWouldGoNegative {
                                transaction: leg.id,
                                user: leg.user,
                            }
                            .into()
                        }
                        other => other,
                    })?;
                    group.get_or_insert(refund.id);
                    w.record_reversal(leg.id, refund.id)?;
                    refunds.push(refund);
                }
                let reversed: Vec<u64> = legs.iter().map(|l| l.id).collect();
                w.audit(
                    &meta.actor,
                    "transaction.reverse",
                    format!("transaction:{transaction_id}"),
                    Some(serde_json::json!({ "reversed": reversed })),
                    Some(serde_json::json!({
                        "refunds": refunds.iter().map(|r| r.id).collect::<Vec<_>>(),
                        "reason": reason,
                    })),
                )?;
                w.emit(
                    EventKind::TransactionReversed,
                    reversed.iter().map(u64::to_string).collect(),
                );
                Ok(ReverseOutcome { reversed, refunds })
            })
    }
}

/// How a ledger description names a member: plain text, never Discord markup (the entry's
/// `counterparty` metadata carries the id for doors that render mentions). The username when
/// Coffer has seen the member, and the id always, since the CSV export has no metadata column.
fn member_label(w: &WriteCtx<'_>, user: UserId) -> Result<String, Error> {
    Ok(match w.member(user)? {
        Some(m) => format!("{} (user {user})", m.name),
        None => format!("user {user}"),
    })
}

/// A reason kept with a balance change or a reversal: at most this many characters, trimmed.
pub const MAX_REASON_CHARS: usize = 500;

fn clean_reason(reason: &str) -> Result<Option<String>, Error> {
    let r = reason.trim();
    if r.chars().count() > MAX_REASON_CHARS {
        return Err(DomainError::invalid(
            "reason",
            format!("must be at most {MAX_REASON_CHARS} characters"),
        )
        .into());
    }
    crate::domain::text::check_text("reason", r)?;
    Ok((!r.is_empty()).then(|| r.to_owned()))
}

/// The entries written together with `original` that a reversal must undo with it: a transfer's
/// send, receive and tax legs; any other entry alone.
fn operation_legs(w: &WriteCtx<'_>, original: &Transaction) -> Result<Vec<Transaction>, Error> {
    let is_transfer = matches!(
        original.kind,
        TxKind::TransferSend | TxKind::TransferReceive | TxKind::TransferTax
    );
    if !is_transfer {
        return Ok(vec![original.clone()]);
    }
    // A group's entries are written in one transaction, so their ids are consecutive from the
    // group id.
    let mut legs = Vec::new();
    let mut id = original.group;
    while let Some(tx) = w.transaction(id)? {
        if tx.group != original.group {
            break;
        }
        legs.push(tx);
        id += 1;
    }
    Ok(legs)
}

fn transfer_in(
    w: &mut WriteCtx<'_>,
    from: UserId,
    to: UserId,
    amount: Money,
    meta: &OpMeta,
) -> Result<TransferOutcome, Error> {
    let cfg = require_currency(w)?;
    let cur = cfg.currency_name.as_str();
    if let Some(max) = cfg.max_transfer {
        if amount.get() > max {
            return Err(DomainError::LimitExceeded(format!(
                "You can send at most {} {cur} at once.",
                Money::new(max)
            ))
            .into());
        }
    }
    let sender = w.ensure_account(from)?;
    if cfg.min_account_age_hours > 0 {
        let allowed_from = sender.created_at + Duration::hours(cfg.min_account_age_hours.into());
        if w.now < allowed_from {
            return Err(DomainError::LimitExceeded(format!(
                "New accounts can't send money yet: you can send {}.",
                crate::domain::error::describe_until(allowed_from, w.now)
            ))
            .into());
        }
    }
    if let Some(max_day) = cfg.max_transfer_per_day {
        let since = w.now - Duration::hours(24);
        let mut sent: i64 = 0;
        w.scan_user_ledger(from, true, |tx| -> Result<bool, Error> {
            if tx.at <= since {
                return Ok(false);
            }
            if tx.kind == TxKind::TransferSend {
                sent = sent.saturating_add(-tx.amount.get());
            }
            Ok(true)
        })?;
        if sent.saturating_add(amount.get()) > max_day {
            return Err(DomainError::LimitExceeded(format!(
                "You can send at most {} {cur} per 24 hours; you can still send {}.",
                Money::new(max_day),
                Money::new((max_day - sent).max(0))
            ))
            .into());
        }
    }
    let tax = amount.percent(cfg.transfer_tax_percent);
    let needed = amount
        .checked_add(tax)
        .ok_or(DomainError::BalanceOverflow)?;
    if sender.balance < needed {
        return Err(DomainError::InsufficientFunds {
            needed,
            available: sender.balance,
            currency: cfg.currency_name.clone(),
        }
        .into());
    }
    let receiver = w.ensure_account(to)?;
    if receiver.balance.checked_add(amount).is_none() {
        return Err(DomainError::BalanceOverflow.into());
    }
    let send = w.append_entry(
        NewEntry::new(
            from,
            Money::new(-amount.get()),
            TxKind::TransferSend,
            format!("Sent to {}", member_label(w, to)?),
        )
        .by(meta.actor.clone(), meta.source)
        .meta("counterparty", to.to_string()),
    )?;
    let group = Some(send.id);
    let receive = w.append_entry(
        NewEntry::new(
            to,
            amount,
            TxKind::TransferReceive,
            format!("Received from {}", member_label(w, from)?),
        )
        .by(meta.actor.clone(), meta.source)
        .in_group(group)
        .meta("counterparty", from.to_string()),
    )?;
    let mut ids = vec![send.id, receive.id];
    let mut sender_balance = send.balance_after;
    if tax > Money::ZERO {
        let t = w.append_entry(
            NewEntry::new(
                from,
                Money::new(-tax.get()),
                TxKind::TransferTax,
                format!("Transfer tax ({}%)", cfg.transfer_tax_percent),
            )
            .by(meta.actor.clone(), meta.source)
            .in_group(group),
        )?;
        sender_balance = t.balance_after;
        ids.push(t.id);
    }
    w.emit(
        EventKind::TransferCompleted,
        vec![from.to_string(), to.to_string(), send.id.to_string()],
    );
    Ok(TransferOutcome {
        amount,
        tax,
        sender_balance,
        receiver_balance: receive.balance_after,
        transaction_ids: ids,
    })
}
