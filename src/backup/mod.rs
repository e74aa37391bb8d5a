//! Snapshot backups as a service: `create` (a consistent copy of the database taken from one
//! read transaction into `backups/coffer-<UTC time>.redb`, with a `.sha256` beside it), `list`,
//! `verify` (checksum, then open a scratch copy and run the ledger integrity check on every
//! server), `prune` (keep the newest N and one a day for D days) and `restore` (offline only:
//! the running app never swaps its own file). Writers are never blocked by a backup.

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::SharedClock;
use crate::domain::DomainError;
use crate::economy::Economy;
use crate::error::Error;
use crate::store::{Store, StoreError, StoreOptions};

const PREFIX: &str = "coffer-";
const SUFFIX: &str = ".redb";
/// A name `path_of` takes: no path separator, no leading dot, ending in `SUFFIX`.
pub const NAME_PATTERN: &str = "^[^./\\\\][^/\\\\]*\\.redb$";

/// How many snapshots to keep: the newest `keep_last`, plus the newest of each UTC day for the
/// last `keep_daily_days` days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub keep_last: usize,
    pub keep_daily_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            keep_last: 7,
            keep_daily_days: 30,
        }
    }
}

/// One snapshot file in the backup folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BackupFile {
    /// The file name (`coffer-20261202T101500Z.redb`); the id the API uses.
    pub name: String,
    pub bytes: u64,
    /// When the snapshot was taken (from the name; the file's time for other names).
    pub created_at: DateTime<Utc>,
    /// Whether a `.sha256` checksum sits beside it.
    pub checksummed: bool,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    pub ok: bool,
    /// The checksum beside the file matched (`None`: there was none).
    pub checksum_ok: Option<bool>,
    pub servers: usize,
    pub accounts: u64,
    pub entries: u64,
    /// In words, one line per problem (empty when ok).
    pub problems: Vec<String>,
}

/// Why a snapshot was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Someone asked (dashboard, API, `coffer backup create`).
    Manual,
    /// The schedule (`storage.backup_every_hours`).
    Scheduled,
    /// `coffer restore` keeps the database it replaces.
    BeforeRestore,
}

impl Trigger {
    /// In words, for pages and notices.
    pub fn as_words(self) -> &'static str {
        match self {
            Trigger::Manual => "asked for",
            Trigger::Scheduled => "scheduled",
            Trigger::BeforeRestore => "before a restore",
        }
    }
}

/// One attempt to take a snapshot, kept in the database (the newest `KEPT_ATTEMPTS`), so a
/// failure is still on record after a restart and the dashboard can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BackupAttempt {
    pub at: DateTime<Utc>,
    pub trigger: Trigger,
    pub ok: bool,
    /// The file written (when it worked).
    pub name: Option<String>,
    pub bytes: Option<u64>,
    /// What went wrong (when it did not).
    pub error: Option<String>,
}

/// Attempts kept on record.
pub const KEPT_ATTEMPTS: usize = 50;
const ATTEMPTS_KEY: &str = "backup.attempts";

/// The backup service. Cheap to clone.
#[derive(Clone)]
pub struct Backups {
    store: Store,
    dir: Arc<PathBuf>,
    retention: Retention,
}

