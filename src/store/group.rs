//! Group commit: every write goes through one `Writer`. Operations that arrive while another is
//! running join the same redb write transaction, and the last one in (nobody else waiting, or
//! the batch full) commits it: one durable commit for the whole batch. Each operation still
//! runs its own closure, decides and applies on its own, and its caller is answered only after
//! the commit holding its writes is durable. A caller alone commits at once (no added wait).
//!
//! A refused operation (its closure returns `Err`) that wrote nothing leaves its neighbours
//! alone. One that wrote before failing (or panicked) cannot be undone inside the shared
//! transaction (redb savepoints need a clean transaction), so the batch is aborted and every
//! other operation in it runs again in a new batch: closures are `FnMut` for that reason.
//! Services check before their first write, so this path is rare.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use redb::{Database, Key, TableDefinition, TableError, Value, WriteTransaction};

use chrono::{DateTime, Utc};

use super::leaderboard::{AccountFact, Boards};
use super::{StoreError, Tables};
use crate::domain::GuildId;
use crate::events::{EventBus, PendingEvent};

/// The most operations one commit holds; past it the batch commits even with callers waiting.
pub const MAX_BATCH: usize = 256;

/// The longest a batch waits for the callers the last commit answered to come back.
pub const MAX_LINGER: Duration = Duration::from_millis(1);

/// The shared write transaction as operations see it: it remembers whether the running
/// operation opened a table for writing, so a refusal that wrote nothing can stay in the batch.
pub struct TrackedTx {
    tx: WriteTransaction,
    wrote: Cell<bool>,
}

impl TrackedTx {
    /// Opens a table for writing (marks the running operation as having written).
    pub fn open_table<'s, K: Key + 'static, V: Value + 'static>(
        &'s self,
        def: TableDefinition<K, V>,
    ) -> Result<redb::Table<'s, K, V>, TableError> {
        self.wrote.set(true);
        self.tx.open_table(def)
    }

    /// The raw transaction, for code that works on it directly (counted as a write).
    pub fn raw(&self) -> &WriteTransaction {
        self.wrote.set(true);
        &self.tx
    }
}

impl Tables for TrackedTx {
    type Table<'s, K: Key + 'static, V: Value + 'static> = redb::Table<'s, K, V>;
    /// For reads: does not count as a write (nothing in the store inserts through `open`).
    fn open<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Self::Table<'_, K, V>, StoreError> {
        Ok(self.tx.open_table(def)?)
    }
}

/// How a batch ended, for the callers waiting on it.
#[derive(Debug, Clone)]
enum BatchEnd {
    Committed,
    Failed(String),
    /// Aborted because another operation wrote and then failed: run again.
    Retry,
}

/// What one operation leaves for after its batch is durable: its events to publish and the
/// accounts it wrote (for the leaderboard index).
pub struct Publish {
    pub guild: GuildId,
    pub events: Vec<PendingEvent>,
    pub at: DateTime<Utc>,
    pub accounts: Vec<AccountFact>,
}

#[derive(Default)]
struct State {
    tx: Option<TrackedTx>,
    /// The id of the open batch (or of the last one).
    batch: u64,
    /// Operations applied in the open batch.
    ops: usize,
    /// Callers of the open batch waiting for its end.
    waiters: usize,
    /// What each applied operation publishes once the batch is durable, in order.
    publish: Vec<Publish>,
    /// Ends of finished batches not yet read by all their waiters: (end, waiters left).
    ended: HashMap<u64, (BatchEnd, usize)>,
    /// How many callers the last commit answered (its waiters and its committer), when it had
    /// waiters: they are likely to come straight back, so the next batch waits for them (at
    /// most `linger`) before committing. 0 after a lone caller's commit: no wait at all.
    expect: usize,
    /// How long the last commit took: the longest a batch waits for returning callers, since
    /// committing a smaller batch early would cost a whole commit anyway.
    linger: Duration,
    /// When the open batch's first operation was applied.
    opened: Option<Instant>,
}

