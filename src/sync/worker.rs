//! The loop: wakes on outbox and role-grant events, on a timer for the earliest due record,
//! and every `full_pass_every`; each pass renders, plans and applies every due record through
//! `DiscordApi`, records the outcome through `Guilds::finish_sync`, then works the pending role
//! grants. Channels that fail are parked for the pass; invalid responses have a budget.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::Instant;

use super::api::{ApiError, DiscordApi};
use super::calls::{edit_body, nonce, InvalidBudget};
use super::plan::{plan, Action, Desired, Target};
use super::policy::{self, Call, Verdict};
use super::{render, SyncOptions};
use crate::domain::{ChannelId, GuildId, MessageId};
use crate::events::{EventFilter, EventKind, Subscription};
use crate::guild::{MessageFact, SyncOutcome, SyncRecord, SyncVerdict};
use crate::services::{blocking, Services};

pub(super) struct Worker<A> {
    pub(super) services: Services,
    pub(super) api: Arc<A>,
    pub(super) opts: SyncOptions,
    /// The store clock at start and the tokio instant then: `now` follows whichever is ahead,
    /// so paused tokio time in tests moves the worker's notion of "due" too.
    pub(super) anchor: (DateTime<Utc>, Instant),
    pub(super) paused_until: Option<Instant>,
    pub(super) invalid: InvalidBudget,
    pub(super) parked: HashMap<ChannelId, Verdict>,
    /// Servers parked for the pass (a server-wide failure, or too many failing channels),
    /// with the channels of each that failed.
    pub(super) parked_guilds: HashMap<GuildId, Verdict>,
    pub(super) failing_channels: HashMap<GuildId, std::collections::HashSet<ChannelId>>,
    /// Servers Coffer has left, as found this pass (their records wait for a rejoin).
    pub(super) left: HashMap<GuildId, bool>,
    /// The server of the record being worked.
    pub(super) guild: GuildId,
    pub(super) passes: watch::Sender<u64>,
    pub(super) stop: watch::Receiver<bool>,
}