impl Backups {
    pub fn new(store: Store, dir: PathBuf, retention: Retention) -> Backups {
        Backups {
            store,
            dir: Arc::new(dir),
            retention,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Takes a snapshot now (`coffer-<UTC time>[-<label>].redb`) and writes its checksum, on
    /// someone's request.
    pub fn create(&self, label: Option<&str>) -> Result<BackupFile, Error> {
        self.create_for(Trigger::Manual, label)
    }

    /// Takes a snapshot and records the attempt, whether it worked or not.
    pub fn create_for(&self, trigger: Trigger, label: Option<&str>) -> Result<BackupFile, Error> {
        let at = self.store.now();
        let made = self.write_snapshot(label);
        self.note(trigger, at, made.as_ref());
        made
    }

    /// Records an attempt (a failure is logged at error too).
    fn note(&self, trigger: Trigger, at: DateTime<Utc>, made: Result<&BackupFile, &Error>) {
        if let Err(e) = made {
            tracing::error!(trigger = ?trigger, error = %e, "backup failed");
        }
        let attempt = BackupAttempt {
            at,
            trigger,
            ok: made.is_ok(),
            name: made.ok().map(|f| f.name.clone()),
            bytes: made.ok().map(|f| f.bytes),
            error: made.err().map(|e| e.to_string()),
        };
        if let Err(e) = self.record(attempt) {
            tracing::warn!(error = %e, "could not record the backup attempt");
        }
    }

    fn record(&self, attempt: BackupAttempt) -> Result<(), Error> {
        self.store.write(crate::instance::INSTANCE, |w| {
            let mut all: Vec<BackupAttempt> = w.instance_value(ATTEMPTS_KEY)?.unwrap_or_default();
            all.insert(0, attempt.clone());
            all.truncate(KEPT_ATTEMPTS);
            w.put_instance_value(ATTEMPTS_KEY, &all)
        })?;
        Ok(())
    }

    /// The recorded attempts, newest first.
    pub fn attempts(&self) -> Result<Vec<BackupAttempt>, Error> {
        Ok(self.store.instance_value(ATTEMPTS_KEY)?.unwrap_or_default())
    }

    /// The newest attempt when it failed (no snapshot has worked since).
    pub fn failing(&self) -> Result<Option<BackupAttempt>, Error> {
        Ok(self.attempts()?.into_iter().next().filter(|a| !a.ok))
    }

    fn write_snapshot(&self, label: Option<&str>) -> Result<BackupFile, Error> {
        // One snapshot at a time in this process. Two at once in the same second (the backup
        // at start-up and one from the dashboard, found by the backup memory test) both took
        // the same free name and the same `.partial` file, and one deleted the other's half
        // written copy: "could not open ... .partial: No such file or directory". Waiting also
        // keeps two copies from doubling the disk and memory a backup uses.
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.store.now();
        let mut name = file_name(now, label);
        let mut n = 2;
        while self.dir.join(&name).exists() {
            name = file_name(now, Some(&format!("{}{n}", label.unwrap_or(""))));
            n += 1;
        }
        let path = self.dir.join(&name);
        let written = self
            .store
            .snapshot(&path)
            .map_err(crate::Error::from)
            .and_then(|info| {
                write_checksum(&path)?;
                Ok(info)
            });
        let info = match written {
            Ok(info) => info,
            Err(e) => {
                crate::metrics::global().backup_failed();
                return Err(e);
            }
        };
        crate::metrics::global().backup_succeeded(now.timestamp(), info.bytes);
        tracing::info!(path = %path.display(), bytes = info.bytes, rows = info.rows, "backup written");
        Ok(BackupFile {
            name,
            bytes: info.bytes,
            created_at: now,
            checksummed: true,
        })
    }

    /// The snapshots in the folder, newest first.
    pub fn list(&self) -> Result<Vec<BackupFile>, Error> {
        list_dir(&self.dir)
    }

    /// The path of snapshot `name`; refused unless it is a snapshot in the folder (no paths):
    /// what `NAME_PATTERN` says.
    pub fn path_of(&self, name: &str) -> Result<PathBuf, Error> {
        let plain = !name.contains(['/', '\\']) && !name.starts_with('.');
        if !plain || !name.ends_with(SUFFIX) {
            return Err(DomainError::invalid("name", "is not a backup file name").into());
        }
        let path = self.dir.join(name);
        if !path.is_file() {
            return Err(DomainError::NotFound(format!("Backup {name}")).into());
        }
        Ok(path)
    }

    /// Deletes the snapshots the retention policy does not keep; their names.
    pub fn prune(&self) -> Result<Vec<String>, Error> {
        let all = self.list()?;
        let keep = kept(&all, self.retention, self.store.now());
        let mut removed = Vec::new();
        for f in all.iter().filter(|f| !keep.contains(&f.name)) {
            let path = self.dir.join(&f.name);
            std::fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
            let _ = std::fs::remove_file(checksum_path(&path));
            removed.push(f.name.clone());
        }
        if !removed.is_empty() {
            tracing::info!(removed = removed.len(), "old backups deleted");
        }
        Ok(removed)
    }

    /// The scheduled job: a snapshot when the newest is older than `every`, then pruning.
    pub fn scheduled(&self, every: chrono::Duration) -> Result<Option<BackupFile>, Error> {
        let newest = match self.list() {
            Ok(all) => all.into_iter().next(),
            Err(e) => {
                self.note(Trigger::Scheduled, self.store.now(), Err(&e));
                return Err(e);
            }
        };
        let due = newest.is_none_or(|f| self.store.now() - f.created_at >= every);
        let made = if due {
            Some(self.create_for(Trigger::Scheduled, None)?)
        } else {
            None
        };
        self.prune()?;
        Ok(made)
    }
}

fn file_name(at: DateTime<Utc>, label: Option<&str>) -> String {
    let stamp = at.format("%Y%m%dT%H%M%SZ");
    match label.filter(|l| !l.is_empty()) {
        Some(l) => format!("{PREFIX}{stamp}-{l}{SUFFIX}"),
        None => format!("{PREFIX}{stamp}{SUFFIX}"),
    }
}

/// The time in a snapshot's name (`coffer-20261202T101500Z...`).
fn time_in_name(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name.strip_prefix(PREFIX)?.get(..16)?;
    let t = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok()?;
    Some(Utc.from_utc_datetime(&t))
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::from(StoreError::Open {
        path: path.to_owned(),
        source: e.into(),
    })
}

/// Snapshots in `dir`, newest first (a missing folder has none).
pub fn list_dir(dir: &Path) -> Result<Vec<BackupFile>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(PREFIX) || !name.ends_with(SUFFIX) {
            continue;
        }
        let meta = entry.metadata().map_err(|e| io_error(&entry.path(), e))?;
        let created_at = time_in_name(&name).unwrap_or_else(|| {
            meta.modified()
                .map(DateTime::<Utc>::from)
                .unwrap_or(DateTime::UNIX_EPOCH)
        });
        out.push(BackupFile {
            checksummed: checksum_path(&entry.path()).is_file(),
            name,
            bytes: meta.len(),
            created_at,
        });
    }
    out.sort_by(|a, b| (b.created_at, &b.name).cmp(&(a.created_at, &a.name)));
    Ok(out)
}

