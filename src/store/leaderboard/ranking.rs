//! An ordered set that knows positions: the leaderboard's ranked accounts.
//!
//! A `BTreeSet` finds a key in O(log n) but not its position: a rank had to count every entry
//! above it (0.5-1.6 ms at a million accounts in `cargo bench --bench store -- --only reads`),
//! and a page at an offset walked up to it. Here the keys live in sorted blocks of a few
//! hundred; a position is the lengths of the blocks before (one `usize` each, about n / 400 of
//! them) plus a binary search inside one block: 0.4 us at a million. An insert or remove moves
//! at most one block's keys.

/// Blocks split in two when they pass `2 * BLOCK` keys.
const BLOCK: usize = 256;

/// A set of distinct keys in ascending order, with positions.
#[derive(Debug, Clone)]
pub struct Ranking<K> {
    /// Each block is non-empty and sorted; every key of a block is below every key of the next.
    blocks: Vec<Vec<K>>,
    len: usize,
}

impl<K> Default for Ranking<K> {
    fn default() -> Self {
        Ranking {
            blocks: Vec::new(),
            len: 0,
        }
    }
}

impl<K: Ord> Ranking<K> {
    pub fn len(&self) -> usize {
        self.len
    }

    /// How many blocks hold only keys below `key`.
    fn blocks_below(&self, key: &K) -> usize {
        self.blocks
            .partition_point(|b| b.last().is_some_and(|last| last < key))
    }

    /// The block `key` belongs in: the first whose last key is not below it (or the last).
    fn block_for(&self, key: &K) -> usize {
        self.blocks_below(key)
            .min(self.blocks.len().saturating_sub(1))
    }

    /// Adds `key`; false if it was there already.
    pub fn insert(&mut self, key: K) -> bool {
        if self.blocks.is_empty() {
            self.blocks.push(vec![key]);
            self.len = 1;
            return true;
        }
        let i = self.block_for(&key);
        let block = &mut self.blocks[i];
        let Err(at) = block.binary_search(&key) else {
            return false;
        };
        block.insert(at, key);
        self.len += 1;
        if block.len() > 2 * BLOCK {
            let tail = block.split_off(BLOCK);
            // The head keeps the capacity it doubled to (four times what it now holds): give
            // it back, so a block's spare room stays below what it holds.
            block.shrink_to_fit();
            self.blocks.insert(i + 1, tail);
        }
        true
    }

