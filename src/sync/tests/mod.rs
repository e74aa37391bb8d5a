//! The reconciler against the scripted fake Discord, in paused tokio time: every error rule,
//! a lost create, a drained queue of 1,000 edits, and a restart in the middle of a queue.

pub(super) mod fake;
mod grants;
mod notices;
mod rules;

use std::sync::Arc;
use std::time::Duration;

use fake::FakeDiscord;

use super::{spawn, SyncHandle, SyncOptions};
use crate::domain::shop::{ItemInput, ItemPatch};
use crate::domain::{Actor, ChannelId, GuildConfig, GuildId, OpMeta};
use crate::guild::{SyncKind, SyncRecord, SyncState};
use crate::services::Services;
use crate::testing::{self, TestStore};

pub const G: GuildId = GuildId(7);
pub const SHOP: ChannelId = ChannelId(500);
pub const TASKS: ChannelId = ChannelId(600);

pub struct Harness {
    pub ts: TestStore,
    pub services: Services,
    pub api: Arc<FakeDiscord>,
    pub sync: Option<SyncHandle>,
}

pub fn admin() -> OpMeta {
    Actor::Cli.into()
}

impl Harness {
    pub fn new() -> Harness {
        let ts = testing::store_with(GuildConfig {
            rate_limit_per_minute: 0,
            shop_channel_id: Some(SHOP),
            task_channel_id: Some(TASKS),
            ..GuildConfig::default()
        });
        let services = Services::new(ts.store.clone(), true);
        Harness {
            ts,
            services,
            api: Arc::new(FakeDiscord::default()),
            sync: None,
        }
    }

    pub fn start(&mut self) {
        let opts = SyncOptions {
            full_pass_every: Duration::from_secs(600),
            request_timeout: Duration::from_secs(10),
        };
        self.sync = Some(spawn(self.services.clone(), self.api.clone(), opts));
    }

    pub async fn stop(&mut self) {
        if let Some(s) = self.sync.take() {
            s.stop().await;
        }
    }

    pub fn item(&self, name: &str) -> u64 {
        let mut input = ItemInput::new(name, 10);
        input.stock = 5;
        self.services
            .shop
            .create_item(G, input, &admin())
            .unwrap()
            .id
    }

    pub fn edit_item(&self, id: u64, patch: ItemPatch) {
        self.services
            .shop
            .edit_item(G, id, patch, &admin())
            .unwrap();
    }

    pub fn record(&self, kind: SyncKind, id: u64) -> Option<SyncRecord> {
        self.services.guilds.sync_record(G, kind, id).unwrap()
    }

    /// Waits, pass by pass (paused time, so no real waiting), until `done` holds. A safety
    /// net of a virtual day turns a hang into a failure.
    pub async fn until(&self, what: &str, mut done: impl FnMut(&Harness) -> bool) {
        let mut passes = self.sync.as_ref().expect("started").passes();
        let wait = async {
            while !done(self) {
                passes.changed().await.expect("sync loop alive");
            }
        };
        tokio::time::timeout(Duration::from_secs(86_400), wait)
            .await
            .unwrap_or_else(|_| panic!("timed out waiting until {what}"));
    }

    pub async fn until_state(&self, kind: SyncKind, id: u64, state: SyncState) -> SyncRecord {
        self.until(&format!("{kind:?} {id} is {state:?}"), |h| {
            h.record(kind, id).is_some_and(|r| r.state == state)
        })
        .await;
        self.record(kind, id).expect("record")
    }