/// The names the policy keeps out of `all` (newest first).
pub fn kept(all: &[BackupFile], r: Retention, now: DateTime<Utc>) -> Vec<String> {
    let mut keep: Vec<String> = all
        .iter()
        .take(r.keep_last)
        .map(|f| f.name.clone())
        .collect();
    let since = now - chrono::Duration::days(i64::from(r.keep_daily_days));
    let mut days: Vec<NaiveDate> = Vec::new();
    for f in all.iter().filter(|f| f.created_at > since) {
        let day = f.created_at.date_naive();
        if !days.contains(&day) {
            days.push(day);
            keep.push(f.name.clone());
        }
    }
    keep.sort();
    keep.dedup();
    keep
}

fn checksum_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".sha256");
    PathBuf::from(p)
}

fn sha256_file(path: &Path) -> Result<String, Error> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| io_error(path, e))?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    Ok(ctx
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// `<hex>  <file name>` beside the snapshot (the `sha256sum` format, so it checks by hand too).
fn write_checksum(path: &Path) -> Result<(), Error> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let line = format!("{}  {}\n", sha256_file(path)?, name.unwrap_or_default());
    let target = checksum_path(path);
    std::fs::write(&target, line).map_err(|e| io_error(&target, e))
}

/// Checks a snapshot file: its checksum (when one is beside it), then opens a scratch copy as a
/// database and runs the ledger integrity check on every server in it. A damaged, truncated
/// or foreign file is reported, never opened in place.
pub fn verify(path: &Path, clock: SharedClock) -> Result<VerifyReport, Error> {
    let mut report = VerifyReport {
        ok: false,
        checksum_ok: None,
        servers: 0,
        accounts: 0,
        entries: 0,
        problems: Vec::new(),
    };
    if !path.is_file() {
        return Err(DomainError::NotFound(format!("Backup file {}", path.display())).into());
    }
    let sum = checksum_path(path);
    if sum.is_file() {
        let stated = std::fs::read_to_string(&sum).map_err(|e| io_error(&sum, e))?;
        let stated = stated.split_whitespace().next().unwrap_or("").to_owned();
        let ok = stated == sha256_file(path)?;
        report.checksum_ok = Some(ok);
        if !ok {
            report.problems.push(
                "the file does not match its .sha256 checksum: it was damaged or cut short".into(),
            );
            return Ok(report);
        }
    }
    let scratch = tempfile::tempdir().map_err(|e| io_error(Path::new("(temp dir)"), e))?;
    let copy = scratch.path().join("coffer.redb");
    std::fs::copy(path, &copy).map_err(|e| io_error(path, e))?;
    let store = match Store::open(&copy, clock, StoreOptions::default()) {
        Ok(s) => s,
        Err(e) => {
            report
                .problems
                .push(format!("it cannot be opened as a Coffer database: {e}"));
            return Ok(report);
        }
    };
    let economy = Economy::new(store.clone());
    for g in store.guild_ids()? {
        let r = economy.validate_guild(g)?;
        report.servers += 1;
        report.accounts += r.accounts;
        report.entries += r.entries;
        for m in &r.mismatches {
            report.problems.push(format!(
                "server {g}, user {}: stored balance {:?}, ledger sum {}",
                m.user, m.stored_balance, m.expected_balance
            ));
        }
    }
    report.ok = report.problems.is_empty();
    Ok(report)
}

