//! The transaction log as ledger history, and the opening entries where the stated balances
//! and the log disagree.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::currency::Stated;
use super::reader::{epoch, Reader};
use crate::domain::{Account, Actor, GuildId, Money, Source, Transaction, TxKind, UserId};

pub(super) fn legacy_kind(kind: &str) -> Option<TxKind> {
    Some(match kind.trim().to_ascii_lowercase().as_str() {
        "daily" => TxKind::Daily,
        "initial" | "starting_balance" => TxKind::Initial,
        "transfer_send" | "transfer_out" | "give_sent" | "give" => TxKind::TransferSend,
        "transfer_receive" | "transfer_in" | "give_received" => TxKind::TransferReceive,
        "transfer_tax" | "tax" => TxKind::TransferTax,
        "admin_add" | "add" | "admin_give" => TxKind::AdminAdd,
        "admin_remove" | "remove" | "admin_take" => TxKind::AdminRemove,
        "admin_set" | "set" => TxKind::AdminSet,
        "purchase" | "shop_purchase" | "buy" => TxKind::ShopPurchase,
        "task_reward" | "task" | "task_completion" => TxKind::TaskReward,
        "refund" => TxKind::Refund,
        _ => return None,
    })
}

/// One log entry as read, before ids and balances are assigned.
pub(super) struct LogEntry {
    pub(super) user: UserId,
    pub(super) amount: i64,
    pub(super) kind: TxKind,
    pub(super) description: String,
    pub(super) at: DateTime<Utc>,
    pub(super) metadata: BTreeMap<String, Value>,
}

pub(super) fn read_log(r: &mut Reader, entries: &[Value]) -> Vec<LogEntry> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, (usize, &Value)> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        let path = format!("$[{i}]");
        let Some(o) = e.as_object() else {
            r.problem(&path, "expected a transaction object");
            continue;
        };
        if let Some(id) = r.text(o, "id", &path) {
            if let Some((j, first)) = seen.get(&id) {
                if *first == e {
                    r.note(
                        &path,
                        format!("duplicate of $[{j}] (same id \"{id}\"): skipped"),
                    );
                } else {
                    r.problem(
                        &path,
                        format!("id \"{id}\" is also $[{j}] with other content"),
                    );
                }
                continue;
            }
            seen.insert(id, (i, e));
        }
        let user = r
            .id(o.get("user_id"), &format!("{path}.user_id"))
            .map(UserId);
        if o.get("user_id").is_none() {
            r.problem(&format!("{path}.user_id"), "missing");
        }
        let amount = r.int(o, "amount", &path, true);
        let at = r.time(o, "timestamp", &path);
        if o.get("timestamp").is_none() {
            r.problem(&format!("{path}.timestamp"), "missing");
        }
        let legacy_type = r.text(o, "type", &path).unwrap_or_default();
        let (Some(user), Some(amount), Some(at)) = (user, amount, at) else {
            continue;
        };
        if amount == 0 {
            r.note(&path, "amount 0 changes nothing: skipped");
            continue;
        }
        let kind = legacy_kind(&legacy_type).unwrap_or_else(|| {
            r.note(
                &format!("{path}.type"),
                format!("unknown type \"{legacy_type}\": kept as an import entry"),
            );
            TxKind::Import
        });
        let mut metadata = BTreeMap::new();
        if let Some(Value::Object(m)) = o.get("metadata") {
            metadata.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        for key in ["id", "type", "balance_before", "balance_after"] {
            if let Some(v) = o.get(key) {
                metadata.insert(format!("legacy_{key}"), v.clone());
            }
        }
        out.push(LogEntry {
            user,
            amount,
            kind,
            description: r.text(o, "description", &path).unwrap_or_default(),
            at,
            metadata,
        });
    }
    out
}

