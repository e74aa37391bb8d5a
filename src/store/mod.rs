//! The redb store: the only module that opens tables. Callers get a guild-scoped `View` (reads)
//! or `WriteCtx` (one write transaction); every method is scoped to that guild. A write commits
//! once, durably, and only then are its events published.

pub mod accounts;
pub mod admins;
pub mod announce;
pub mod archive;
pub mod audit;
mod codec;
pub mod command_log;
pub mod custom;
pub mod directory;
pub mod group;
pub mod guilds;
pub mod import;
pub mod instance;
pub mod leaderboard;
pub mod migrations;
pub mod notices;
pub mod outbox;
pub mod records;
pub mod roles;
pub mod sessions;
pub mod shop;
pub mod snapshot;
pub mod sync_admin;
pub mod sync_work;
pub mod tables;
pub mod tasks;
pub mod tracked;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use redb::{
    Database, Key, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, Value,
    WriteTransaction,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::clock::SharedClock;
use crate::domain::{DomainError, GuildConfig, GuildId, IdemKey};
use crate::events::{Event, EventBus, EventKind, PendingEvent};

pub use codec::{decode, encode};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database {path} is already open in another Coffer process (or another store in this one); stop it first"
    )]
    AlreadyOpen { path: PathBuf },
    #[error(
        "the database {path} was written by a newer Coffer (schema version {found}; this build understands up to {supported}); run a newer Coffer or restore a backup"
    )]
    NewerSchema {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
    #[error("could not open the database {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: redb::Error,
    },
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
    #[error("corrupt record in table `{table}`: {detail}")]
    Corrupt { table: &'static str, detail: String },
    #[error("store invariant violated: {0}")]
    Invariant(String),
    #[error("background task failed: {0}")]
    Join(String),
    /// The commit holding this operation (and the others of its batch) failed: nothing of the
    /// batch was written.
    #[error("the database could not commit the write: {0}")]
    CommitFailed(String),
    /// A rule refused the operation (a domain refusal raised inside the store, such as a
    /// balance that would go negative); the service error turns it back into `Domain`.
    #[error(transparent)]
    Refused(DomainError),
}

impl From<DomainError> for StoreError {
    fn from(e: DomainError) -> Self {
        StoreError::Refused(e)
    }
}

macro_rules! via_redb_error {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.into())
            }
        }
    )*};
}
via_redb_error!(
    redb::TableError,
    redb::StorageError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError
);

/// Opens tables the same way in read and write transactions, so queries are written once.
pub trait Tables {
    type Table<'s, K: Key + 'static, V: Value + 'static>: ReadableTable<K, V>
    where
        Self: 's;
    fn open<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<Self::Table<'_, K, V>, StoreError>;
}

impl Tables for ReadTransaction {
    type Table<'s, K: Key + 'static, V: Value + 'static> = redb::ReadOnlyTable<K, V>;
    fn open<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<Self::Table<'_, K, V>, StoreError> {
        Ok(self.open_table(def)?)
    }
}

impl Tables for WriteTransaction {
    type Table<'s, K: Key + 'static, V: Value + 'static> = redb::Table<'s, K, V>;
    fn open<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<Self::Table<'_, K, V>, StoreError> {
        Ok(self.open_table(def)?)
    }
}

/// Options fixed at open time.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Settings a guild starts with until an admin changes them.
    pub defaults: GuildConfig,
    /// Capacity of the event bus's replay buffer.
    pub event_buffer: usize,
    /// Where a schema migration first writes a backup (`None`: no backup).
    pub backup_dir: Option<PathBuf>,
    /// redb's page cache in bytes. Small by default: the working set of a bot's database is
    /// small, and redb's own default (1 GiB) would let the cache grow the process far past it.
    pub cache_bytes: usize,
}

/// The default of `storage.cache_mib`: measured (`cargo bench --bench store`) at the same write
/// and read speed as redb's 1 GiB default and as 16 MiB for 100,000 accounts; 8 MiB less
/// resident than 16 with a 1,000,000-entry database.
pub const DEFAULT_CACHE_MIB: u64 = 8;

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            defaults: GuildConfig::default(),
            event_buffer: 1024,
            backup_dir: None,
            cache_bytes: (DEFAULT_CACHE_MIB << 20) as usize,
        }
    }
}

struct Inner {
    db: Database,
    writer: group::Writer,
    boards: leaderboard::Boards,
    path: PathBuf,
    bus: EventBus,
    clock: SharedClock,
    defaults: GuildConfig,
}

