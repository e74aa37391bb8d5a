//! Snapshot copies of the database: every table copied from ONE read transaction (a consistent
//! point in time; writers carry on meanwhile) into a new redb file written under a temporary
//! name, fsynced, then renamed into place. A snapshot file is either complete or absent.
//! redb has no hot-backup API; this is the table-by-table copy it leaves us.

use std::fs::File;
use std::path::{Path, PathBuf};

use redb::{Database, ReadTransaction, ReadableDatabase, TableDefinition, WriteTransaction};

use super::{tables, Store, StoreError};

/// What a snapshot wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub path: PathBuf,
    pub bytes: u64,
    pub tables: usize,
    pub rows: u64,
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Open {
        path: path.to_owned(),
        source: e.into(),
    }
}

fn copy_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<u64, StoreError> {
    let from = src.open_table(def)?;
    let mut to = dst.open_table(def)?;
    let mut rows = 0;
    // The rows come in key order into an empty table: appended at its end through one cursor
    // (redb buffers the run and fills pages in order) instead of a search per insert.
    let mut end = to.upper_bound_mut(std::ops::Bound::<K::SelfType<'_>>::Unbounded)?;
    for row in redb::ReadableTable::iter(&from)? {
        let (k, v) = row?;
        end.insert_before(k.value(), v.value())
            .map_err(redb::Error::from)?;
        rows += 1;
    }
    end.close()?;
    Ok(rows)
}

/// Copies every table visible to `src` into a new database at `dest` (which must not exist).
pub fn snapshot_from(src: &ReadTransaction, dest: &Path) -> Result<SnapshotInfo, StoreError> {
    if dest.exists() {
        return Err(io(
            dest,
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "the file already exists"),
        ));
    }
    let dir = dest.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    let mut tmp = dest.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let db = Database::create(&tmp).map_err(|e| StoreError::Open {
            path: tmp.clone(),
            source: e.into(),
        })?;
        let tx = db.begin_write()?;
        let mut rows = 0;
        macro_rules! copy_each {
            ($($t:ident),*) => {
                $(rows += copy_table(src, &tx, tables::$t)?;)*
            };
        }
        tables::all_tables!(copy_each);
        tx.commit()?;
        drop(db);
        restrict(&tmp)?;
        File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, dest).map_err(|e| io(dest, e))?;
        if let Some(dir) = dir {
            // The rename itself is durable only once the directory is.
            File::open(dir)
                .and_then(|f| f.sync_all())
                .map_err(|e| io(dir, e))?;
        }
        let bytes = std::fs::metadata(dest).map_err(|e| io(dest, e))?.len();
        Ok(SnapshotInfo {
            path: dest.to_owned(),
            bytes,
            tables: tables::COUNT,
            rows,
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Snapshot files hold password and session hashes: owner-only.
fn restrict(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Snapshot of a database before the store wraps it (the backup before a migration).
pub fn snapshot_db(db: &Database, dest: &Path) -> Result<SnapshotInfo, StoreError> {
    let tx = db.begin_read()?;
    snapshot_from(&tx, dest)
}

impl Store {
    /// A consistent snapshot of the whole database at `dest`; writers are not blocked.
    pub fn snapshot(&self, dest: &Path) -> Result<SnapshotInfo, StoreError> {
        let tx = self.begin_read()?;
        snapshot_from(&tx, dest)
    }
}