impl<A: DiscordApi> Worker<A> {
    pub(super) fn new(
        services: Services,
        api: Arc<A>,
        opts: SyncOptions,
        stop: watch::Receiver<bool>,
    ) -> (Self, watch::Receiver<u64>) {
        let (passes, rx) = watch::channel(0);
        let anchor = (services.now(), Instant::now());
        let w = Worker {
            services,
            api,
            opts,
            anchor,
            paused_until: None,
            invalid: InvalidBudget::default(),
            parked: HashMap::new(),
            parked_guilds: HashMap::new(),
            failing_channels: HashMap::new(),
            left: HashMap::new(),
            guild: GuildId(0),
            passes,
            stop,
        };
        (w, rx)
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.anchor.1.elapsed()).unwrap_or_default();
        self.services.now().max(self.anchor.0 + elapsed)
    }

    pub(super) async fn run(mut self) {
        let kinds = [
            EventKind::SyncChanged,
            EventKind::RoleGrantRecorded,
            EventKind::NoticeRecorded,
            EventKind::ConfigUpdated,
        ];
        let mut sub: Option<Subscription> = Some(self.services.bus.subscribe(EventFilter {
            kinds: kinds.into_iter().collect(),
            ..EventFilter::default()
        }));
        let mut full = tokio::time::interval(self.opts.full_pass_every);
        full.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        full.tick().await;
        loop {
            // Events queued so far are covered by the pass about to start.
            while let Some(s) = sub.as_mut() {
                match tokio::time::timeout(Duration::ZERO, s.recv()).await {
                    Ok(Ok(_)) | Ok(Err(crate::events::RecvError::Lagged(_))) => continue,
                    Ok(Err(crate::events::RecvError::Closed)) => sub = None,
                    Err(_) => break,
                }
            }
            let next = match self.pass().await {
                Some(next) => next,
                None => return,
            };
            self.passes.send_modify(|n| *n += 1);
            let wait = next
                .map(|at| (at - self.now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(self.opts.full_pass_every);
            let mut stop = self.stop.clone();
            let event = async {
                match sub.as_mut() {
                    Some(s) => {
                        let _ = s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = event => {}
                _ = tokio::time::sleep(wait) => {}
                _ = full.tick() => {}
            }
        }
    }

    /// One pass over the backlog and the role grants: the earliest time something is due
    /// again, or `None` when asked to stop.
    async fn pass(&mut self) -> Option<Option<DateTime<Utc>>> {
        self.parked.clear();
        self.parked_guilds.clear();
        self.failing_channels.clear();
        self.left.clear();
        let mut next: Option<DateTime<Utc>> = None;
        let later = |at: DateTime<Utc>, next: &mut Option<DateTime<Utc>>| {
            *next = Some(next.map_or(at, |n: DateTime<Utc>| n.min(at)));
        };
        let guilds = self.services.guilds.clone();
        let backlog = match blocking(move || guilds.sync_backlog()).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the Discord sync backlog");
                later(self.now() + chrono::Duration::seconds(5), &mut next);
                return Some(next);
            }
        };
        for (guild, rec) in backlog {
            if self.stopping() {
                return None;
            }
            if let Some(at) = self.sync_one(guild, rec).await {
                later(at, &mut next);
            }
        }
        for at in self.grants().await? {
            later(at, &mut next);
        }
        for at in self.notices().await? {
            later(at, &mut next);
        }
        Some(next)
    }

    /// Asked to stop: finish the action in flight, start no other.
    pub(super) fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Waits out a global pause or a spent invalid-request budget before a call (or until
    /// asked to stop); `false` when stopping.
    async fn gate(&mut self) -> bool {
        let budget = self.invalid.blocked_until(Instant::now());
        if budget.is_some() {
            tracing::warn!("too many invalid Discord responses; pausing every call");
        }
        for until in [budget, self.paused_until.take()].into_iter().flatten() {
            let mut stop = self.stop.clone();
            tokio::select! {
                _ = tokio::time::sleep_until(until) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        }
        !self.stopping()
    }

    pub(super) async fn call<T>(
        &mut self,
        f: impl std::future::Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        if !self.gate().await {
            return Err(ApiError {
                status: None,
                code: None,
                message: "not sent: the sync loop is stopping".into(),
                retry_after: None,
                global: false,
            });
        }
        let out = match tokio::time::timeout(self.opts.request_timeout, f).await {
            Ok(r) => r,
            Err(_) => Err(ApiError {
                status: None,
                code: None,
                message: format!("no answer within {:?}", self.opts.request_timeout),
                retry_after: None,
                global: false,
            }),
        };
        if let Err(e) = &out {
            if policy::is_invalid(e) {
                self.invalid.record(Instant::now());
            }
            if e.global {
                if let Some(d) = e.retry_after {
                    self.paused_until = Some(Instant::now() + d);
                }
            }
        }
        out
    }

    /// Renders, plans, applies and records one record; when to look at it again.
    async fn sync_one(&mut self, guild: GuildId, rec: SyncRecord) -> Option<DateTime<Utc>> {
        let now = self.now();
        if rec.next_attempt_at > now {
            return Some(rec.next_attempt_at);
        }
        if self.has_left(guild).await {
            // Nothing can be posted there; the record waits (a rejoin's full pass takes it up).
            return None;
        }
        self.guild = guild;
        let services = self.services.clone();
        let (kind, object) = (rec.kind, rec.object);
        let loaded = blocking(move || {
            let Some(rec) = services.guilds.sync_record(guild, kind, object)? else {
                return Ok(None);
            };
            let target =
                render::load(&services, guild, kind, object, now).map_err(|e| match e {
                    render::RenderError::Service(e) => e,
                    render::RenderError::Json(e) => crate::error::Error::Domain(
                        crate::domain::DomainError::invalid("message", e.to_string()),
                    ),
                })?;
            Ok(Some((rec, target)))
        })
        .await;
        let (rec, target) = match loaded {
            Ok(Some(x)) => x,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(%guild, kind = kind.as_str(), object, error = %e, "could not render a Discord message");
                return Some(now + chrono::Duration::seconds(30));
            }
        };
        let p = plan(&rec, &target, now);
        let exists = !matches!(target, Target::Absent { exists: false });
        let parked = self.parked_guilds.get(&guild).cloned();
        let outcome = match p.action {
            Action::Nothing => return p.recheck_at,
            Action::Settle => SyncOutcome {
                message: MessageFact::Unchanged,
                verdict: if exists {
                    SyncVerdict::Synced
                } else {
                    SyncVerdict::Removed
                },
            },
            _ if parked.is_some() => {
                // Not called: a server-wide refusal applies as is; otherwise the record waits
                // with its own growing backoff, so a parked server is never hammered.
                let v = match parked {
                    Some(Verdict::RetryAfter { delay, error }) => Verdict::RetryAfter {
                        delay: delay.max(policy::backoff(rec.attempts, rand::random::<f64>())),
                        error,
                    },
                    v => v.unwrap_or(Verdict::Done),
                };
                self.outcome(&rec, MessageFact::Unchanged, v)
            }
            action => self.apply(&rec, action, exists).await,
        };
        let retry = match &outcome.verdict {
            SyncVerdict::Retry { at, .. } => Some(*at),
            _ => None,
        };
        let guilds = self.services.guilds.clone();
        let version = rec.desired_version;
        match blocking(move || guilds.finish_sync(guild, kind, object, version, outcome)).await {
            Ok(Some(r)) if r.state == crate::guild::SyncState::Pending => {
                retry.or(Some(r.next_attempt_at))
            }
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(%guild, kind = kind.as_str(), object, error = %e, "could not record a Discord sync outcome");
                Some(now + chrono::Duration::seconds(5))
            }
        }
    }

    async fn apply(&mut self, rec: &SyncRecord, action: Action, exists: bool) -> SyncOutcome {
        let gone = if exists {
            SyncVerdict::Synced
        } else {
            SyncVerdict::Removed
        };
        match action {
            Action::Nothing | Action::Settle => SyncOutcome {
                message: MessageFact::Unchanged,
                verdict: gone,
            },
            Action::Create(d) => self.create(rec, &d, MessageFact::Unchanged).await,
            Action::Edit { message, desired } => {
                let ch = desired.channel;
                if let Some(v) = self.parked.get(&ch).cloned() {
                    return self.outcome(rec, MessageFact::Unchanged, v);
                }
                let body = edit_body(&desired.body);
                let api = self.api.clone();
                match self.call(api.edit_message(ch, message, &body)).await {
                    Ok(()) => {
                        self.pin(rec, &desired, message, MessageFact::Unchanged)
                            .await
                    }
                    Err(e) => self.failure(rec, Call::Edit, ch, &e, MessageFact::Unchanged),
                }
            }
            Action::Delete { channel, message } => match self.delete(rec, channel, message).await {
                Ok(()) => SyncOutcome {
                    message: MessageFact::Gone,
                    verdict: gone,
                },
                Err(o) => o,
            },
            Action::Move {
                from,
                message,
                desired,
            } => match self.delete(rec, from, message).await {
                Ok(()) => self.create(rec, &desired, MessageFact::Gone).await,
                Err(o) => o,
            },
        }
    }

    async fn delete(
        &mut self,
        rec: &SyncRecord,
        ch: ChannelId,
        message: MessageId,
    ) -> Result<(), SyncOutcome> {
        let api = self.api.clone();
        match self.call(api.delete_message(ch, message)).await {
            Ok(()) => Ok(()),
            Err(e) => match self.verdict(rec, Call::Delete, ch, &e) {
                Verdict::Done => Ok(()),
                v => Err(self.outcome(rec, MessageFact::Unchanged, v)),
            },
        }
    }

    async fn create(&mut self, rec: &SyncRecord, d: &Desired, before: MessageFact) -> SyncOutcome {
        if let Some(v) = self.parked.get(&d.channel).cloned() {
            return self.outcome(rec, before, v);
        }
        // After an unanswered create, its nonce again: Discord hands back that message.
        let version = rec.unanswered_create.unwrap_or(rec.desired_version);
        let nonce = nonce(rec.kind, rec.object, version);
        let api = self.api.clone();
        match self
            .call(api.create_message(d.channel, &d.body, &nonce))
            .await
        {
            Ok(id) => {
                let posted = MessageFact::Posted {
                    channel: d.channel,
                    message: id,
                };
                if version != rec.desired_version {
                    // The message found may show the older version: make it show this one.
                    let body = edit_body(&d.body);
                    if let Err(e) = self.call(api.edit_message(d.channel, id, &body)).await {
                        return self.failure(rec, Call::Edit, d.channel, &e, posted);
                    }
                }
                self.pin(rec, d, id, posted).await
            }
            Err(e) => {
                // No answer at all: the message may exist; remember the nonce.
                let fact = if e.status.is_none() {
                    MessageFact::CreateUnanswered { version }
                } else {
                    before
                };
                self.failure(rec, Call::Create, d.channel, &e, fact)
            }
        }
    }

    async fn pin(
        &mut self,
        rec: &SyncRecord,
        d: &Desired,
        id: MessageId,
        fact: MessageFact,
    ) -> SyncOutcome {
        // A new message is never pinned: only a pin needs a call then. An edit sets the pin
        // state either way (the record does not remember it).
        let fresh = matches!(fact, MessageFact::Posted { .. });
        let Some(pinned) = d.pinned.filter(|p| *p || !fresh) else {
            return SyncOutcome {
                message: fact,
                verdict: SyncVerdict::Synced,
            };
        };
        let api = self.api.clone();
        match self.call(api.set_pinned(d.channel, id, pinned)).await {
            Ok(()) => SyncOutcome {
                message: fact,
                verdict: SyncVerdict::Synced,
            },
            Err(e) => {
                let v = self.verdict(rec, Call::Pin, d.channel, &e);
                self.outcome(rec, fact, v)
            }
        }
    }

    fn verdict(&self, rec: &SyncRecord, call: Call, ch: ChannelId, e: &ApiError) -> Verdict {
        policy::on_error(rec.kind, call, ch, e, rec.attempts, rand::random::<f64>())
    }

    /// A failed create or edit: its verdict, and the channel parked for the rest of the pass
    /// when the failure is about the channel rather than the message.
    fn failure(
        &mut self,
        rec: &SyncRecord,
        call: Call,
        ch: ChannelId,
        e: &ApiError,
        fact: MessageFact,
    ) -> SyncOutcome {
        let v = self.verdict(rec, call, ch, e);
        if matches!(
            v,
            Verdict::Failed(_) | Verdict::RetryAfter { .. } | Verdict::PauseAll { .. }
        ) {
            self.parked.insert(ch, v.clone());
            self.park_guild(e, ch, &v);
        }
        tracing::info!(kind = rec.kind.as_str(), object = rec.object, channel = %ch, error = %e, "Discord sync call failed");
        self.outcome(rec, fact, v)
    }

    /// Parks the record's server for the pass after a server-wide failure, or once
    /// `GUILD_PARK_AFTER` of its channels have failed.
    fn park_guild(&mut self, e: &ApiError, ch: ChannelId, v: &Verdict) {
        let g = self.guild;
        let failing = self.failing_channels.entry(g).or_default();
        failing.insert(ch);
        if policy::is_guild_wide(e) || failing.len() >= policy::GUILD_PARK_AFTER {
            if !self.parked_guilds.contains_key(&g) {
                tracing::warn!(guild = %g, error = %e, "Discord sync parked for this server until the next pass");
            }
            let v = if policy::is_guild_wide(e) {
                v.clone()
            } else {
                // Channel failures say nothing sure about the other channels: they wait for
                // the next pass rather than fail.
                let delay = match v {
                    Verdict::RetryAfter { delay, .. } | Verdict::PauseAll { delay, .. } => *delay,
                    _ => policy::BACKOFF_START,
                };
                Verdict::RetryAfter {
                    delay,
                    error: format!("waiting: several channels of this server failed (last: {e})"),
                }
            };
            self.parked_guilds.insert(g, v);
        }
    }

    /// Whether Coffer has left `guild` (remembered for the pass).
    async fn has_left(&mut self, guild: GuildId) -> bool {
        if let Some(left) = self.left.get(&guild) {
            return *left;
        }
        let guilds = self.services.guilds.clone();
        let left = blocking(move || guilds.info(guild))
            .await
            .ok()
            .flatten()
            .is_some_and(|i| i.left_at.is_some());
        self.left.insert(guild, left);
        left
    }

    fn outcome(&self, _rec: &SyncRecord, fact: MessageFact, v: Verdict) -> SyncOutcome {
        let now = self.now();
        let after =
            |d: Duration| now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        let (message, verdict) = match v {
            Verdict::Done => (MessageFact::Gone, SyncVerdict::Synced),
            Verdict::Repost => (MessageFact::Gone, SyncVerdict::Repost),
            Verdict::Orphaned(r) => (MessageFact::Gone, SyncVerdict::Orphaned(r)),
            Verdict::Failed(r) => (fact, SyncVerdict::Failed(r)),
            Verdict::RetryAfter { delay, error } | Verdict::PauseAll { delay, error } => (
                fact,
                SyncVerdict::Retry {
                    at: after(delay),
                    error,
                },
            ),
        };
        SyncOutcome { message, verdict }
    }
}
