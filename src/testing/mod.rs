//! Test helpers: a store on a temp file with a settable clock.

mod invariants;
mod layers;

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};

use crate::clock::ManualClock;
use crate::domain::GuildConfig;
use crate::store::{Store, StoreOptions};

pub struct TestStore {
    pub store: Store,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("valid time")
}

pub fn store_with(defaults: GuildConfig) -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(t0());
    let store = Store::open(
        &dir.path().join("coffer.redb"),
        clock.clone(),
        StoreOptions {
            defaults,
            event_buffer: 4096,
            ..StoreOptions::default()
        },
    )
    .expect("open store");
    TestStore { store, clock, dir }
}

/// Defaults with the rate limit off, so tests that are not about it can run many ops.
pub fn store() -> TestStore {
    store_with(GuildConfig {
        rate_limit_per_minute: 0,
        ..GuildConfig::default()
    })
}

/// Every service over a fresh test store (rate limit off). Keep the `TestStore`: it owns the
/// temp dir and the settable clock.
pub fn services() -> (TestStore, crate::services::Services) {
    let ts = store();
    let services = crate::services::Services::new(ts.store.clone(), false);
    (ts, services)
}

/// An idempotency key for tests, its fingerprint derived from the key.
pub fn key(k: &str) -> crate::domain::IdemKey {
    crate::domain::IdemKey::new(k, format!("input of {k}")).expect("valid key")
}

/// `guild`'s audit log, newest first.
pub fn audit_log(
    ts: &TestStore,
    guild: crate::domain::GuildId,
) -> Vec<crate::store::audit::AuditEntry> {
    let mut out = Vec::new();
    ts.store
        .read(guild, |r| {
            r.scan_audit(|e| -> Result<bool, crate::store::StoreError> {
                out.push(e);
                Ok(true)
            })
        })
        .expect("read the audit log");
    out
}

/// The actions of `guild`'s audit log, newest first.
pub fn audit_actions(ts: &TestStore, guild: crate::domain::GuildId) -> Vec<String> {
    audit_log(ts, guild).into_iter().map(|e| e.action).collect()
}

/// Sends this thread's log events to `logs` until the guard is dropped. First installs, once
/// per test process, a global subscriber that takes every event and keeps nothing: tracing
/// caches per callsite whether anyone listens, and a callsite first reached by a test thread
/// without a subscriber was otherwise cached as "never" for the whole process, so another
/// test's captured warnings went missing now and then.
pub fn capture_logs(
    logs: &Arc<crate::telemetry::logbuf::LogBuffer>,
) -> tracing::subscriber::DefaultGuard {
    use tracing_subscriber::layer::SubscriberExt;
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(logs.layer()));
    tracing::callsite::rebuild_interest_cache();
    guard
}