    /// Removes `key`; false if it was not there.
    pub fn remove(&mut self, key: &K) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let i = self.block_for(key);
        let block = &mut self.blocks[i];
        let Ok(at) = block.binary_search(key) else {
            return false;
        };
        block.remove(at);
        self.len -= 1;
        if block.is_empty() {
            self.blocks.remove(i);
        } else if block.len() < BLOCK / 4 {
            self.merge_small(i);
        }
        true
    }

    /// Folds a block that shrank into a neighbour, when they fit in one block together, so
    /// removals cannot leave many tiny blocks behind.
    fn merge_small(&mut self, i: usize) {
        let fits = |a: usize, b: usize| a + b <= 2 * BLOCK;
        if i + 1 < self.blocks.len() && fits(self.blocks[i].len(), self.blocks[i + 1].len()) {
            let next = self.blocks.remove(i + 1);
            self.blocks[i].extend(next);
        } else if i > 0 && fits(self.blocks[i - 1].len(), self.blocks[i].len()) {
            let this = self.blocks.remove(i);
            self.blocks[i - 1].extend(this);
        }
    }

    /// How many keys are below `key` (its position when it is in the set).
    pub fn position(&self, key: &K) -> usize {
        let i = self.blocks_below(key);
        let before: usize = self.blocks[..i].iter().map(Vec::len).sum();
        before
            + self
                .blocks
                .get(i)
                .map_or(0, |b| b.partition_point(|k| k < key))
    }

    /// The keys from position `skip` on, ascending.
    pub fn iter_from(&self, skip: usize) -> impl Iterator<Item = &K> + '_ {
        let (first, within) = self.locate(skip);
        self.blocks[first..]
            .iter()
            .enumerate()
            .flat_map(move |(n, b)| b[if n == 0 { within } else { 0 }..].iter())
    }

    /// The keys from position `skip` counted from the end on, descending.
    pub fn iter_rev_from(&self, skip: usize) -> impl Iterator<Item = &K> + '_ {
        let end = self.len.saturating_sub(skip);
        let (last, within) = self.locate(end);
        // Keys before position `end`: all of blocks[..last], and blocks[last][..within].
        let head = self.blocks.get(last).map_or(&[][..], |b| &b[..within]);
        let before = &self.blocks[..last.min(self.blocks.len())];
        head.iter()
            .rev()
            .chain(before.iter().rev().flat_map(|b| b.iter().rev()))
    }

    /// The block holding position `pos` and the offset in it; `(blocks.len(), 0)` past the end.
    fn locate(&self, mut pos: usize) -> (usize, usize) {
        for (i, b) in self.blocks.iter().enumerate() {
            if pos < b.len() {
                return (i, pos);
            }
            pos -= b.len();
        }
        (self.blocks.len(), 0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::{Ranking, BLOCK};

    #[derive(Debug, Clone)]
    enum Step {
        Insert(u16),
        Remove(u16),
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        // Small keys so removals hit, many steps so blocks split and merge.
        let step = prop_oneof![
            3 => any::<u16>().prop_map(|k| Step::Insert(k % 2048)),
            2 => any::<u16>().prop_map(|k| Step::Remove(k % 2048)),
        ];
        proptest::collection::vec(step, 0..4000)
    }

    fn check(r: &Ranking<u16>, model: &BTreeSet<u16>) {
        assert_eq!(r.len(), model.len());
        let all: Vec<u16> = r.iter_from(0).copied().collect();
        assert_eq!(all, model.iter().copied().collect::<Vec<_>>());
        for b in &r.blocks {
            assert!(
                !b.is_empty() && b.len() <= 2 * BLOCK,
                "block of {}",
                b.len()
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Inserts and removes agree with a `BTreeSet`, and so do positions and both iterators
        /// from every kind of offset.
        #[test]
        fn a_ranking_agrees_with_an_ordered_set(
            steps in steps(),
            thin in 1u16..24,
            probes in proptest::collection::vec(any::<u16>(), 1..40),
        ) {
            let mut r = Ranking::default();
            let mut model = BTreeSet::new();
            for s in steps {
                match s {
                    Step::Insert(k) => prop_assert_eq!(r.insert(k), model.insert(k)),
                    Step::Remove(k) => prop_assert_eq!(r.remove(&k), model.remove(&k)),
                }
            }
            check(&r, &model);
            // Then thin it out, so blocks shrink below a quarter and merge.
            for k in 0..2048u16 {
                if k % thin != 0 {
                    prop_assert_eq!(r.remove(&k), model.remove(&k));
                }
            }
            check(&r, &model);
            let n = model.len();
            for p in probes {
                let key = p % 2100;
                prop_assert_eq!(r.position(&key), model.range(..key).count());
                let skip = usize::from(p) % (n + 3);
                let up: Vec<u16> = r.iter_from(skip).take(25).copied().collect();
                let want: Vec<u16> = model.iter().skip(skip).take(25).copied().collect();
                prop_assert_eq!(up, want);
                let down: Vec<u16> = r.iter_rev_from(skip).take(25).copied().collect();
                let want: Vec<u16> = model.iter().rev().skip(skip).take(25).copied().collect();
                prop_assert_eq!(down, want);
            }
        }
    }

    /// Removing most keys merges the blocks that shrank: the block count follows the size.
    #[test]
    fn removals_do_not_leave_a_trail_of_tiny_blocks() {
        let mut r = Ranking::default();
        for k in 0..100_000u32 {
            r.insert(k);
        }
        let grown = r.blocks.len();
        assert!(grown >= 100_000 / (2 * BLOCK), "{grown} blocks");
        for k in (0..100_000u32).filter(|k| k % 16 != 0) {
            assert!(r.remove(&k));
        }
        assert_eq!(r.len(), 6_250);
        let most = 4 * 6_250 / BLOCK + 2;
        assert!(
            r.blocks.len() <= most,
            "{} blocks for 6,250 keys",
            r.blocks.len()
        );
        assert_eq!(r.position(&4_800), 300);
    }

    #[test]
    fn an_empty_ranking_has_no_positions_and_no_keys() {
        let mut r: Ranking<u8> = Ranking::default();
        assert_eq!(r.len(), 0);
        assert_eq!(r.position(&7), 0);
        assert!(!r.remove(&7));
        assert_eq!(r.iter_from(0).count(), 0);
        assert_eq!(r.iter_rev_from(3).count(), 0);
    }
}
