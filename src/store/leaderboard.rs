//! The leaderboard index: per guild, in memory, the active accounts ordered by balance. Built
//! from one scan the first time a guild's board is asked for, then kept current by the writer:
//! every account a commit wrote is applied (as absolute values) right after the commit, under
//! the writer's lock, so the index never runs ahead of the store and never misses a commit.
//! Top-N reads N entries; a rank adds up block lengths (`Ranking`: no decode, no disk, no walk
//! over the entries above).
//!
//! Why in memory and not an index table: an on-disk index adds a B-tree write to every balance
//! change. Measured (`cargo bench --bench store -- --only ab`, alternating slices): plain redb
//! keeping a (balance, user) table writes 79 instead of 51 KiB per transfer and runs at
//! 0.74-0.76x, and it would still count entries for a rank. This index costs the service's
//! 64-caller row 0.87-1.05x (within the noise), and rebuilding it is one scan per guild per
//! process.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::domain::{Account, GuildId, Money, UserId};

mod ranking;

use ranking::Ranking;

/// What the index keeps of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountFact {
    pub user: UserId,
    pub balance: Money,
    pub total_earned: Money,
    pub active: bool,
}

impl From<&Account> for AccountFact {
    fn from(a: &Account) -> Self {
        AccountFact {
            user: a.user,
            balance: a.balance,
            total_earned: a.total_earned,
            active: a.active,
        }
    }
}

#[derive(Default)]
struct Board {
    facts: HashMap<UserId, AccountFact>,
    /// Active accounts: highest balance first, then lowest user id.
    ranked: Ranking<(Reverse<Money>, UserId)>,
}

impl Board {
    fn apply(&mut self, f: AccountFact) {
        if let Some(old) = self.facts.insert(f.user, f) {
            if old.active {
                self.ranked.remove(&(Reverse(old.balance), old.user));
            }
        }
        if f.active {
            self.ranked.insert((Reverse(f.balance), f.user));
        }
    }
}

/// One ranked line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranked {
    pub rank: u64,
    pub fact: AccountFact,
}

#[derive(Default)]
pub struct Boards {
    guilds: Mutex<HashMap<GuildId, Board>>,
}

impl Boards {
    fn lock(&self) -> MutexGuard<'_, HashMap<GuildId, Board>> {
        self.guilds.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies what a commit wrote (only to boards already built).
    pub(super) fn apply(&self, guild: GuildId, facts: &[AccountFact]) {
        if facts.is_empty() {
            return;
        }
        let mut g = self.lock();
        if let Some(board) = g.get_mut(&guild) {
            for f in facts {
                board.apply(*f);
            }
        }
    }

    /// Forgets every board (`Store::write_guilds` replaced accounts without `put_account`).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Runs `f` on the guild's board, building it with `load` first if needed. The lock is
    /// held while loading, so a commit that lands meanwhile is applied after (idempotently).
    fn with<T, E>(
        &self,
        guild: GuildId,
        load: impl FnOnce() -> Result<Vec<AccountFact>, E>,
        f: impl FnOnce(&Board) -> T,
    ) -> Result<T, E> {
        let mut g = self.lock();
        let board = match g.entry(guild) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let mut board = Board::default();
                for fact in load()? {
                    board.apply(fact);
                }
                v.insert(board)
            }
        };
        Ok(f(board))
    }

    /// `limit` entries after `offset` (richest first, or poorest first when not `descending`),
    /// and how many active accounts there are. Ranks count from the richest either way.
    pub fn page<E>(
        &self,
        guild: GuildId,
        (offset, limit, descending): (u64, u64, bool),
        load: impl FnOnce() -> Result<Vec<AccountFact>, E>,
    ) -> Result<(Vec<Ranked>, u64), E> {
        self.with(guild, load, |b| {
            let total = b.ranked.len();
            let skip = usize::try_from(offset).unwrap_or(usize::MAX).min(total);
            let take = usize::try_from(limit).unwrap_or(usize::MAX);
            // Ranks count from the richest: the n-th line from the top is `skip + n + 1`, the
            // n-th from the bottom is `total - skip - n`.
            let line = |place: usize, (_, user): &(Reverse<Money>, UserId)| {
                b.facts.get(user).map(|fact| Ranked {
                    rank: place as u64,
                    fact: *fact,
                })
            };
            let items = if descending {
                let from_top = b.ranked.iter_from(skip).take(take).enumerate();
                from_top
                    .filter_map(|(n, key)| line(skip + n + 1, key))
                    .collect()
            } else {
                let from_bottom = b.ranked.iter_rev_from(skip).take(take).enumerate();
                from_bottom
                    .filter_map(|(n, key)| line(total - skip - n, key))
                    .collect()
            };
            (items, total as u64)
        })
    }

    /// The user's place (1 = richest) among active accounts, or `None` without an active one.
    pub fn rank<E>(
        &self,
        guild: GuildId,
        user: UserId,
        load: impl FnOnce() -> Result<Vec<AccountFact>, E>,
    ) -> Result<Option<Ranked>, E> {
        self.with(guild, load, |b| {
            let fact = b.facts.get(&user).filter(|f| f.active)?;
            let above = b.ranked.position(&(Reverse(fact.balance), user));
            Some(Ranked {
                rank: above as u64 + 1,
                fact: *fact,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages from either end, at offsets deep inside several blocks, carry ranks counted from
    /// the richest; inactive members have no rank.
    #[test]
    fn pages_from_either_end_carry_ranks_counted_from_the_richest() {
        let boards = Boards::default();
        let g = GuildId(1);
        let facts: Vec<AccountFact> = (1..=1_000u64)
            .map(|u| AccountFact {
                user: UserId(u),
                balance: Money::new(u as i64 * 10),
                total_earned: Money::ZERO,
                active: u % 10 != 0,
            })
            .collect();
        let load = || Ok::<_, ()>(facts.clone());
        // Richest first: the active users from 999 down.
        let active: Vec<u64> = (1..=1_000u64).rev().filter(|u| u % 10 != 0).collect();
        let lines = |page: Vec<Ranked>| -> Vec<(u64, u64)> {
            page.iter().map(|r| (r.rank, r.fact.user.0)).collect()
        };
        let (top, total) = boards.page(g, (600, 3, true), load).unwrap();
        assert_eq!(total, 900);
        let want: Vec<(u64, u64)> = (600..603).map(|i| (i as u64 + 1, active[i])).collect();
        assert_eq!(lines(top), want);
        let (bottom, _) = boards.page(g, (5, 2, false), load).unwrap();
        assert_eq!(lines(bottom), vec![(895, active[894]), (894, active[893])]);
        let (past_the_end, _) = boards.page(g, (900, 5, true), load).unwrap();
        assert!(past_the_end.is_empty());
        let me = boards.rank(g, UserId(active[700]), load).unwrap().unwrap();
        assert_eq!(me.rank, 701);
        assert_eq!(boards.rank(g, UserId(10), load).unwrap(), None);
    }
}
