//! Schema version and migrations. Each migration runs in one write transaction with the version
//! bump, so a crash mid-migration leaves the old version intact. A newer schema is refused.

use std::path::Path;

use redb::{Database, ReadableTable, WriteTransaction};

use super::{tables, StoreError};

/// The schema this build writes.
pub const CURRENT: u64 = 3;

type Migration = fn(&WriteTransaction) -> Result<(), StoreError>;

/// Migration `i` moves the schema from version `i` to `i + 1`.
const MIGRATIONS: [Migration; CURRENT as usize] = [v0_to_v1, v1_to_v2, v2_to_v3];

fn v0_to_v1(tx: &WriteTransaction) -> Result<(), StoreError> {
    tables::create_all(tx)?;
    Ok(())
}

/// v2: the work-list indexes (`sync_due`, `role_grants_due`, `notices_due`), filled from the
/// pending rows already stored.
fn v1_to_v2(tx: &WriteTransaction) -> Result<(), StoreError> {
    use super::notices::{Notice, NoticeState};
    use super::outbox::{SyncRecord, SyncState};
    use super::roles::{GrantState, RoleGrant};
    tables::create_all(tx)?;
    {
        let records = tx.open_table(tables::DISCORD_SYNC)?;
        let mut due = tx.open_table(tables::SYNC_DUE)?;
        for row in records.iter()? {
            let (k, v) = row?;
            let r: SyncRecord = super::decode("discord_sync", v.value())?;
            if r.state == SyncState::Pending {
                let (g, kind, object) = k.value();
                due.insert((g, kind, object), ())?;
            }
        }
    }
    {
        let grants = tx.open_table(tables::ROLE_GRANTS)?;
        let mut due = tx.open_table(tables::GRANTS_DUE)?;
        for row in grants.iter()? {
            let (k, v) = row?;
            let g: RoleGrant = super::decode("role_grants", v.value())?;
            if g.state == GrantState::Pending {
                due.insert(k.value(), ())?;
            }
        }
    }
    let notices = tx.open_table(tables::NOTICES)?;
    let mut due = tx.open_table(tables::NOTICES_DUE)?;
    for row in notices.iter()? {
        let (k, v) = row?;
        let n: Notice = super::decode("notices", v.value())?;
        if n.state == NoticeState::Pending {
            due.insert(k.value(), ())?;
        }
    }
    Ok(())
}

/// v3: accounts and ledger entries (live and archived) as compact binary records
/// (`records.rs`) instead of JSON, each member's entries chained (entry -> previous entry,
/// account -> latest) in place of the `ledger_by_user` index table, which is dropped.
/// Rewritten a chunk at a time, so memory stays flat but for one id per member.
fn v2_to_v3(tx: &WriteTransaction) -> Result<(), StoreError> {
    use super::records;
    use std::collections::HashMap;
    tables::create_all(tx)?;
    // Archived ids are all below live ones: walking the archive first, then the ledger, visits
    // each guild's entries in id order.
    let mut last: HashMap<(u64, u64), u64> = HashMap::new();
    for (def, name) in [
        (tables::LEDGER_ARCHIVE, "ledger_archive"),
        (tables::LEDGER, "ledger"),
    ] {
        rewrite(tx, def, |(g, id), b| {
            let t = records::decode_entry(name, b)?;
            let prev = last.insert((g, t.user.0), id).unwrap_or(0);
            records::encode_entry(&t, prev)
        })?;
    }
    rewrite(tx, tables::ACCOUNTS, |(g, u), b| {
        let a = records::decode_account("accounts", b)?;
        Ok(records::encode_account(
            &a,
            last.get(&(g, u)).copied().unwrap_or(0),
        ))
    })?;
    let by_user: redb::TableDefinition<(u64, u64, u64), ()> =
        redb::TableDefinition::new("ledger_by_user");
    tx.delete_table(by_user)?;
    Ok(())
}

/// Replaces every value of a `(u64, u64)`-keyed table by `f(key, value)`, in key order,
/// 10,000 rows at a time.
fn rewrite(
    tx: &WriteTransaction,
    def: redb::TableDefinition<(u64, u64), tables::Bytes>,
    mut f: impl FnMut((u64, u64), &[u8]) -> Result<Vec<u8>, StoreError>,
) -> Result<(), StoreError> {
    let mut t = tx.open_table(def)?;
    let mut from = (0u64, 0u64);
    loop {
        let mut chunk = Vec::with_capacity(10_000);
        for row in t.range(from..)?.take(10_000) {
            let (k, v) = row?;
            let k = k.value();
            chunk.push((k, f(k, v.value())?));
        }
        let Some(&(last, _)) = chunk.last() else {
            return Ok(());
        };
        for (k, v) in &chunk {
            t.insert(*k, v.as_slice())?;
        }
        from = match (last.0, last.1.checked_add(1)) {
            (g, Some(id)) => (g, id),
            (g, None) => match g.checked_add(1) {
                Some(g) => (g, 0),
                None => return Ok(()),
            },
        };
    }
}

pub fn schema_version(tx: &WriteTransaction) -> Result<u64, StoreError> {
    let meta = tx.open_table(tables::META)?;
    let v = meta.get("schema_version")?.map(|v| v.value()).unwrap_or(0);
    Ok(v)
}

/// Brings the schema up to `CURRENT`. A database that already holds data is first copied to
/// `backup_dir` (when given), so a failed or regretted upgrade can be undone with `restore`.
pub(super) fn run(db: &Database, path: &Path, backup_dir: Option<&Path>) -> Result<(), StoreError> {
    // A new (empty) database needs no backup; an existing one gets one before its first step.
    let mut backed_up = false;
    let mut first = true;
    loop {
        let tx = db.begin_write()?;
        let found = schema_version(&tx)?;
        if std::mem::take(&mut first) && found == 0 {
            backed_up = true;
        }
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
        if found > 0 && !backed_up {
            if let Some(dir) = backup_dir {
                // The write transaction is dropped first: the copy reads the old schema.
                drop(tx);
                let name = format!(
                    "coffer-{}-before-schema-v{}.redb",
                    chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
                    found + 1
                );
                let info = super::snapshot::snapshot_db(db, &dir.join(name))?;
                tracing::info!(path = %info.path.display(), "backup taken before the schema migration");
                backed_up = true;
                continue;
            }
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
