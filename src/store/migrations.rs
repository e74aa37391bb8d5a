//! Schema version and migrations. Each migration runs in one write transaction with the version
//! bump, so a crash mid-migration leaves the old version intact. A newer schema is refused.

use std::path::Path;

use redb::{Database, ReadableTable, WriteTransaction};

use super::{tables, StoreError};

/// The schema this build writes.
pub const CURRENT: u64 = 1;

type Migration = fn(&WriteTransaction) -> Result<(), StoreError>;

/// Migration `i` moves the schema from version `i` to `i + 1`.
const MIGRATIONS: [Migration; CURRENT as usize] = [v0_to_v1];

fn v0_to_v1(tx: &WriteTransaction) -> Result<(), StoreError> {
    tables::create_all(tx)?;
    Ok(())
}

pub fn schema_version(tx: &WriteTransaction) -> Result<u64, StoreError> {
    let meta = tx.open_table(tables::META)?;
    let v = meta.get("schema_version")?.map(|v| v.value()).unwrap_or(0);
    Ok(v)
}

pub(super) fn run(db: &Database, path: &Path) -> Result<(), StoreError> {
    loop {
        let tx = db.begin_write()?;
        let found = schema_version(&tx)?;
        if found > CURRENT {
            return Err(StoreError::NewerSchema {
                path: path.to_owned(),
                found,
                supported: CURRENT,
            });
        }
        if found == CURRENT {
            // Tables added within a version are created here, so reads never meet a missing one.
            tables::create_all(&tx)?;
            tx.commit()?;
            return Ok(());
        }
        MIGRATIONS[found as usize](&tx)?;
        tx.open_table(tables::META)?
            .insert("schema_version", found + 1)?;
        tx.commit()?;
        tracing::info!(from = found, to = found + 1, "database migrated");
    }
}

/// For tests and `restore`: stamps a version, as a newer build would.
pub fn set_schema_version(db_path: &Path, version: u64) -> Result<(), StoreError> {
    let db = Database::create(db_path)?;
    let tx = db.begin_write()?;
    tx.open_table(tables::META)?
        .insert("schema_version", version)?;
    tx.commit()?;
    Ok(())
}
