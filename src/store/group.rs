//! Group commit: every write goes through one `Writer`. Callers queue their operation; one of
//! them at a time leads: it drains the queue (up to `MAX_BATCH`) into one redb write
//! transaction, runs each queued operation there in turn, commits once, and answers everyone in
//! the batch. Callers that arrive while a batch runs or commits queue for the next one, so a
//! batch holds everybody who was waiting; nobody hands the lock from thread to thread per
//! operation. Each operation still decides and applies on its own, and its caller is answered
//! only after the commit holding its writes is durable. A caller alone leads at once and
//! commits at once (no added wait, no other thread involved).
//!
//! A refused operation (its closure returns `Err`) that wrote nothing leaves its neighbours
//! alone and is answered at once. One that wrote before failing (or panicked) cannot be undone
//! inside the shared transaction (redb savepoints need a clean transaction), so the transaction
//! is dropped and the operations before it in the batch run again in a new one: closures are
//! `FnMut` for that reason. Services check before their first write, so this path is rare.
//!
//! The leader runs other callers' closures on its own thread while they are parked; `Job`
//! carries a type- and lifetime-erased pointer to each, valid because its owner does not return
//! before the leader marked it done (and never touches it again after that mark).

use std::any::Any;
use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::Thread;
use std::time::{Duration, Instant};

use redb::Database;

use chrono::{DateTime, Utc};

use super::leaderboard::{AccountFact, Boards};
use super::tracked::TrackedTx;
use super::StoreError;
use crate::domain::GuildId;
use crate::events::{EventBus, PendingEvent};

/// The most operations one commit holds; past it the batch commits even with callers waiting.
pub const MAX_BATCH: usize = 256;

/// The longest a batch waits for the callers the last commit answered to come back.
pub const MAX_LINGER: Duration = Duration::from_millis(1);

/// How a batch ended, for the callers in it.
#[derive(Debug, Clone)]
enum BatchEnd {
    Committed,
    Failed(String),
}

/// What one operation leaves for after its batch is durable: its events to publish and the
/// accounts it wrote (for the leaderboard index).
pub struct Publish {
    pub guild: GuildId,
    pub events: Vec<PendingEvent>,
    pub at: DateTime<Utc>,
    pub accounts: Vec<AccountFact>,
}

/// What one operation hands back: its answer, and what to publish after the commit.
pub struct Applied<T> {
    pub out: T,
    pub publish: Option<Publish>,
}

/// What running one queued operation did (its answer stays with its caller).
enum Ran {
    Applied(Option<Publish>),
    /// Refused without writing: answered at once, the batch carries on.
    Refused,
    /// Refused after writing, or panicked: the transaction must be dropped.
    Spoiled,
}

const PENDING: u8 = 0;
const DONE: u8 = 1;
/// The leader handed the lead to this caller.
const LEAD: u8 = 2;

type ErasedOp<'a> = dyn FnMut(&TrackedTx) -> Ran + Send + 'a;

/// One queued operation, on its caller's stack.
struct Job {
    /// Lifetime-erased: see the module comment.
    op: UnsafeCell<*mut ErasedOp<'static>>,
    status: AtomicU8,
    /// Set (before `DONE`) when the operation was part of a commit.
    end: Mutex<Option<BatchEnd>>,
    owner: Thread,
}

/// A queued job, shared with the leader.
#[derive(Clone, Copy)]
struct JobRef(NonNull<Job>);

// SAFETY: a `Job` is reached from another thread only while its owner is parked waiting for
// `DONE` (it stays alive until then), its closure is `Send`, and the leader runs it alone.
unsafe impl Send for JobRef {}

impl JobRef {
    fn job(&self) -> &Job {
        // SAFETY: see `JobRef`: alive until marked done, and only marked done once.
        unsafe { self.0.as_ref() }
    }

    fn run(&self, tx: &TrackedTx) -> Ran {
        // SAFETY: only the leader calls this, one job at a time, before the job is done.
        unsafe { (**self.job().op.get())(tx) }
    }

    /// Answers the job's caller. The job must not be touched afterwards.
    fn finish(self, end: Option<BatchEnd>) {
        let job = self.job();
        *job.end.lock().unwrap_or_else(|p| p.into_inner()) = end;
        let owner = job.owner.clone();
        job.status.store(DONE, Ordering::Release);
        owner.unpark();
    }

