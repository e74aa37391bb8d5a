//! Group commit: batching, and what a refused or failing operation does to its neighbours.
//! Operations are lined up deterministically: the first one holds the batch open (inside its
//! closure) until the others are queued behind it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::domain::{DomainError, GuildId};
use crate::store::{Store, StoreError};
use crate::testing;

const G: GuildId = GuildId(7);

fn counter(store: &Store, name: &str) -> u64 {
    store.read(G, |r| r.seq_value(name)).unwrap()
}

/// Waits (inside the first operation's closure) until `n` callers queue behind it.
fn hold_until_queued(store: &Store, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.writer().queued() < n {
        assert!(Instant::now() < deadline, "the other callers never queued");
        std::thread::sleep(Duration::from_millis(1));
    }
    // Give a queued caller's arrival a moment to settle (it is counted as it queues).
    std::thread::sleep(Duration::from_millis(20));
}

#[test]
fn concurrent_writers_share_commits_and_every_write_lands_once() {
    let ts = testing::store();
    let store = ts.store.clone();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    store.write(G, |w| w.next_id("n")).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(counter(&store, "n"), 800);
    let stats = store.writer_stats();
    assert_eq!(stats.operations, 800);
    assert!(stats.commits < 800, "no batching at all: {stats:?}");
    assert_eq!(stats.retried, 0);
}

#[test]
fn a_refusal_that_wrote_nothing_leaves_its_batch_alone() {
    let ts = testing::store();
    let store = ts.store.clone();
    let before = store.writer_stats();
    let inside = Arc::new(AtomicU32::new(0));
    let first = {
        let (store, inside) = (store.clone(), inside.clone());
        std::thread::spawn(move || {
            store.write(G, |w| {
                inside.fetch_add(1, Ordering::SeqCst);
                hold_until_queued(&store, 2);
                w.next_id("a")
            })
        })
    };
    while inside.load(Ordering::SeqCst) == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let refused = {
        let store = store.clone();
        std::thread::spawn(move || {
            store.write(G, |w| {
                let _ = w.guild_config()?; // a read
                Err::<(), _>(StoreError::Refused(DomainError::Refused("no".into())))
            })
        })
    };
    let third = {
        let store = store.clone();
        std::thread::spawn(move || store.write(G, |w| w.next_id("c")))
    };
    assert_eq!(first.join().unwrap().unwrap(), 1);
    assert!(refused.join().unwrap().is_err());
    assert_eq!(third.join().unwrap().unwrap(), 1);
    assert_eq!((counter(&store, "a"), counter(&store, "c")), (1, 1));
    let stats = store.writer_stats();
    assert_eq!(stats.retried, before.retried, "nobody ran twice");
    assert_eq!(inside.load(Ordering::SeqCst), 1);
    assert_eq!(
        stats.commits - before.commits,
        1,
        "one commit for the batch: {stats:?}"
    );
}

#[test]
fn an_operation_that_fails_after_writing_is_undone_and_its_neighbours_run_again() {
    let ts = testing::store();
    let store = ts.store.clone();
    let runs = Arc::new(AtomicU32::new(0));
    let first = {
        let (store, runs) = (store.clone(), runs.clone());
        std::thread::spawn(move || {
            store.write(G, |w| {
                if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                    hold_until_queued(&store, 1);
                }
                w.next_id("a")
            })
        })
    };
    while runs.load(Ordering::SeqCst) == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let failing = {
        let store = store.clone();
        std::thread::spawn(move || {
            store.write(G, |w| {
                w.next_id("b")?;
                Err::<(), _>(StoreError::Refused(DomainError::Refused("late".into())))
            })
        })
    };
    assert!(failing.join().unwrap().is_err());
    assert_eq!(
        first.join().unwrap().unwrap(),
        1,
        "the re-run sees a clean store"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2, "the neighbour ran again");
    assert_eq!(counter(&store, "a"), 1);
    assert_eq!(
        counter(&store, "b"),
        0,
        "the failed operation's write is gone"
    );
    assert_eq!(store.writer_stats().retried, 1);
}

#[test]
fn a_panicking_operation_is_undone_and_the_writer_keeps_working() {
    let ts = testing::store();
    let store = ts.store.clone();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = store.write(G, |w| {
            w.next_id("p")?;
            if w.now.timestamp() != 0 {
                panic!("boom");
            }
            Ok::<_, StoreError>(())
        });
    }));
    assert!(panicked.is_err());
    assert_eq!(counter(&store, "p"), 0);
    assert_eq!(store.write(G, |w| w.next_id("p")).unwrap(), 1);
}

/// The batching rule on its own: once the queue is dry, commit at once when nobody is expected
/// back; otherwise wait for the callers the last commit answered, but never past the linger.
#[test]
fn a_batch_waits_for_returning_callers_only_within_the_linger() {
    use super::{Next, Writer, MAX_BATCH};
    let now = Instant::now();
    let linger = Duration::from_millis(5);
    let decide = |ops, expect, opened| Writer::decide(ops, expect, linger, opened);
    // A lone caller (the last commit answered nobody else): commits at once.
    assert!(matches!(decide(1, 0, now), Next::Commit));
    // Eight came back last time; two are in: linger, at most the (capped) linger.
    match decide(2, 8, now) {
        Next::Linger(until) => assert!(until <= now + super::MAX_LINGER),
        other => panic!("expected to linger, got {other:?}"),
    }
    // All of them are in: commit.
    assert!(matches!(decide(8, 8, now), Next::Commit));
    // The window has passed: commit what there is.
    let long_ago = now - Duration::from_millis(50);
    assert!(matches!(decide(2, 8, long_ago), Next::Commit));
    // A full batch commits whatever else is true.
    assert!(matches!(
        decide(MAX_BATCH, MAX_BATCH + 10, now),
        Next::Commit
    ));
}

/// Callers in a loop come back after each commit: once one batch answered several, the next
/// ones hold several too (each answered only after its commit, every write once).
#[test]
fn callers_in_a_loop_are_batched_together() {
    let ts = testing::store();
    let store = ts.store.clone();
    let before = store.writer_stats();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    store.write(G, |w| w.next_id("loop")).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = store.writer_stats();
    assert_eq!(counter(&store, "loop"), 800);
    assert_eq!(s.operations - before.operations, 800);
    assert!(
        s.commits - before.commits < 800,
        "no batching at all: {s:?}"
    );
}