    /// Lets the loop run idle for `d` of virtual time.
    pub async fn idle(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_lost_create_response_is_retried_without_a_second_message() {
    let mut h = Harness::new();
    h.api.lose_next_create();
    let id = h.item("Cape");
    h.start();
    let r = h
        .until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    assert_eq!(h.api.count(fake::Op::Create), 2, "retried once");
    assert_eq!(h.api.messages(SHOP).len(), 1, "one message in the channel");
    assert_eq!(h.api.messages(SHOP).keys().next().copied(), r.message_id);
    let nonces: Vec<_> = h.api.calls().into_iter().filter_map(|c| c.nonce).collect();
    assert_eq!(nonces[0], nonces[1], "the retry carries the same nonce");
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_thousand_queued_edits_drain_with_exactly_one_call_each() {
    let mut h = Harness::new();
    let ids: Vec<u64> = (0..1000).map(|i| h.item(&format!("Item {i}"))).collect();
    h.start();
    h.until("every item is posted", |h| {
        h.services.guilds.sync_backlog().unwrap().is_empty()
    })
    .await;
    assert_eq!(h.api.count(fake::Op::Create), 1000);
    h.stop().await;
    // Two edits each while the loop is down: only the latest needs showing.
    for &id in &ids {
        for price in [20, 30] {
            h.edit_item(
                id,
                ItemPatch {
                    price: Some(price),
                    ..ItemPatch::default()
                },
            );
        }
    }
    h.start();
    h.until("every edit is shown", |h| {
        h.services.guilds.sync_backlog().unwrap().is_empty()
    })
    .await;
    assert_eq!(h.api.count(fake::Op::Edit), 1000, "one edit per object");
    assert_eq!(h.api.count(fake::Op::Create), 1000, "nothing posted again");
    for &id in &ids {
        let r = h.record(SyncKind::ShopItem, id).unwrap();
        assert_eq!(
            (r.state, r.synced_version),
            (SyncState::Synced, r.desired_version)
        );
    }
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_restart_in_the_middle_of_a_queue_loses_nothing_and_repeats_nothing() {
    let mut h = Harness::new();
    let ids: Vec<u64> = (0..200).map(|i| h.item(&format!("Item {i}"))).collect();
    h.start();
    let mut made = h.api.calls_made();
    made.wait_for(|n| *n >= 50).await.unwrap();
    h.stop().await;
    let before = h.api.count(fake::Op::Create);
    assert!(before < 200, "stopped mid-queue ({before})");
    h.start();
    h.until("every item is posted", |h| {
        h.services.guilds.sync_backlog().unwrap().is_empty()
    })
    .await;
    assert_eq!(h.api.count(fake::Op::Create), 200, "no create repeated");
    assert_eq!(h.api.messages(SHOP).len(), 200);
    for &id in &ids {
        let r = h.record(SyncKind::ShopItem, id).unwrap();
        assert_eq!(r.state, SyncState::Synced);
        assert!(h.api.message(SHOP, r.message_id.unwrap()).is_some());
    }
    h.stop().await;
}

#[test]
fn nonces_fit_discords_limit_and_differ_per_version() {
    use super::calls::nonce;
    assert_eq!(nonce(SyncKind::ShopItem, 12, 3), "s12v3");
    assert_ne!(nonce(SyncKind::Task, 12, 3), nonce(SyncKind::Task, 12, 4));
    assert!(nonce(SyncKind::Embed, u64::MAX, u64::MAX).len() <= 25);
    assert_ne!(
        nonce(SyncKind::Embed, u64::MAX, 1),
        nonce(SyncKind::Embed, u64::MAX, 2)
    );
}

#[test]
fn the_invalid_response_budget_pauses_calls_until_the_window_rolls() {
    use super::calls::{InvalidBudget, INVALID_BUDGET, INVALID_WINDOW};
    let start = tokio::time::Instant::now();
    let mut b = InvalidBudget::default();
    for _ in 0..INVALID_BUDGET - 1 {
        b.record(start);
    }
    assert_eq!(b.blocked_until(start), None);
    b.record(start);
    assert_eq!(b.blocked_until(start), Some(start + INVALID_WINDOW));
    assert_eq!(
        b.blocked_until(start + INVALID_WINDOW),
        None,
        "the window rolled"
    );
}

#[tokio::test(start_paused = true)]
async fn a_change_committed_during_a_create_is_not_overwritten_and_is_shown_next() {
    let mut h = Harness::new();
    let id = h.item("Cape");
    let shop = h.services.shop.clone();
    h.api.during_next_create(move || {
        let patch = ItemPatch {
            price: Some(77),
            ..ItemPatch::default()
        };
        shop.edit_item(G, id, patch, &admin()).unwrap();
    });
    h.start();
    h.until("the newer version is shown", |h| {
        h.record(SyncKind::ShopItem, id)
            .is_some_and(|r| r.state == SyncState::Synced && r.synced_version == 2)
    })
    .await;
    assert_eq!(
        h.api.count(fake::Op::Create),
        1,
        "the first create's message id was kept"
    );
    assert_eq!(
        h.api.count(fake::Op::Edit),
        1,
        "then the newer version was edited in"
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_lost_create_followed_by_a_new_version_still_posts_only_once() {
    let mut h = Harness::new();
    let id = h.item("Cape");
    let shop = h.services.shop.clone();
    h.api.lose_next_create();
    h.api.during_next_create(move || {
        let patch = ItemPatch {
            price: Some(77),
            ..ItemPatch::default()
        };
        shop.edit_item(G, id, patch, &admin()).unwrap();
    });
    h.start();
    h.until("the newer version is shown", |h| {
        h.record(SyncKind::ShopItem, id)
            .is_some_and(|r| r.state == SyncState::Synced && r.synced_version == 2)
    })
    .await;
    let messages = h.api.messages(SHOP);
    assert_eq!(
        messages.len(),
        1,
        "one message, although the version changed meanwhile"
    );
    let nonces: Vec<_> = h.api.calls().into_iter().filter_map(|c| c.nonce).collect();
    assert_eq!(nonces, vec!["s1v1".to_owned(), "s1v1".to_owned()]);
    let body = &messages.values().next().unwrap().body;
    assert!(body.to_string().contains("77"), "{body}");
    let r = h.record(SyncKind::ShopItem, id).unwrap();
    assert_eq!(r.unanswered_create, None);
    h.stop().await;
}
