//! Read-only questions about accounts and the ledger: balance, leaderboard, history, the filtered
//! transaction list, statistics and inactive members (with marking them inactive/active).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::Economy;
use crate::domain::OpMeta;
use crate::domain::{
    Account, Actor, DailyReset, DomainError, GuildConfig, GuildId, Transaction, TxKind, UserId,
};
use crate::error::Error;
use crate::events::EventKind;
use crate::store::{Tables, View, WriteCtx};

/// The most days a `days` parameter may name (100 years): larger values would overflow dates.
pub const MAX_DAYS: u32 = 36_500;

/// `now` minus `days` days, for a `days` parameter named `field`: refused outside
/// `min..=MAX_DAYS`, and the subtraction is checked, so no input can panic the date arithmetic.
pub fn days_before(
    now: DateTime<Utc>,
    days: u32,
    min: u32,
    field: &str,
) -> Result<DateTime<Utc>, DomainError> {
    let refuse = || DomainError::invalid(field, format!("must be between {min} and {MAX_DAYS}"));
    if !(min..=MAX_DAYS).contains(&days) {
        return Err(refuse());
    }
    now.checked_sub_signed(Duration::days(days.into()))
        .ok_or_else(refuse)
}

/// When a daily claimed at `last` can be claimed again.
pub fn next_daily_at(last: DateTime<Utc>, cfg: &GuildConfig) -> DateTime<Utc> {
    match cfg.daily_reset {
        DailyReset::Rolling => last + Duration::hours(cfg.daily_cooldown_hours.into()),
        DailyReset::UtcMidnight => {
            let next_day = last.date_naive() + chrono::Days::new(1);
            next_day.and_time(chrono::NaiveTime::MIN).and_utc()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderboardEntry {
    pub rank: u64,
    pub user: UserId,
    pub balance: crate::domain::Money,
    pub total_earned: crate::domain::Money,
}

fn entry(r: crate::store::leaderboard::Ranked) -> LeaderboardEntry {
    LeaderboardEntry {
        rank: r.rank,
        user: r.fact.user,
        balance: r.fact.balance,
        total_earned: r.fact.total_earned,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxSort {
    #[default]
    NewestFirst,
    OldestFirst,
    AmountDesc,
    AmountAsc,
}

/// Filters for the transaction list (dashboard, API, export).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxFilter {
    pub user: Option<UserId>,
    pub kinds: Vec<TxKind>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub offset: u64,
    /// 0 = no limit (for export).
    pub limit: u64,
    pub sort: TxSort,
    /// Also read the archive (entries moved out by `Economy::archive`).
    #[serde(default)]
    pub include_archived: bool,
}

impl TxFilter {
    pub fn matches(&self, tx: &Transaction) -> bool {
        self.user.is_none_or(|u| tx.user == u)
            && (self.kinds.is_empty() || self.kinds.contains(&tx.kind))
            && self.from.is_none_or(|f| tx.at >= f)
            && self.to.is_none_or(|t| tx.at < t)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
    All,
}

impl Period {
    pub fn parse(s: &str) -> Result<Period, DomainError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" | "daily" | "24h" => Ok(Period::Day),
            "week" | "weekly" | "7d" => Ok(Period::Week),
            "month" | "monthly" | "30d" => Ok(Period::Month),
            "all" | "" => Ok(Period::All),
            other => Err(DomainError::invalid(
                "period",
                format!("`{other}` is not one of day, week, month, all"),
            )),
        }
    }

    pub fn start(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Period::Day => Some(now - Duration::days(1)),
            Period::Week => Some(now - Duration::days(7)),
            Period::Month => Some(now - Duration::days(30)),
            Period::All => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindStats {
    pub count: u64,
    pub sum: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statistics {
    pub period: Period,
    pub from: Option<DateTime<Utc>>,
    pub to: DateTime<Utc>,
    pub user: Option<UserId>,
    /// Sum of positive entries.
    pub earned: i64,
    /// Sum of negative entries, as a positive number.
    pub spent: i64,
    pub net: i64,
    pub count: u64,
    pub by_kind: BTreeMap<String, KindStats>,
    /// Largest positive sums in the period, excluding transfers received.
    pub top_earners: Vec<(UserId, i64)>,
    /// Currency in circulation now (sum of balances).
    pub total_currency: i64,
    pub accounts: u64,
    pub active_accounts: u64,
}

impl Economy {
    /// The account, created with the starting balance if this is the member's first touch.
    pub fn account(&self, guild: GuildId, user: UserId) -> Result<Account, Error> {
        if let Some(a) = self.store.read(guild, |r| r.account(user))? {
            return Ok(a);
        }
        Ok(self.store.write(guild, |w| w.ensure_account(user))?)
    }

    /// An existing account, without creating one.
    pub fn find_account(&self, guild: GuildId, user: UserId) -> Result<Option<Account>, Error> {
        Ok(self.store.read(guild, |r| r.account(user))?)
    }

    /// Every account of the guild, active or not, in user id order. Creates none.
    pub fn accounts(&self, guild: GuildId) -> Result<Vec<Account>, Error> {
        Ok(self.store.read(guild, |r| r.accounts())?)
    }

    /// One page of active accounts by balance (richest first when `descending`; ties by user
    /// id), and how many active accounts there are: from the leaderboard index, then only the
    /// page's accounts are read (no scan, no sort of the whole server).
    pub fn accounts_by_balance(
        &self,
        guild: GuildId,
        offset: u64,
        limit: u64,
        descending: bool,
    ) -> Result<(Vec<Account>, u64), Error> {
        let (ranked, total) = self.store.by_balance(guild, offset, limit, descending)?;
        let accounts = self.store.read(guild, |r| {
            let mut out = Vec::with_capacity(ranked.len());
            for line in &ranked {
                if let Some(a) = r.account(line.fact.user)? {
                    out.push(a);
                }
            }
            Ok::<_, crate::store::StoreError>(out)
        })?;
        Ok((accounts, total))
    }

    /// Active accounts by balance (ties: older account id first). `page` starts at 1.
    pub fn leaderboard(
        &self,
        guild: GuildId,
        page: u64,
        per_page: u64,
    ) -> Result<Page<LeaderboardEntry>, Error> {
        let per_page = per_page.clamp(1, 100);
        let page = page.max(1);
        let offset = (page - 1).saturating_mul(per_page);
        // From the in-memory index: no scan of the accounts.
        let (ranked, total) = self.store.leaderboard(guild, offset, per_page)?;
        Ok(Page {
            items: ranked.into_iter().map(entry).collect(),
            total,
            offset,
            limit: per_page,
        })
    }

    /// A member's place on the leaderboard (`None` without an active account).
    pub fn rank(&self, guild: GuildId, user: UserId) -> Result<Option<LeaderboardEntry>, Error> {
        Ok(self.store.rank(guild, user)?.map(entry))
    }

    /// A member's own entries, newest first. `page` starts at 1.
    pub fn history(
        &self,
        guild: GuildId,
        user: UserId,
        page: u64,
        per_page: u64,
    ) -> Result<Page<Transaction>, Error> {
        let per_page = per_page.clamp(1, 100);
        let filter = TxFilter {
            user: Some(user),
            offset: (page.max(1) - 1).saturating_mul(per_page),
            limit: per_page,
            ..TxFilter::default()
        };
        self.transactions(guild, &filter)
    }

    /// The filtered, sorted, paged transaction list.
    pub fn transactions(&self, guild: GuildId, f: &TxFilter) -> Result<Page<Transaction>, Error> {
        let limit = if f.limit == 0 { u64::MAX } else { f.limit };
        let by_time = matches!(f.sort, TxSort::NewestFirst | TxSort::OldestFirst);
        let newest_first = f.sort != TxSort::OldestFirst;
        let mut total = 0u64;
        let mut items = Vec::new();
        let mut visit = |tx: Transaction| -> Result<bool, Error> {
            if f.matches(&tx) {
                // Time order is the scan order: keep only the requested window.
                if !by_time || (total >= f.offset && (items.len() as u64) < limit) {
                    items.push(tx);
                }
                total += 1;
            }
            Ok(true)
        };
        self.store
            .read(guild, |r| scan_filtered(r, f, newest_first, &mut visit))?;
        if !by_time {
            match f.sort {
                TxSort::AmountDesc => {
                    items.sort_by(|a, b| b.amount.cmp(&a.amount).then(b.id.cmp(&a.id)))
                }
                _ => items.sort_by(|a, b| a.amount.cmp(&b.amount).then(a.id.cmp(&b.id))),
            }
            items = items
                .into_iter()
                .skip(f.offset as usize)
                .take(limit.min(usize::MAX as u64) as usize)
                .collect();
        }
        Ok(Page {
            items,
            total,
            offset: f.offset,
            limit: f.limit,
        })
    }

    /// Streams matching entries to `sink` in scan order without collecting them (CSV export).
    pub fn for_each_transaction(
        &self,
        guild: GuildId,
        f: &TxFilter,
        mut sink: impl FnMut(&Transaction) -> Result<bool, Error>,
    ) -> Result<u64, Error> {
        let newest_first = f.sort != TxSort::OldestFirst;
        let mut seen = 0u64;
        let mut sent = 0u64;
        let limit = if f.limit == 0 { u64::MAX } else { f.limit };
        self.store.read(guild, |r| {
            let mut visit = |tx: Transaction| -> Result<bool, Error> {
                if !f.matches(&tx) {
                    return Ok(true);
                }
                seen += 1;
                if seen <= f.offset {
                    return Ok(true);
                }
                sent += 1;
                Ok(sink(&tx)? && sent < limit)
            };
            scan_filtered(r, f, newest_first, &mut visit)
        })?;
        Ok(sent)
    }

    /// One entry, live or archived.
    pub fn transaction(&self, guild: GuildId, id: u64) -> Result<Transaction, Error> {
        self.store
            .read(guild, |r| match r.transaction(id)? {
                Some(t) => Ok(Some(t)),
                None => r.archived_transaction(id),
            })?
            .ok_or_else(|| DomainError::NotFound(format!("Transaction {id}")).into())
    }

    pub fn statistics(
        &self,
        guild: GuildId,
        period: Period,
        user: Option<UserId>,
    ) -> Result<Statistics, Error> {
        let now = self.store.now();
        let from = period.start(now);
        let filter = TxFilter {
            user,
            from,
            ..TxFilter::default()
        };
        let mut s = Statistics {
            period,
            from,
            to: now,
            user,
            earned: 0,
            spent: 0,
            net: 0,
            count: 0,
            by_kind: BTreeMap::new(),
            top_earners: Vec::new(),
            total_currency: 0,
            accounts: 0,
            active_accounts: 0,
        };
        let mut earners: HashMap<UserId, i64> = HashMap::new();
        self.store.read(guild, |r| -> Result<(), Error> {
            let mut visit = |tx: Transaction| -> Result<bool, Error> {
                if from.is_some_and(|f| tx.at < f) {
                    // Newest first: everything further is older still.
                    return Ok(false);
                }
                if !filter.matches(&tx) {
                    return Ok(true);
                }
                let a = tx.amount.get();
                s.count += 1;
                if a > 0 {
                    s.earned = s.earned.saturating_add(a);
                    if tx.kind != TxKind::TransferReceive {
                        *earners.entry(tx.user).or_default() += a;
                    }
                } else {
                    s.spent = s.spent.saturating_sub(a);
                }
                let k = s
                    .by_kind
                    .entry(tx.kind.as_str().to_owned())
                    .or_insert(KindStats { count: 0, sum: 0 });
                k.count += 1;
                k.sum = k.sum.saturating_add(a);
                Ok(true)
            };
            match user {
                Some(u) => r.scan_user_ledger(u, true, &mut visit)?,
                None => r.scan_ledger(true, &mut visit)?,
            }
            for a in r.accounts()? {
                if user.is_some_and(|u| u != a.user) {
                    continue;
                }
                s.accounts += 1;
                s.active_accounts += u64::from(a.active);
                s.total_currency = s.total_currency.saturating_add(a.balance.get());
            }
            Ok(())
        })?;
        s.net = s.earned.saturating_sub(s.spent);
        let mut top: Vec<(UserId, i64)> = earners.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(10);
        s.top_earners = top;
        Ok(s)
    }

    /// Active accounts with no activity for `days` days, least recently active first.
    pub fn inactive(&self, guild: GuildId, days: u32) -> Result<Vec<Account>, Error> {
        let cutoff = days_before(self.store.now(), days, 0, "days")?;
        let mut out: Vec<Account> = self
            .store
            .read(guild, |r| r.accounts())?
            .into_iter()
            .filter(|a| a.active && a.last_active < cutoff)
            .collect();
        out.sort_by_key(|a| (a.last_active, a.user));
        Ok(out)
    }

    /// Marks every account idle for `days` days inactive (off the leaderboard; data kept).
    /// Returns the users marked. Audited as `users.cleanup` when anyone was marked.
    pub fn mark_inactive(
        &self,
        guild: GuildId,
        days: u32,
        meta: &OpMeta,
    ) -> Result<Vec<UserId>, Error> {
        let actor = &meta.actor;
        days_before(self.store.now(), days, 1, "days")?;
        self.store
            .write_once(guild, meta.key(), "users.mark_inactive", |w| {
                let cutoff = days_before(w.now, days, 1, "days")?;
                let idle: Vec<UserId> = w
                    .accounts()?
                    .into_iter()
                    .filter(|a| a.active && a.last_active < cutoff)
                    .map(|a| a.user)
                    .collect();
                for u in &idle {
                    w.update_account(*u, |a| a.active = false)?;
                }
                if !idle.is_empty() {
                    w.audit(
                        actor,
                        "users.cleanup",
                        format!("inactive_days:{days}"),
                        None,
                        Some(serde_json::json!({ "deactivated": idle })),
                    )?;
                    w.emit(
                        EventKind::AccountsDeactivated,
                        idle.iter().map(UserId::to_string).collect(),
                    );
                }
                Ok(idle)
            })
    }

    /// Turns an account on or off the leaderboard (member left / came back, or an admin's call).
    /// Audited (`user.activate` / `user.deactivate`) unless the actor is Coffer itself.
    pub fn set_active(
        &self,
        guild: GuildId,
        user: UserId,
        active: bool,
        meta: &OpMeta,
    ) -> Result<Account, Error> {
        self.store
            .write_once(guild, meta.key(), "users.set_active", |w| {
                write_active(w, user, active, &meta.actor)
            })
    }

    /// Puts an existing account back on the leaderboard, like `set_active(.., true, ..)`, in the
    /// same write as the check: a member with no account is refused (`NotFound`), not created.
    pub fn reactivate(
        &self,
        guild: GuildId,
        user: UserId,
        meta: &OpMeta,
    ) -> Result<Account, Error> {
        self.store
            .write_once(guild, meta.key(), "users.reactivate", |w| {
                if w.account(user)?.is_none() {
                    return Err(DomainError::NotFound(format!("User {user} in this server")).into());
                }
                write_active(w, user, true, &meta.actor)
            })
    }
}

/// `set_active`'s write: the flag (and `last_active` when turned on), its audit entry unless
/// Coffer itself acts, and the event.
fn write_active(
    w: &mut WriteCtx<'_>,
    user: UserId,
    active: bool,
    actor: &Actor,
) -> Result<Account, Error> {
    let now = w.now;
    let before = w.account(user)?.map(|a| a.active);
    let a = w.update_account(user, |a| {
        a.active = active;
        if active {
            a.last_active = now;
        }
    })?;
    if *actor != Actor::System {
        let action = if active {
            "user.activate"
        } else {
            "user.deactivate"
        };
        w.audit(
            actor,
            action,
            format!("user:{user}"),
            Some(serde_json::json!({ "active": before })),
            Some(serde_json::json!({ "active": active })),
        )?;
    }
    let kind = if active {
        EventKind::AccountReactivated
    } else {
        EventKind::AccountsDeactivated
    };
    w.emit(kind, vec![user.to_string()]);
    Ok(a)
}

/// The ledger (one user's entries when the filter names one), preceded in time by the archive
/// when `include_archived`: archived entries are all older than live ones of the same user.
fn scan_filtered<T: Tables>(
    r: &View<'_, T>,
    f: &TxFilter,
    newest_first: bool,
    visit: &mut dyn FnMut(Transaction) -> Result<bool, Error>,
) -> Result<(), Error> {
    let more = std::cell::Cell::new(true);
    let mut go = |tx: Transaction| -> Result<bool, Error> {
        more.set(visit(tx)?);
        Ok(more.get())
    };
    let live = |go: &mut dyn FnMut(Transaction) -> Result<bool, Error>| match f.user {
        Some(u) => r.scan_user_ledger(u, newest_first, go),
        None => r.scan_ledger(newest_first, go),
    };
    let archive = |go: &mut dyn FnMut(Transaction) -> Result<bool, Error>| {
        r.scan_archive(newest_first, |tx| {
            if f.user.is_some_and(|u| tx.user != u) {
                return Ok(true);
            }
            go(tx)
        })
    };
    if !f.include_archived {
        return live(&mut go);
    }
    if newest_first {
        live(&mut go)?;
        if more.get() {
            archive(&mut go)?;
        }
    } else {
        archive(&mut go)?;
        if more.get() {
            live(&mut go)?;
        }
    }
    Ok(())
}