    fn hand_lead(self) {
        let job = self.job();
        let owner = job.owner.clone();
        job.status.store(LEAD, Ordering::Release);
        owner.unpark();
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<JobRef>,
    /// Someone is leading (or has been handed the lead and is waking up).
    leading: bool,
    /// The leader is waiting for callers to come back (new arrivals wake it).
    lingering: bool,
    /// How many callers the last commit answered, when more than one: they are likely to come
    /// straight back, so the next batch waits for them (at most `linger`) before committing.
    /// 0 after a lone caller's commit: no wait at all.
    expect: usize,
    /// How long the last commit took: the longest a batch waits for returning callers, since
    /// committing a smaller batch early would cost a whole commit anyway.
    linger: Duration,
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
    arrived: Condvar,
    /// Jobs queued and not yet taken into a batch (tests line operations up with it).
    queued: AtomicUsize,
    commits: AtomicU64,
    operations: AtomicU64,
    retried: AtomicU64,
    commit_micros: AtomicU64,
}

/// After taking what is queued: take more, wait for returning callers until then, or commit.
#[derive(Debug)]
enum Next {
    Commit,
    Linger(Instant),
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
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Callers queued and not yet in a batch (tests line operations up with it).
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// Runs `op` in a shared transaction and returns once its batch is durable (or failed).
    /// `op` may run on another caller's thread (the leader's) while this one waits.
    pub fn run<T: Send, E: From<StoreError> + Send>(
        &self,
        db: &Database,
        after: (&EventBus, &Boards),
        mut op: impl FnMut(&TrackedTx) -> Result<Applied<T>, E> + Send,
    ) -> Result<T, E> {
        let mut answer: Option<Result<T, E>> = None;
        let mut panic: Option<Box<dyn Any + Send>> = None;
        let mut erased = |tx: &TrackedTx| -> Ran {
            tx.start_operation();
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op(tx))) {
                Ok(Ok(applied)) => {
                    answer = Some(Ok(applied.out));
                    Ran::Applied(applied.publish)
                }
                Ok(Err(e)) => {
                    answer = Some(Err(e));
                    if tx.wrote() {
                        Ran::Spoiled
                    } else {
                        Ran::Refused
                    }
                }
                Err(p) => {
                    answer = None;
                    panic = Some(p);
                    Ran::Spoiled
                }
            }
        };
        let short: *mut ErasedOp<'_> = &mut erased;
        // SAFETY: only the pointer's lifetime changes; see the module comment for why the
        // closure outlives every use.
        let op_ptr: *mut ErasedOp<'static> = unsafe { std::mem::transmute(short) };
        let job = Job {
            op: UnsafeCell::new(op_ptr),
            status: AtomicU8::new(PENDING),
            end: Mutex::new(None),
            owner: std::thread::current(),
        };
        let me = JobRef(NonNull::from(&job));
        let lead = {
            let mut st = self.lock();
            st.queue.push_back(me);
            self.queued.fetch_add(1, Ordering::SeqCst);
            if st.lingering {
                self.arrived.notify_one();
            }
            !std::mem::replace(&mut st.leading, true)
        };
        let mut lead = lead;
        loop {
            if lead {
                self.lead_or_abort(db, after, &job);
            }
            match job.status.load(Ordering::Acquire) {
                DONE => break,
                LEAD => lead = true,
                _ => std::thread::park(),
            }
        }
        if let Some(p) = panic {
            std::panic::resume_unwind(p);
        }
        let end = job.end.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(BatchEnd::Failed(e)) = end {
            return Err(StoreError::CommitFailed(e).into());
        }
        answer.unwrap_or_else(|| {
            Err(StoreError::Invariant("a write finished without an answer".into()).into())
        })
    }

    /// `lead`, and an abort when the leader's own code panics (operations' panics are caught
    /// where they run): unwinding here would free jobs still queued or in the batch.
    fn lead_or_abort(&self, db: &Database, after: (&EventBus, &Boards), me: &Job) {
        let led =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.lead(db, after, me)));
        if led.is_err() {
            tracing::error!("the group-commit leader panicked; stopping");
            std::process::abort();
        }
    }

    /// Runs batches until `me` is answered, then hands the lead to the next queued caller (or
    /// gives it up when nobody is queued).
    fn lead(&self, db: &Database, after: (&EventBus, &Boards), me: &Job) {
        loop {
            self.batch(db, after);
            let mut st = self.lock();
            if me.status.load(Ordering::Acquire) != DONE {
                // More than a batch was queued ahead of us: lead the next one too.
                continue;
            }
            match st.queue.front() {
                Some(next) => next.hand_lead(),
                None => st.leading = false,
            }
            return;
        }
    }

    /// Takes up to `room` queued jobs.
    fn take(&self, room: usize) -> Vec<JobRef> {
        let mut st = self.lock();
        let n = room.min(st.queue.len());
        self.queued.fetch_sub(n, Ordering::SeqCst);
        st.queue.drain(..n).collect()
    }

    /// After the queue ran dry: commit now (batch full, or nobody expected back), or wait for
    /// the callers the last commit answered (they usually come straight back; a batch without
    /// them costs a whole commit) until the linger is over.
    fn decide(ops: usize, expect: usize, linger: Duration, opened: Instant) -> Next {
        if ops >= MAX_BATCH || ops >= expect {
            return Next::Commit;
        }
        let until = opened + linger.min(MAX_LINGER);
        if Instant::now() >= until {
            Next::Commit
        } else {
            Next::Linger(until)
        }
    }

    /// One batch: take what is queued (and what arrives meanwhile), run each, commit once,
    /// answer everyone.
    fn batch(&self, db: &Database, after: (&EventBus, &Boards)) {
        let (expect, linger) = {
            let st = self.lock();
            (st.expect, st.linger)
        };
        let opened = Instant::now();
        let mut tx: Option<TrackedTx> = None;
        let mut applied: Vec<JobRef> = Vec::new();
        let mut publish: Vec<Publish> = Vec::new();
        loop {
            let mut pending: VecDeque<JobRef> = self.take(MAX_BATCH - applied.len()).into();
            if pending.is_empty() {
                if applied.is_empty() {
                    return;
                }
                match Self::decide(applied.len(), expect, linger, opened) {
                    Next::Commit => break,
                    Next::Linger(until) => {
                        self.linger_until(until);
                        continue;
                    }
                }
            }
            while let Some(job) = pending.pop_front() {
                let t = match tx.take() {
                    Some(t) => t,
                    None => match db.begin_write() {
                        Ok(t) => TrackedTx::new(t),
                        Err(e) => {
                            let e = BatchEnd::Failed(e.to_string());
                            for j in applied.drain(..).chain([job]).chain(pending.drain(..)) {
                                j.finish(Some(e.clone()));
                            }
                            return;
                        }
                    },
                };
                match job.run(&t) {
                    Ran::Applied(p) => {
                        tx = Some(t);
                        applied.push(job);
                        publish.extend(p);
                    }
                    Ran::Refused => {
                        tx = Some(t);
                        job.finish(None);
                    }
                    Ran::Spoiled => {
                        // Dropping the transaction undoes everything in it: run the others again.
                        drop(t);
                        job.finish(None);
                        publish.clear();
                        self.retried
                            .fetch_add(applied.len() as u64, Ordering::Relaxed);
                        for j in applied.drain(..).rev() {
                            pending.push_front(j);
                        }
                    }
                }
            }
            if applied.len() >= MAX_BATCH {
                break;
            }
        }
        match tx {
            Some(t) => self.commit(t, applied, publish, after),
            None => {
                // Only refusals: nothing to commit (their callers have their answers).
                debug_assert!(applied.is_empty());
            }
        }
    }

    /// Waits for a new caller (or until `until`).
    fn linger_until(&self, until: Instant) {
        let mut st = self.lock();
        if !st.queue.is_empty() {
            return;
        }
        st.lingering = true;
        let left = until.saturating_duration_since(Instant::now());
        let (mut st, _) = self
            .arrived
            .wait_timeout(st, left)
            .unwrap_or_else(|p| p.into_inner());
        st.lingering = false;
    }

    /// Commits the batch, applies it to the leaderboard index, publishes its events in order
    /// and answers its callers.
    fn commit(
        &self,
        t: TrackedTx,
        applied: Vec<JobRef>,
        publish: Vec<Publish>,
        (bus, boards): (&EventBus, &Boards),
    ) {
        let started = Instant::now();
        let result = t
            .into_inner()
            .map_err(|e| e.to_string())
            .and_then(|tx| tx.commit().map_err(|e| e.to_string()));
        let took = started.elapsed();
        crate::metrics::global().commit(took);
        self.commit_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        {
            let mut st = self.lock();
            st.linger = took;
            st.expect = if applied.len() > 1 { applied.len() } else { 0 };
        }
        let end = match result {
            Ok(()) => {
                self.commits.fetch_add(1, Ordering::Relaxed);
                self.operations
                    .fetch_add(applied.len() as u64, Ordering::Relaxed);
                for p in publish {
                    boards.apply(p.guild, &p.accounts);
                    for e in p.events {
                        bus.publish(p.guild, e, p.at);
                    }
                }
                BatchEnd::Committed
            }
            Err(e) => {
                tracing::error!(error = %e, operations = applied.len(), "a write transaction failed to commit");
                BatchEnd::Failed(e.to_string())
            }
        };
        for j in applied {
            j.finish(Some(end.clone()));
        }
    }
}

#[cfg(test)]
mod tests;
