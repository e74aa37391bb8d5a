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

/// redb's page cache for the snapshot being written: the store's default. redb's own default
/// (1 GiB) kept every page of the copy in memory until its commit: a 1,000,000-entry database
/// grew the process by 127 MiB during a backup. With a small cache the pages are written out
/// as the copy goes.
const SNAPSHOT_CACHE_BYTES: usize = (super::DEFAULT_CACHE_MIB as usize) << 20;

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Open {
        path: path.to_owned(),
        source: e.into(),
    }
}

/// Rows handed from the reading thread to the writing one: keys and values as stored, each
/// preceded by its length.
struct Chunk {
    bytes: Vec<u8>,
    rows: u64,
}

/// About this many bytes of rows per chunk, and chunks in flight: the copy's memory beside
/// redb's caches stays under a megabyte.
const CHUNK_BYTES: usize = 128 << 10;
const CHUNKS_IN_FLIGHT: usize = 4;

fn put_len(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    buf.extend_from_slice(bytes);
}

fn take_len<'b>(buf: &mut &'b [u8]) -> Option<&'b [u8]> {
    let (len, rest) = buf.split_first_chunk::<4>()?;
    let len = u32::from_le_bytes(*len) as usize;
    let (bytes, rest) = (rest.get(..len)?, rest.get(len..)?);
    *buf = rest;
    Some(bytes)
}

/// Copies one table. One thread reads the source table (redb decodes pages and checks their
/// checksums) while this one appends the rows to the new file, so the two halves of the work
/// overlap instead of taking turns.
fn copy_table<K: redb::Key + Sync + 'static, V: redb::Value + Sync + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<u64, StoreError> {
    let from = src.open_table(def)?;
    let mut to = dst.open_table(def)?;
    std::thread::scope(|scope| {
        let (send, chunks) = std::sync::mpsc::sync_channel::<Chunk>(CHUNKS_IN_FLIGHT);
        let from = &from;
        let reader = scope.spawn(move || -> Result<(), StoreError> {
            let mut chunk = Chunk {
                bytes: Vec::with_capacity(CHUNK_BYTES + 4096),
                rows: 0,
            };
            for row in redb::ReadableTable::iter(from)? {
                let (k, v) = row?;
                put_len(&mut chunk.bytes, K::as_bytes(&k.value()).as_ref());
                put_len(&mut chunk.bytes, V::as_bytes(&v.value()).as_ref());
                chunk.rows += 1;
                if chunk.bytes.len() >= CHUNK_BYTES {
                    let next = Chunk {
                        bytes: Vec::with_capacity(CHUNK_BYTES + 4096),
                        rows: 0,
                    };
                    if send.send(std::mem::replace(&mut chunk, next)).is_err() {
                        // The writing side stopped on an error of its own: it reports it.
                        return Ok(());
                    }
                }
            }
            if chunk.rows > 0 {
                let _ = send.send(chunk);
            }
            Ok(())
        });
        let written = (|| -> Result<u64, StoreError> {
            let mut rows = 0;
            // The rows come in key order into an empty table: appended at its end through one
            // cursor (redb buffers the run and fills pages in order) instead of a search per
            // insert.
            let mut end = to.upper_bound_mut(std::ops::Bound::<K::SelfType<'_>>::Unbounded)?;
            for chunk in chunks {
                let mut rest = chunk.bytes.as_slice();
                for _ in 0..chunk.rows {
                    let (Some(k), Some(v)) = (take_len(&mut rest), take_len(&mut rest)) else {
                        return Err(StoreError::Invariant(
                            "a snapshot chunk ended inside a row".into(),
                        ));
                    };
                    end.insert_before(K::from_bytes(k), V::from_bytes(v))
                        .map_err(redb::Error::from)?;
                }
                rows += chunk.rows;
            }
            end.close()?;
            Ok(rows)
        })();
        let read = reader
            .join()
            .map_err(|_| StoreError::Join("the snapshot reader panicked".into()))?;
        // A read error ends the stream early: it wins over the short count it caused.
        read?;
        written
    })
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
        let db = redb::Builder::new()
            .set_cache_size(SNAPSHOT_CACHE_BYTES)
            .create(&tmp)
            .map_err(|e| StoreError::Open {
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

#[cfg(test)]
mod tests {
    use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

    use crate::domain::{GuildId, Money, TxKind, UserId};
    use crate::store::accounts::NewEntry;
    use crate::store::tables;
    use crate::testing;

    /// Every row of `def` in `a` is in `b` with the same bytes, and nothing else is.
    fn same_rows<K: redb::Key + 'static, V: redb::Value + 'static>(
        a: &redb::ReadTransaction,
        b: &redb::ReadTransaction,
        def: TableDefinition<K, V>,
    ) -> u64 {
        let (ta, tb) = (a.open_table(def).unwrap(), b.open_table(def).unwrap());
        assert_eq!(ta.len().unwrap(), tb.len().unwrap(), "{def}");
        let mut n = 0;
        for (ra, rb) in ta.iter().unwrap().zip(tb.iter().unwrap()) {
            let ((ka, va), (kb, vb)) = (ra.unwrap(), rb.unwrap());
            assert_eq!(
                K::as_bytes(&ka.value()).as_ref(),
                K::as_bytes(&kb.value()).as_ref()
            );
            assert_eq!(
                V::as_bytes(&va.value()).as_ref(),
                V::as_bytes(&vb.value()).as_ref()
            );
            n += 1;
        }
        n
    }

    #[test]
    fn a_snapshot_holds_every_row_of_every_table_byte_for_byte() {
        let ts = testing::store();
        // Enough ledger rows to fill several of the copy's chunks, and one value larger than a
        // chunk, so rows cross chunk boundaries both ways.
        let long = "x".repeat(super::CHUNK_BYTES + 1000);
        ts.store
            .write(GuildId(1), |w| {
                for i in 0..3_000u64 {
                    w.append_entry(NewEntry::new(
                        UserId(i % 40 + 1),
                        Money::new(5),
                        TxKind::AdminAdd,
                        if i == 1_500 {
                            long.clone()
                        } else {
                            format!("row {i}")
                        },
                    ))?;
                }
                Ok::<_, crate::store::StoreError>(())
            })
            .unwrap();
        let dest = ts.dir.path().join("copy.redb");
        let info = ts.store.snapshot(&dest).unwrap();
        let copy = redb::Database::open(&dest).unwrap();
        let (a, b) = (ts.store.begin_read().unwrap(), copy.begin_read().unwrap());
        let mut rows = 0;
        macro_rules! compare_each {
            ($($t:ident),*) => {
                $(rows += same_rows(&a, &b, tables::$t);)*
            };
        }
        tables::all_tables!(compare_each);
        assert_eq!(rows, info.rows);
        assert!(rows > 3_000 + 40, "ledger and accounts copied: {rows}");
    }
}
