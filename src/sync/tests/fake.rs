//! A scripted in-memory Discord: keeps messages per channel, honours create nonces, records
//! every call (with its tokio instant) and answers scripted errors in order.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::domain::{ChannelId, GuildId, MessageId, RoleId, UserId};
use crate::sync::api::{codes, ApiError, DiscordApi, MessageBody};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Create,
    Edit,
    Delete,
    Pin,
    Role,
    Dm,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub op: Op,
    pub channel: Option<ChannelId>,
    pub message: Option<MessageId>,
    pub nonce: Option<String>,
    pub at: Instant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Msg {
    pub body: MessageBody,
    pub pinned: bool,
}

#[derive(Default)]
struct State {
    next_id: u64,
    channels: HashMap<ChannelId, BTreeMap<MessageId, Msg>>,
    nonces: HashMap<(ChannelId, String), MessageId>,
    calls: Vec<Call>,
    script: HashMap<Op, VecDeque<ApiError>>,
    lose_creates: u32,
    hangs: HashMap<Op, u32>,
    roles: HashSet<(GuildId, UserId, RoleId)>,
    dms: Vec<(UserId, MessageBody)>,
}

type Hook = Box<dyn Fn() + Send + Sync>;

pub struct FakeDiscord {
    state: Mutex<State>,
    /// Runs inside the next create, after Discord has the message (a change committed while
    /// the call is in flight).
    during_create: Mutex<Option<Hook>>,
    made: tokio::sync::watch::Sender<usize>,
}

impl Default for FakeDiscord {
    fn default() -> Self {
        FakeDiscord {
            state: Mutex::default(),
            during_create: Mutex::default(),
            made: tokio::sync::watch::Sender::new(0),
        }
    }
}

pub fn api_error(status: Option<u16>, code: Option<i64>) -> ApiError {
    ApiError {
        status,
        code,
        message: "scripted".into(),
        retry_after: None,
        global: false,
    }
}

pub fn rate_limited(secs: f64, global: bool) -> ApiError {
    ApiError {
        retry_after: Some(Duration::from_secs_f64(secs)),
        global,
        ..api_error(Some(429), None)
    }
}

impl FakeDiscord {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next calls of `op` answer these errors, in order (without doing anything).
    pub fn fail(&self, op: Op, errors: impl IntoIterator<Item = ApiError>) {
        self.state().script.entry(op).or_default().extend(errors);
    }

    /// The next create is carried out but its answer is lost (a connection error).
    pub fn lose_next_create(&self) {
        self.state().lose_creates += 1;
    }

    /// The number of calls so far; changes on every call.
    pub fn calls_made(&self) -> tokio::sync::watch::Receiver<usize> {
        self.made.subscribe()
    }

    pub fn during_next_create(&self, hook: impl Fn() + Send + Sync + 'static) {
        *self.during_create.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(hook));
    }

    /// The next `n` calls of `op` never answer (the caller's timeout must end them).
    pub fn hang(&self, op: Op, n: u32) {
        *self.state().hangs.entry(op).or_default() += n;
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    pub fn count(&self, op: Op) -> usize {
        self.state().calls.iter().filter(|c| c.op == op).count()
    }

    pub fn messages(&self, channel: ChannelId) -> BTreeMap<MessageId, Msg> {
        self.state()
            .channels
            .get(&channel)
            .cloned()
            .unwrap_or_default()
    }

    pub fn message(&self, channel: ChannelId, id: MessageId) -> Option<Msg> {
        self.messages(channel).get(&id).cloned()
    }

    /// Someone deletes a message by hand on Discord.
    pub fn delete_by_hand(&self, channel: ChannelId, id: MessageId) {
        if let Some(c) = self.state().channels.get_mut(&channel) {
            c.remove(&id);
        }
    }

    /// The DMs delivered, in order.
    pub fn dms(&self) -> Vec<(UserId, MessageBody)> {
        self.state().dms.clone()
    }

    pub fn has_role(&self, g: GuildId, u: UserId, r: RoleId) -> bool {
        self.state().roles.contains(&(g, u, r))
    }

    /// Records the call and pops its scripted error, if any.
    fn begin(
        &self,
        op: Op,
        channel: Option<ChannelId>,
        message: Option<MessageId>,
        nonce: Option<&str>,
    ) -> Result<(), ApiError> {
        let mut st = self.state();
        st.calls.push(Call {
            op,
            channel,
            message,
            nonce: nonce.map(str::to_owned),
            at: Instant::now(),
        });
        self.made.send_modify(|n| *n += 1);
        match st.script.get_mut(&op).and_then(VecDeque::pop_front) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Never returns when a hang is scripted for `op`.
    async fn maybe_hang(&self, op: Op) {
        let hang = {
            let mut st = self.state();
            match st.hangs.get_mut(&op) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            }
        };
        if hang {
            std::future::pending::<()>().await;
        }
    }
}