/// What `restore` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    pub restored: PathBuf,
    /// The snapshot of the database as it was before the restore.
    pub previous: Option<BackupFile>,
    pub verify: VerifyReport,
}

/// Replaces the database at `db_path` with snapshot `file` (offline): the file is verified
/// first (a damaged one is refused), the current database is snapshotted into `backup_dir`,
/// then the copy is renamed into place. Refused while a Coffer process has the database open.
pub fn restore(
    file: &Path,
    db_path: &Path,
    backup_dir: &Path,
    clock: SharedClock,
) -> Result<RestoreReport, Error> {
    let verify = verify(file, clock.clone())?;
    if !verify.ok {
        return Err(DomainError::Refused(format!(
            "{} is not a sound backup, nothing was changed: {}",
            file.display(),
            verify.problems.join("; ")
        ))
        .into());
    }
    let previous = if db_path.exists() {
        // Opening takes the database's lock: a running Coffer makes this fail, clearly.
        let store = match Store::open(db_path, clock, StoreOptions::default()) {
            Err(StoreError::AlreadyOpen { path }) => {
                return Err(DomainError::Refused(format!(
                    "{} is in use by a running Coffer: stop it first, then restore (nothing was changed)",
                    path.display()
                ))
                .into())
            }
            other => other?,
        };
        let backups = Backups::new(store.clone(), backup_dir.to_owned(), Retention::default());
        let made = backups.create_for(Trigger::BeforeRestore, Some("before-restore"))?;
        drop(backups);
        drop(store);
        Some(made)
    } else {
        None
    };
    let mut tmp = db_path.as_os_str().to_owned();
    tmp.push(".restoring");
    let tmp = PathBuf::from(tmp);
    if let Some(dir) = db_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    std::fs::copy(file, &tmp).map_err(|e| io_error(file, e))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error(&tmp, e))?;
    std::fs::rename(&tmp, db_path).map_err(|e| io_error(db_path, e))?;
    if let Some(dir) = db_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|f| f.sync_all());
    }
    Ok(RestoreReport {
        restored: db_path.to_owned(),
        previous,
        verify,
    })
}
