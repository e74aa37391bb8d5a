//! Change events: every commit publishes one `Event` on a broadcast bus. Events are hints
//! (listeners re-read the store). A bounded replay buffer serves SSE `Last-Event-ID` resumes;
//! a slow subscriber is told it lagged and never blocks a writer.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::domain::GuildId;

/// What changed. Past tense; `ids` on the event name the objects (user, transaction, item...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    AccountCreated,
    BalanceChanged,
    DailyClaimed,
    TransferCompleted,
    TransactionReversed,
    AccountsDeactivated,
    AccountReactivated,
    TransactionsArchived,
    ConfigUpdated,
    GuildUpdated,
    ItemCreated,
    ItemUpdated,
    ItemDeleted,
    ItemBought,
    StockChanged,
    InventoryChanged,
    TaskCreated,
    TaskUpdated,
    TaskDeleted,
    TaskClaimed,
    ClaimSubmitted,
    ClaimAccepted,
    ClaimRejected,
    ClaimsExpired,
    RoleGrantRecorded,
    /// A DM owed to a member was recorded or its outcome stored.
    NoticeRecorded,
    AnnouncementCreated,
    AnnouncementUpdated,
    AnnouncementDeleted,
    EmbedChanged,
    CustomCommandChanged,
    SyncChanged,
    /// Instance-wide (published on guild 0): the bot's presence was changed on the dashboard.
    BotStatusChanged,
    /// Instance-wide (guild 0): an admin asked for a restart; the Discord side acts on it.
    RestartRequested,
    Test,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        // serde's snake_case name, without allocating (a test keeps the two in step).
        macro_rules! names {
            ($($v:ident => $s:literal),* $(,)?) => {
                match self { $(EventKind::$v => $s),* }
            };
        }
        names!(
            AccountCreated => "account_created", BalanceChanged => "balance_changed",
            DailyClaimed => "daily_claimed", TransferCompleted => "transfer_completed",
            TransactionReversed => "transaction_reversed", AccountsDeactivated => "accounts_deactivated",
            AccountReactivated => "account_reactivated", TransactionsArchived => "transactions_archived",
            ConfigUpdated => "config_updated", GuildUpdated => "guild_updated",
            ItemCreated => "item_created", ItemUpdated => "item_updated", ItemDeleted => "item_deleted",
            ItemBought => "item_bought", StockChanged => "stock_changed",
            InventoryChanged => "inventory_changed", TaskCreated => "task_created",
            TaskUpdated => "task_updated", TaskDeleted => "task_deleted", TaskClaimed => "task_claimed",
            ClaimSubmitted => "claim_submitted", ClaimAccepted => "claim_accepted",
            ClaimRejected => "claim_rejected", ClaimsExpired => "claims_expired",
            RoleGrantRecorded => "role_grant_recorded", NoticeRecorded => "notice_recorded", AnnouncementCreated => "announcement_created",
            AnnouncementUpdated => "announcement_updated", AnnouncementDeleted => "announcement_deleted",
            EmbedChanged => "embed_changed", CustomCommandChanged => "custom_command_changed",
            SyncChanged => "sync_changed", BotStatusChanged => "bot_status_changed",
            RestartRequested => "restart_requested", Test => "test",
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Increasing across the process's life and (being seeded from the wall clock) across restarts.
    pub seq: u64,
    pub guild: GuildId,
    pub kind: EventKind,
    pub ids: Vec<String>,
    pub at: DateTime<Utc>,
}

/// An event before the bus numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvent {
    pub kind: EventKind,
    pub ids: Vec<String>,
}

/// Which events a subscriber wants; empty sets mean "all".
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub guilds: HashSet<GuildId>,
    pub kinds: HashSet<EventKind>,
}

impl EventFilter {
    pub fn matches(&self, e: &Event) -> bool {
        (self.guilds.is_empty() || self.guilds.contains(&e.guild))
            && (self.kinds.is_empty() || self.kinds.contains(&e.kind))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// Every event after the given seq, in order.
    Events(Vec<Event>),
    /// The given seq is older than the buffer holds: the client must re-read everything.
    TooOld,
}

#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    tx: broadcast::Sender<Event>,
    state: Mutex<State>,
    /// Flips to true at shutdown: every subscription then ends (long-lived SSE streams too).
    closed: tokio::sync::watch::Sender<bool>,
}

struct State {
    next_seq: u64,
    replay: VecDeque<Event>,
    capacity: usize,
}