/// Counters for the benchmark and `/metrics`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriterStats {
    pub commits: u64,
    pub operations: u64,
    pub retried: u64,
    /// Time spent in redb's commit (writing pages and the fsync), in microseconds.
    pub commit_micros: u64,
}

#[derive(Default)]
pub struct Writer {
    state: Mutex<State>,
    ended: Condvar,
    /// Callers queued for the state lock: while any are, the batch stays open for them.
    queued: AtomicUsize,
    commits: std::sync::atomic::AtomicU64,
    operations: std::sync::atomic::AtomicU64,
    retried: std::sync::atomic::AtomicU64,
    commit_micros: std::sync::atomic::AtomicU64,
}

/// What a caller does after applying its operation.
enum Next {
    Commit,
    /// A caller is queued behind: it (or the last of them) commits.
    Wait,
    /// Wait for returning callers until then, and commit if none of them did.
    Linger(Instant),
}

/// What one operation hands back: its answer, and what to publish after the commit.
pub struct Applied<T> {
    pub out: T,
    pub publish: Option<Publish>,
}

impl Writer {
    pub fn stats(&self) -> WriterStats {
        WriterStats {
            commits: self.commits.load(Ordering::Relaxed),
            operations: self.operations.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            commit_micros: self.commit_micros.load(Ordering::Relaxed),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.queued.fetch_sub(1, Ordering::SeqCst);
        st
    }

    /// Runs `op` in the shared transaction and returns once its batch is durable (or failed).
    pub fn run<T, E: From<StoreError>>(
        &self,
        db: &Database,
        after: (&EventBus, &Boards),
        mut op: impl FnMut(&TrackedTx) -> Result<Applied<T>, E>,
    ) -> Result<T, E> {
        loop {
            let mut st = self.lock();
            if st.tx.is_none() {
                let tx = db.begin_write().map_err(StoreError::from)?;
                st.tx = Some(TrackedTx {
                    tx,
                    wrote: Cell::new(false),
                });
                st.batch += 1;
                st.ops = 0;
                st.opened = Some(Instant::now());
            }
            let batch = st.batch;
            let res = {
                let Some(tx) = st.tx.as_ref() else {
                    unreachable!("a transaction was just opened")
                };
                tx.wrote.set(false);
                let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op(tx)));
                (res, tx.wrote.get())
            };
            match res {
                (Ok(Ok(applied)), _) => {
                    st.ops += 1;
                    self.operations.fetch_add(1, Ordering::Relaxed);
                    if let Some(p) = applied.publish {
                        st.publish.push(p);
                    }
                    let end = match self.decide(&st) {
                        Next::Commit => self.commit(&mut st, after),
                        Next::Wait => self.wait(st, batch, None, after),
                        Next::Linger(until) => self.wait(st, batch, Some(until), after),
                    };
                    match end {
                        BatchEnd::Committed => return Ok(applied.out),
                        BatchEnd::Failed(e) => return Err(StoreError::CommitFailed(e).into()),
                        BatchEnd::Retry => {
                            self.retried.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    }
                }
                (Ok(Err(e)), false) => {
                    // Refused before writing: the batch is as it was.
                    self.settle_after_refusal(st, after);
                    return Err(e);
                }
                (Ok(Err(e)), true) => {
                    self.abort(&mut st);
                    return Err(e);
                }
                (Err(panic), _) => {
                    self.abort(&mut st);
                    drop(st);
                    std::panic::resume_unwind(panic);
                }
            }
        }
    }

    /// Callers waiting for the state lock (tests line operations up with it).
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    fn should_commit(&self, st: &State) -> bool {
        st.ops >= MAX_BATCH || self.queued.load(Ordering::SeqCst) == 0
    }