fn unknown_message() -> ApiError {
    api_error(Some(404), Some(codes::UNKNOWN_MESSAGE))
}

impl DiscordApi for FakeDiscord {
    async fn create_message(
        &self,
        channel: ChannelId,
        body: &MessageBody,
        nonce: &str,
    ) -> Result<MessageId, ApiError> {
        self.begin(Op::Create, Some(channel), None, Some(nonce))?;
        self.maybe_hang(Op::Create).await;
        let mut st = self.state();
        let key = (channel, nonce.to_owned());
        let id = match st.nonces.get(&key) {
            Some(id) => *id,
            None => {
                st.next_id += 1;
                let id = MessageId(1000 + st.next_id);
                st.nonces.insert(key, id);
                st.channels.entry(channel).or_default().insert(
                    id,
                    Msg {
                        body: body.clone(),
                        pinned: false,
                    },
                );
                id
            }
        };
        drop(st);
        let hook = self
            .during_create
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(hook) = hook {
            hook();
        }
        let mut st = self.state();
        if st.lose_creates > 0 {
            st.lose_creates -= 1;
            return Err(api_error(None, None));
        }
        Ok(id)
    }

    async fn edit_message(
        &self,
        channel: ChannelId,
        message: MessageId,
        body: &MessageBody,
    ) -> Result<(), ApiError> {
        self.begin(Op::Edit, Some(channel), Some(message), None)?;
        let mut st = self.state();
        match st
            .channels
            .get_mut(&channel)
            .and_then(|c| c.get_mut(&message))
        {
            Some(m) => {
                m.body = body.clone();
                Ok(())
            }
            None => Err(unknown_message()),
        }
    }

    async fn delete_message(&self, channel: ChannelId, message: MessageId) -> Result<(), ApiError> {
        self.begin(Op::Delete, Some(channel), Some(message), None)?;
        let mut st = self.state();
        match st
            .channels
            .get_mut(&channel)
            .and_then(|c| c.remove(&message))
        {
            Some(_) => Ok(()),
            None => Err(unknown_message()),
        }
    }

    async fn set_pinned(
        &self,
        channel: ChannelId,
        message: MessageId,
        pinned: bool,
    ) -> Result<(), ApiError> {
        self.begin(Op::Pin, Some(channel), Some(message), None)?;
        let mut st = self.state();
        match st
            .channels
            .get_mut(&channel)
            .and_then(|c| c.get_mut(&message))
        {
            Some(m) => {
                m.pinned = pinned;
                Ok(())
            }
            None => Err(unknown_message()),
        }
    }

    async fn add_member_role(
        &self,
        guild: GuildId,
        user: UserId,
        role: RoleId,
    ) -> Result<(), ApiError> {
        self.begin(Op::Role, None, None, None)?;
        self.state().roles.insert((guild, user, role));
        Ok(())
    }

    async fn send_dm(&self, user: UserId, body: &MessageBody) -> Result<(), ApiError> {
        self.begin(Op::Dm, None, None, None)?;
        self.state().dms.push((user, body.clone()));
        Ok(())
    }
}