impl EventBus {
    /// `capacity` bounds both the replay buffer and how far a live subscriber may fall behind.
    pub fn new(capacity: usize) -> EventBus {
        let capacity = capacity.max(1);
        let (tx, _) = broadcast::channel(capacity);
        let seed = u64::try_from(Utc::now().timestamp_millis())
            .unwrap_or(1)
            .max(1)
            * 1000;
        EventBus {
            inner: Arc::new(Inner {
                tx,
                closed: tokio::sync::watch::Sender::new(false),
                state: Mutex::new(State {
                    next_seq: seed,
                    replay: VecDeque::with_capacity(capacity),
                    capacity,
                }),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Numbers and sends an event. Never blocks on subscribers.
    pub fn publish(&self, guild: GuildId, pending: PendingEvent, at: DateTime<Utc>) -> Event {
        let mut st = self.state();
        let event = Event {
            seq: st.next_seq,
            guild,
            kind: pending.kind,
            ids: pending.ids,
            at,
        };
        st.next_seq += 1;
        crate::metrics::global().event_published();
        if st.replay.len() == st.capacity {
            st.replay.pop_front();
        }
        st.replay.push_back(event.clone());
        // Sent under the lock so that seq order == delivery order; `send` fails only when
        // nobody listens, which is fine.
        let _ = self.inner.tx.send(event.clone());
        event
    }

    /// A live subscription from now on.
    pub fn subscribe(&self, filter: EventFilter) -> Subscription {
        let _st = self.state();
        Subscription {
            rx: self.inner.tx.subscribe(),
            closed: self.inner.closed.subscribe(),
            filter,
        }
    }

    /// Ends every subscription (now and later) with `RecvError::Closed`: called at shutdown so
    /// that endless listeners such as SSE streams finish and the server can stop.
    pub fn close(&self) {
        self.inner.closed.send_replace(true);
    }

    /// Atomically: the buffered events after `last_seq` that match, and a subscription that
    /// continues exactly after them (no gap, no duplicate).
    pub fn resume(&self, last_seq: u64, filter: EventFilter) -> (Replay, Subscription) {
        let st = self.state();
        let rx = self.inner.tx.subscribe();
        let replay = match st.replay.front() {
            Some(first) if first.seq > last_seq.saturating_add(1) => Replay::TooOld,
            None if last_seq.saturating_add(1) < st.next_seq => Replay::TooOld,
            _ => Replay::Events(
                st.replay
                    .iter()
                    .filter(|e| e.seq > last_seq && filter.matches(e))
                    .cloned()
                    .collect(),
            ),
        };
        (
            replay,
            Subscription {
                rx,
                closed: self.inner.closed.subscribe(),
                filter,
            },
        )
    }

    /// The seq the next event will get.
    pub fn next_seq(&self) -> u64 {
        self.state().next_seq
    }
}

pub struct Subscription {
    rx: broadcast::Receiver<Event>,
    closed: tokio::sync::watch::Receiver<bool>,
    filter: EventFilter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// The subscriber fell behind by this many events; it should resync.
    Lagged(u64),
    Closed,
}

impl Subscription {
    /// The next matching event.
    pub async fn recv(&mut self) -> Result<Event, RecvError> {
        loop {
            if *self.closed.borrow() {
                return Err(RecvError::Closed);
            }
            let next = tokio::select! {
                biased;
                _ = self.closed.changed() => continue,
                r = self.rx.recv() => r,
            };
            match next {
                Ok(e) if self.filter.matches(&e) => return Ok(e),
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(n)) => return Err(RecvError::Lagged(n)),
                Err(broadcast::error::RecvError::Closed) => return Err(RecvError::Closed),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind) -> PendingEvent {
        PendingEvent {
            kind,
            ids: vec!["1".into()],
        }
    }

    #[tokio::test]
    async fn subscribers_filter_by_guild_and_kind() {
        let bus = EventBus::new(16);
        let mut sub = bus.subscribe(EventFilter {
            guilds: [GuildId(2)].into(),
            kinds: [EventKind::DailyClaimed].into(),
        });
        bus.publish(GuildId(1), ev(EventKind::DailyClaimed), Utc::now());
        bus.publish(GuildId(2), ev(EventKind::BalanceChanged), Utc::now());
        let want = bus.publish(GuildId(2), ev(EventKind::DailyClaimed), Utc::now());
        assert_eq!(sub.recv().await.unwrap(), want);
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_it_lagged_and_writers_never_block() {
        let bus = EventBus::new(4);
        let mut sub = bus.subscribe(EventFilter::default());
        for _ in 0..10 {
            bus.publish(GuildId(1), ev(EventKind::Test), Utc::now());
        }
        assert_eq!(sub.recv().await, Err(RecvError::Lagged(6)));
    }

    #[tokio::test]
    async fn resume_replays_exactly_the_missed_events_then_continues() {
        let bus = EventBus::new(8);
        let first = bus.publish(GuildId(1), ev(EventKind::Test), Utc::now());
        let second = bus.publish(GuildId(1), ev(EventKind::Test), Utc::now());
        let third = bus.publish(GuildId(1), ev(EventKind::Test), Utc::now());
        let (replay, mut sub) = bus.resume(first.seq, EventFilter::default());
        assert_eq!(replay, Replay::Events(vec![second, third]));
        let fourth = bus.publish(GuildId(1), ev(EventKind::Test), Utc::now());
        assert_eq!(sub.recv().await.unwrap(), fourth);
    }

    #[tokio::test]
    async fn resume_from_before_the_buffer_asks_for_a_resync() {
        let bus = EventBus::new(2);
        let first = bus.publish(GuildId(1), ev(EventKind::Test), Utc::now());
        for _ in 0..3 {
            bus.publish(GuildId(1), ev(EventKind::Test), Utc::now());
        }
        let (replay, _sub) = bus.resume(first.seq, EventFilter::default());
        assert_eq!(replay, Replay::TooOld);
    }

    #[tokio::test]
    async fn closing_the_bus_ends_every_subscription() {
        let bus = EventBus::new(4);
        let mut sub = bus.subscribe(EventFilter::default());
        let waiter = tokio::spawn(async move { sub.recv().await });
        tokio::task::yield_now().await;
        bus.close();
        let got = tokio::time::timeout(std::time::Duration::from_secs(1), waiter)
            .await
            .expect("recv returned")
            .unwrap();
        assert_eq!(got, Err(RecvError::Closed));
        let mut late = bus.subscribe(EventFilter::default());
        assert_eq!(late.recv().await, Err(RecvError::Closed));
    }

    #[test]
    fn kind_names_match_serde() {
        for k in [
            EventKind::ItemBought,
            EventKind::ClaimsExpired,
            EventKind::Test,
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