/// Accounts and the ledger: the log in time order, each user's chain recomputed from 0. Where
/// the stated balance and the log disagree, an explicit `import` entry makes up the
/// difference: an opening entry first (as large as needed so the balance never goes below 0
/// on the way) and, when the log sums to more than stated, a closing correction at the end.
/// Returns (accounts, ledger, opening/correction entries added).
pub(super) fn build_ledger(
    guild: GuildId,
    stated: &Stated,
    mut log: Vec<LogEntry>,
    log_name: &str,
    notes: &mut Vec<String>,
) -> (Vec<Account>, Vec<Transaction>, u64) {
    log.sort_by_key(|e| e.at); // stable: same-time entries keep the file's order
    let users: BTreeSet<UserId> = stated
        .keys()
        .copied()
        .chain(log.iter().map(|e| e.user))
        .collect();
    let mut openings = Vec::new();
    let mut closings = Vec::new();
    for user in &users {
        let mine: Vec<&LogEntry> = log.iter().filter(|e| e.user == *user).collect();
        let (mut sum, mut low) = (0i64, 0i64);
        for e in &mine {
            sum = sum.saturating_add(e.amount);
            low = low.min(sum);
        }
        let balance = match stated.get(user) {
            Some((b, ..)) => *b,
            None => {
                notes.push(format!("{log_name}: user {user} is in the log but not in the users: imported with balance 0"));
                0
            }
        };
        let diff = balance - sum;
        let opening = diff.max(-low);
        let closing = diff - opening;
        let first_at = mine
            .first()
            .map(|e| e.at)
            .or(stated.get(user).map(|s| s.1))
            .unwrap_or_else(epoch);
        let last_at = mine.last().map(|e| e.at).unwrap_or(first_at);
        if opening != 0 {
            openings.push((*user, opening, first_at));
        }
        if closing != 0 {
            closings.push((*user, closing, last_at));
        }
        if diff != 0 {
            notes.push(format!(
                "user {user}: the stated balance is {balance} but the log sums to {sum}: imported as stated, \
                 with an opening entry of {opening}{}",
                if closing != 0 { format!(" and a closing correction of {closing}") } else { String::new() }
            ));
        }
    }
    let mut ledger = Vec::new();
    let mut balances: BTreeMap<UserId, i64> = BTreeMap::new();
    let mut push = |user: UserId,
                    amount: i64,
                    kind: TxKind,
                    description: String,
                    at,
                    metadata,
                    ledger: &mut Vec<Transaction>| {
        let before = balances.get(&user).copied().unwrap_or(0);
        let after = before + amount;
        balances.insert(user, after);
        let id = ledger.len() as u64 + 1;
        ledger.push(Transaction {
            id,
            guild,
            user,
            amount: Money::new(amount),
            balance_before: Money::new(before),
            balance_after: Money::new(after),
            kind,
            description,
            at,
            actor: Actor::System,
            source: Source::Import,
            group: id,
            reverses: None,
            metadata,
        });
    };
    let opening_count = (openings.len() + closings.len()) as u64;
    for (user, amount, at) in openings {
        push(
            user,
            amount,
            TxKind::Import,
            "Opening balance from the old bot (its stated balance and its log disagree)".into(),
            at,
            BTreeMap::new(),
            &mut ledger,
        );
    }
    for e in log {
        push(
            e.user,
            e.amount,
            e.kind,
            e.description,
            e.at,
            e.metadata,
            &mut ledger,
        );
    }
    for (user, amount, at) in closings {
        push(
            user,
            amount,
            TxKind::Import,
            "Correction to the old bot's stated balance (its log sums to more)".into(),
            at,
            BTreeMap::new(),
            &mut ledger,
        );
    }
    let accounts = users
        .iter()
        .map(|user| {
            let (created, last_daily, active) = stated
                .get(user)
                .map(|s| (s.1, s.2, s.3))
                .unwrap_or((epoch(), None, true));
            let mut a = Account::new(guild, *user, created);
            a.balance = Money::new(balances.get(user).copied().unwrap_or(0));
            let (earned, spent) =
                ledger
                    .iter()
                    .filter(|t| t.user == *user)
                    .fold((0i64, 0i64), |(e, s), t| {
                        let v = t.amount.get();
                        if v > 0 {
                            (e + v, s)
                        } else {
                            (e, s - v)
                        }
                    });
            a.total_earned = Money::new(earned);
            a.total_spent = Money::new(spent);
            a.last_daily = last_daily;
            a.active = active;
            a.last_active = ledger
                .iter()
                .rev()
                .find(|t| t.user == *user)
                .map_or(created, |t| t.at.max(created));
            a
        })
        .collect();
    (accounts, ledger, opening_count)
}