/// A handle to the open database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Store {
    /// Opens (or creates) the database, refusing a file another process holds or a newer schema,
    /// and runs pending migrations.
    pub fn open(path: &Path, clock: SharedClock, opts: StoreOptions) -> Result<Store, StoreError> {
        let open_err = |e: std::io::Error| StoreError::Open {
            path: path.to_owned(),
            source: e.into(),
        };
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                create_private_dir(parent).map_err(open_err)?;
            }
        }
        // The file holds password and refresh-token hashes: owner-only, also when an older
        // Coffer created it 0644. redb initialises an empty file as a new database.
        create_private_file(path).map_err(open_err)?;
        let db = redb::Builder::new()
            .set_cache_size(opts.cache_bytes)
            .create(path)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => StoreError::AlreadyOpen {
                    path: path.to_owned(),
                },
                other => StoreError::Open {
                    path: path.to_owned(),
                    source: other.into(),
                },
            })?;
        migrations::run(&db, path, opts.backup_dir.as_deref())?;
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                writer: group::Writer::default(),
                boards: leaderboard::Boards::default(),
                path: path.to_owned(),
                bus: EventBus::new(opts.event_buffer),
                clock,
                defaults: opts.defaults,
            }),
        })
    }

    /// How many handles to this open database exist (this one included).
    pub fn handle_count(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn bus(&self) -> &EventBus {
        &self.inner.bus
    }

    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub fn defaults(&self) -> &GuildConfig {
        &self.inner.defaults
    }

    /// A consistent snapshot of one guild.
    pub fn read<T, E: From<StoreError>>(
        &self,
        guild: GuildId,
        f: impl FnOnce(&View<'_, ReadTransaction>) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self.inner.db.begin_read().map_err(StoreError::from)?;
        let view = View {
            tx: &tx,
            guild,
            defaults: &self.inner.defaults,
        };
        f(&view)
    }

    /// One write operation on one guild: `f` reads, decides and writes; on `Ok` its writes
    /// commit (durably, possibly in one commit with operations running at the same time: see
    /// `group`) and then the events `f` emitted are published; on `Err` nothing it wrote is
    /// kept. `f` may run more than once (when a neighbour in its batch failed after writing),
    /// so it must not have effects outside the transaction.
    pub fn write<T: Send, E: From<StoreError> + Send>(
        &self,
        guild: GuildId,
        mut f: impl FnMut(&mut WriteCtx<'_>) -> Result<T, E> + Send,
    ) -> Result<T, E> {
        let inner = &*self.inner;
        inner
            .writer
            .run(&inner.db, (&inner.bus, &inner.boards), |tx| {
                let now = inner.clock.now();
                let mut ctx = WriteCtx {
                    view: View {
                        tx,
                        guild,
                        defaults: &inner.defaults,
                    },
                    now,
                    events: Vec::new(),
                    accounts: Vec::new(),
                };
                let out = f(&mut ctx)?;
                let events = std::mem::take(&mut ctx.events);
                let accounts = std::mem::take(&mut ctx.accounts);
                let publish =
                    (!events.is_empty() || !accounts.is_empty()).then_some(group::Publish {
                        guild,
                        events,
                        at: now,
                        accounts,
                    });
                Ok(group::Applied { out, publish })
            })
    }

    #[cfg(test)]
    pub(crate) fn writer(&self) -> &group::Writer {
        &self.inner.writer
    }

    /// The leaderboard: `limit` active accounts after `offset` by balance, and how many there
    /// are. From the in-memory index (`leaderboard`), built on first use.
    pub fn leaderboard(
        &self,
        guild: GuildId,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<leaderboard::Ranked>, u64), StoreError> {
        self.by_balance(guild, offset, limit, true)
    }

    /// Like `leaderboard`, poorest first when not `descending`.
    pub fn by_balance(
        &self,
        guild: GuildId,
        offset: u64,
        limit: u64,
        descending: bool,
    ) -> Result<(Vec<leaderboard::Ranked>, u64), StoreError> {
        self.inner
            .boards
            .page(guild, (offset, limit, descending), || {
                self.account_facts(guild)
            })
    }

    /// A member's place on the leaderboard (`None` without an active account).
    pub fn rank(
        &self,
        guild: GuildId,
        user: crate::domain::UserId,
    ) -> Result<Option<leaderboard::Ranked>, StoreError> {
        self.inner
            .boards
            .rank(guild, user, || self.account_facts(guild))
    }

    fn account_facts(&self, guild: GuildId) -> Result<Vec<leaderboard::AccountFact>, StoreError> {
        self.read(guild, |r| {
            Ok(r.accounts()?.iter().map(Into::into).collect())
        })
    }

    /// Group-commit counters (commits, operations, retries) since the store opened.
    pub fn writer_stats(&self) -> group::WriterStats {
        self.inner.writer.stats()
    }

    /// Like `write`, under an optional idempotency key (`OpMeta::key`). The record (operation,
    /// input fingerprint, answer) is written in the same transaction as the change, so the key is
    /// used exactly when the change commits. A repeat of the key with the same operation and
    /// fingerprint returns the stored answer and applies nothing; with anything else it is
    /// refused (`IdempotencyKeyReused`) and applies nothing. A refused call does not use the key.
    pub fn write_once<T, E>(
        &self,
        guild: GuildId,
        key: Option<&IdemKey>,
        op: &str,
        mut f: impl FnMut(&mut WriteCtx<'_>) -> Result<T, E> + Send,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned + Send,
        E: From<StoreError> + Send,
    {
        let Some(key) = key else {
            return self.write(guild, f);
        };
        self.write(guild, |w| {
            if let Some(rec) = w.idempotency_record(key.key())? {
                return Ok(rec.replay(op, key.fingerprint())?);
            }
            let out = f(w)?;
            let result = serde_json::to_value(&out).map_err(|e| StoreError::Corrupt {
                table: "idempotency",
                detail: e.to_string(),
            })?;
            w.put_idempotency_record(
                key.key(),
                &IdempotencyRecord {
                    op: op.to_owned(),
                    fingerprint: key.fingerprint().to_owned(),
                    result,
                    at: w.now,
                },
            )?;
            Ok(out)
        })
    }

    /// Deletes idempotency records older than `before` in every guild; returns how many.
    pub fn prune_idempotency(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write_global(|tx| {
            let mut t = tx.open_table(tables::IDEMPOTENCY)?;
            let mut old = Vec::new();
            for row in t.iter()? {
                let (k, v) = row?;
                let rec: IdempotencyRecord = decode("idempotency", v.value())?;
                if rec.at < before {
                    let (g, key) = k.value();
                    old.push((g, key.to_owned()));
                }
            }
            for (g, key) in &old {
                t.remove((*g, key.as_str()))?;
            }
            Ok(old.len() as u64)
        })
    }

    /// Guilds that have any stored state (config, guild info or accounts).
    pub fn guild_ids(&self) -> Result<Vec<GuildId>, StoreError> {
        let tx = self.inner.db.begin_read()?;
        let mut out = std::collections::BTreeSet::new();
        for row in tx.open(tables::GUILDS)?.iter()? {
            out.insert(row?.0.value());
        }
        for row in tx.open(tables::CONFIG)?.iter()? {
            out.insert(row?.0.value());
        }
        let accounts = tx.open(tables::ACCOUNTS)?;
        let mut next = accounts.first()?.map(|(k, _)| k.value().0);
        while let Some(g) = next {
            out.insert(g);
            next = match g.checked_add(1) {
                Some(n) => accounts
                    .range((n, 0)..)?
                    .next()
                    .transpose()?
                    .map(|(k, _)| k.value().0),
                None => None,
            };
        }
        Ok(out.into_iter().map(GuildId).collect())
    }

    /// Runs a raw read transaction for cross-guild store code (admins, backups).
    pub(crate) fn begin_read(&self) -> Result<ReadTransaction, StoreError> {
        Ok(self.inner.db.begin_read()?)
    }

    /// Runs a raw write transaction for cross-guild store code (admins). No events. Goes
    /// through the same group-commit writer (`f` may run more than once, like `write`'s).
    pub(crate) fn write_global<T: Send>(
        &self,
        mut f: impl FnMut(&WriteTransaction) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        let inner = &*self.inner;
        inner
            .writer
            .run(&inner.db, (&inner.bus, &inner.boards), |tx| {
                Ok(group::Applied {
                    out: f(tx.raw()?)?,
                    publish: None,
                })
            })
    }

    /// A real, tiny durable write (the `health_probe` counter in `meta`) through the writer:
    /// the readiness check. It fails when the writer cannot commit (disk full, I/O errors).
    pub fn probe_write(&self) -> Result<(), StoreError> {
        self.write_global(|tx| {
            let mut meta = tx.open_table(tables::META)?;
            let n = meta.get("health_probe")?.map(|v| v.value()).unwrap_or(0);
            meta.insert("health_probe", n.wrapping_add(1))?;
            Ok(())
        })
    }

    /// Publishes an event that has no write behind it (a dashboard "test event").
    pub fn publish(&self, guild: GuildId, kind: EventKind, ids: Vec<String>) -> Event {
        self.inner
            .bus
            .publish(guild, PendingEvent { kind, ids }, self.now())
    }
}

/// What an idempotency key was used for, and the answer it got.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub op: String,
    /// The fingerprint of the first request's input; empty in records written before
    /// fingerprints existed (those match on the operation alone).
    #[serde(default)]
    pub fingerprint: String,
    pub result: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl IdempotencyRecord {
    /// The stored answer if `op` and `fingerprint` match the first request; otherwise the key
    /// was reused for something else.
    pub fn replay<T: DeserializeOwned>(self, op: &str, fingerprint: &str) -> Result<T, StoreError> {
        let same_input = self.fingerprint.is_empty() || self.fingerprint == fingerprint;
        if self.op != op || !same_input {
            return Err(StoreError::Refused(DomainError::IdempotencyKeyReused));
        }
        serde_json::from_value(self.result).map_err(|e| StoreError::Corrupt {
            table: "idempotency",
            detail: e.to_string(),
        })
    }
}

/// Reads within one guild, in a read or a write transaction.
pub struct View<'t, T: Tables> {
    tx: &'t T,
    guild: GuildId,
    defaults: &'t GuildConfig,
}

impl<T: Tables> View<'_, T> {
    pub fn guild(&self) -> GuildId {
        self.guild
    }

    fn g(&self) -> u64 {
        self.guild.0
    }

    /// The current value of a per-guild counter (0 before its first `next_id`).
    #[cfg(test)]
    pub fn seq_value(&self, counter: &str) -> Result<u64, StoreError> {
        let t = self.tx.open(tables::SEQS)?;
        let v = t.get((self.g(), counter))?.map(|v| v.value()).unwrap_or(0);
        Ok(v)
    }

    pub fn idempotency_record(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let t = self.tx.open(tables::IDEMPOTENCY)?;
        let v = t.get((self.g(), key))?;
        v.map(|v| decode("idempotency", v.value())).transpose()
    }
}

/// One write transaction within one guild.
pub struct WriteCtx<'t> {
    view: View<'t, tracked::TrackedTx>,
    /// The clock's reading when the transaction began; every timestamp in it uses this.
    pub now: DateTime<Utc>,
    events: Vec<PendingEvent>,
    /// Accounts written, for the leaderboard index after the commit.
    accounts: Vec<leaderboard::AccountFact>,
}

impl<'t> std::ops::Deref for WriteCtx<'t> {
    type Target = View<'t, tracked::TrackedTx>;
    fn deref(&self) -> &Self::Target {
        &self.view
    }
}

impl WriteCtx<'_> {
    /// Queues an event, published only if the transaction commits.
    pub fn emit(&mut self, kind: EventKind, ids: Vec<String>) {
        self.events.push(PendingEvent { kind, ids });
    }

    /// The next id from a per-guild counter (ledger entries, items, tasks...). Starts at 1.
    pub fn next_id(&self, counter: &str) -> Result<u64, StoreError> {
        let mut t = self.tx.open_table(tables::SEQS)?;
        let cur = t.get((self.g(), counter))?.map(|v| v.value()).unwrap_or(0);
        let next = cur + 1;
        t.insert((self.g(), counter), next)?;
        Ok(next)
    }

    /// The next id for rows of tables keyed `(guild, id)` whose rows are never deleted (only
    /// moved between the `tables` given): one past the last key in any of them, and past the
    /// `counter` in `seqs`, which is read as a floor (databases written before kept the last id
    /// there, and imports raise it) and not written. Reading instead of bumping the counter keeps
    /// the `seqs` B-tree out of the commit: a page or two fewer per write.
    pub(super) fn next_id_after(
        &self,
        counter: &str,
        tables: &[TableDefinition<'static, (u64, u64), tables::Bytes>],
    ) -> Result<u64, StoreError> {
        let g = self.g();
        let mut last = self
            .tx
            .open(tables::SEQS)?
            .get((g, counter))?
            .map(|v| v.value())
            .unwrap_or(0);
        for def in tables {
            let t = self.tx.open(*def)?;
            let newest = t.range((g, 0)..=(g, u64::MAX))?.next_back().transpose()?;
            if let Some((key, _)) = newest {
                last = last.max(key.value().1);
            }
        }
        last.checked_add(1)
            .ok_or_else(|| StoreError::Invariant(format!("the {counter} ids ran out")))
    }

    pub(super) fn put_idempotency_record(
        &self,
        key: &str,
        rec: &IdempotencyRecord,
    ) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::IDEMPOTENCY)?;
        t.insert((self.g(), key), encode(rec)?.as_slice())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;

/// Creates `dir` (and missing parents) readable by the owner only (0700 on Unix). An existing
/// directory keeps its mode: it may be shared (`.`), and the files in it are private anyway.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Creates `path` empty when missing, and makes it owner-only (0600 on Unix) either way.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    drop(opts.open(path)?);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