    /// After an operation applied: commit now (batch full, or nobody queued and nobody
    /// expected back), leave it to a queued caller, or linger for the callers the last commit
    /// answered (they usually come straight back; a batch without them costs a whole commit).
    fn decide(&self, st: &State) -> Next {
        if st.ops >= MAX_BATCH {
            return Next::Commit;
        }
        if self.queued.load(Ordering::SeqCst) > 0 {
            return Next::Wait;
        }
        if st.ops >= st.expect {
            return Next::Commit;
        }
        let opened = st.opened.unwrap_or_else(Instant::now);
        let until = opened + st.linger.min(MAX_LINGER);
        if Instant::now() >= until {
            Next::Commit
        } else {
            Next::Linger(until)
        }
    }

    /// After a refusal that wrote nothing: commit what the batch holds if nobody else will,
    /// or drop an empty transaction nobody is coming for.
    fn settle_after_refusal(&self, mut st: MutexGuard<'_, State>, after: (&EventBus, &Boards)) {
        if !self.should_commit(&st) {
            return;
        }
        if st.ops > 0 {
            self.commit(&mut st, after);
        } else {
            st.tx = None;
        }
    }

    /// Commits the open batch (holding the lock: no new transaction can begin before it ends
    /// anyway), publishes its events in order and wakes its waiters.
    fn commit(&self, st: &mut State, (bus, boards): (&EventBus, &Boards)) -> BatchEnd {
        let Some(tx) = st.tx.take() else {
            return BatchEnd::Failed("no open transaction".into());
        };
        let started = Instant::now();
        let result = tx.tx.commit();
        st.linger = started.elapsed();
        self.commit_micros.fetch_add(
            u64::try_from(st.linger.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        // The committer and every waiter of this batch (each came back last time round).
        st.expect = if st.waiters > 0 { st.waiters + 1 } else { 0 };
        let end = match result {
            Ok(()) => {
                self.commits.fetch_add(1, Ordering::Relaxed);
                for p in st.publish.drain(..) {
                    boards.apply(p.guild, &p.accounts);
                    for e in p.events {
                        bus.publish(p.guild, e, p.at);
                    }
                }
                BatchEnd::Committed
            }
            Err(e) => {
                st.publish.clear();
                tracing::error!(error = %e, operations = st.ops, "a write transaction failed to commit");
                BatchEnd::Failed(e.to_string())
            }
        };
        self.end(st, end.clone());
        end
    }

    /// Drops the open batch (nothing in it is written) and sends its other callers round again.
    fn abort(&self, st: &mut State) {
        st.tx = None;
        st.publish.clear();
        self.end(st, BatchEnd::Retry);
    }

    fn end(&self, st: &mut State, end: BatchEnd) {
        if st.waiters > 0 {
            let batch = st.batch;
            st.ended.insert(batch, (end, st.waiters));
            st.waiters = 0;
            self.ended.notify_all();
        }
        st.ops = 0;
    }

    /// Leaves the batch open for the callers queued behind and waits for its end; with a
    /// deadline (lingering), commits the batch itself if it is still open by then.
    fn wait(
        &self,
        mut st: MutexGuard<'_, State>,
        batch: u64,
        mut until: Option<Instant>,
        after: (&EventBus, &Boards),
    ) -> BatchEnd {
        st.waiters += 1;
        loop {
            if let Some((end, left)) = st.ended.get_mut(&batch) {
                let end = end.clone();
                *left -= 1;
                if *left == 0 {
                    st.ended.remove(&batch);
                }
                return end;
            }
            match until {
                Some(t) if Instant::now() >= t => {
                    if st.batch == batch && st.tx.is_some() {
                        // Nobody came back in time: commit what the batch holds.
                        st.waiters -= 1;
                        return self.commit(&mut st, after);
                    }
                    until = None;
                }
                Some(t) => {
                    let left = t.saturating_duration_since(Instant::now());
                    st = self
                        .ended
                        .wait_timeout(st, left)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
                None => st = self.ended.wait(st).unwrap_or_else(|p| p.into_inner()),
            }
        }
    }
}

#[cfg(test)]
mod tests;
