//! The shared write transaction of a group-commit batch, with its tables opened once per batch.
//!
//! Opening a redb table is not free: it looks the table up in the table tree, checks its key and
//! value types (formatting their names) and, when the handle is dropped, stages its new root.
//! A transfer opens about a dozen tables, and a batch runs up to `MAX_BATCH` operations, so
//! those opens were a third of the time spent running operations (perf, service benchmark at 64
//! callers). `TrackedTx` keeps each table it opened until the batch commits and lends it out
//! through `CachedTable`, a guard that derefs to the `redb::Table` and gives it back when
//! dropped. Lending a table that is already lent is refused the way redb refuses opening a table
//! twice (`TableAlreadyOpen`), so code written against plain transactions behaves the same.

use std::any::Any;
use std::borrow::Borrow;
use std::cell::{Cell, RefCell, UnsafeCell};
use std::ops::{Bound, Deref, DerefMut, RangeBounds};

use redb::{
    AccessGuard, Key, Range, ReadableTable, ReadableTableMetadata, TableDefinition, TableError,
    TableHandle, TableStats, Value, WriteTransaction,
};

use super::{StoreError, Tables};

/// One cached table. `busy` while a `CachedTable` lends it.
struct Slot<K: Key + 'static, V: Value + 'static> {
    busy: Cell<bool>,
    /// Lifetime-erased: it borrows `TrackedTx::tx` (see `TrackedTx`).
    table: UnsafeCell<redb::Table<'static, K, V>>,
}

/// The shared write transaction as operations see it: it remembers whether the running
/// operation opened a table for writing, so a refusal that wrote nothing can stay in the batch,
/// and it keeps the tables it opened until the batch ends.
///
/// Soundness of the cache: every cached `redb::Table` borrows the transaction, which is boxed
/// (it never moves while `TrackedTx` does) and is dropped only after the cache (field order in
/// `Drop`, `into_inner`). A slot is dropped only while no `CachedTable` lends it (`drop_tables`
/// checks `busy`), and a `CachedTable` borrows the `TrackedTx`, so it cannot outlive it.
pub struct TrackedTx {
    /// Declared before `tx`: dropped first.
    tables: RefCell<Vec<(String, Box<dyn AnySlot>)>>,
    tx: Box<WriteTransaction>,
    wrote: Cell<bool>,
}

impl TrackedTx {
    pub(super) fn new(tx: WriteTransaction) -> Self {
        TrackedTx {
            tables: RefCell::new(Vec::new()),
            tx: Box::new(tx),
            wrote: Cell::new(false),
        }
    }

    /// Whether the running operation opened a table for writing (or took the raw transaction).
    pub(super) fn wrote(&self) -> bool {
        self.wrote.get()
    }

    /// Starts the next operation's tracking.
    pub(super) fn start_operation(&self) {
        self.wrote.set(false);
    }

    /// Closes the cached tables and hands back the transaction (to commit it).
    pub(super) fn into_inner(self) -> Result<WriteTransaction, StoreError> {
        self.drop_tables()?;
        let TrackedTx { tables, tx, .. } = self;
        drop(tables);
        Ok(*tx)
    }

    /// Opens a table for writing (marks the running operation as having written).
    #[track_caller]
    pub fn open_table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<CachedTable<'_, K, V>, TableError> {
        self.wrote.set(true);
        self.lend(def)
    }

    /// The raw transaction, for code that works on it directly (counted as a write). The cached
    /// tables are closed first, so the caller can open any of them; it fails if one is lent.
    pub fn raw(&self) -> Result<&WriteTransaction, StoreError> {
        self.wrote.set(true);
        self.drop_tables()?;
        Ok(&self.tx)
    }

    /// Closes every cached table (they stage their roots in the transaction as redb tables do
    /// when dropped). Refused while one is lent: that guard still points into it.
    fn drop_tables(&self) -> Result<(), StoreError> {
        let mut tables = self.tables.borrow_mut();
        if let Some((name, _)) = tables.iter().find(|(_, slot)| slot.busy()) {
            return Err(StoreError::Invariant(format!(
                "the table `{name}` is still open in this write"
            )));
        }
        tables.clear();
        Ok(())
    }

    #[track_caller]
    fn lend<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<CachedTable<'_, K, V>, TableError> {
        let name = def.name();
        let mut tables = self.tables.borrow_mut();
        let at = match tables.iter().position(|(n, _)| *n == name) {
            Some(at) => at,
            None => {
                let table = self.tx.open_table(def)?;
                // SAFETY: the table borrows `*self.tx`; see `TrackedTx` for why the erased
                // lifetime never outlives it.
                let table: redb::Table<'static, K, V> = unsafe { std::mem::transmute(table) };
                let slot: Box<dyn AnySlot> = Box::new(Slot {
                    busy: Cell::new(false),
                    table: UnsafeCell::new(table),
                });
                tables.push((name.to_owned(), slot));
                tables.len() - 1
            }
        };
        let Some(slot) = tables[at].1.as_any().downcast_ref::<Slot<K, V>>() else {
            // Two definitions with one name and different types: redb would refuse too.
            return Err(TableError::TableAlreadyOpen(
                name.to_owned(),
                std::panic::Location::caller(),
            ));
        };
        if slot.busy.replace(true) {
            return Err(TableError::TableAlreadyOpen(
                name.to_owned(),
                std::panic::Location::caller(),
            ));
        }
        let slot: *const Slot<K, V> = slot;
        // SAFETY: the slot is boxed (pushing to the vector does not move it) and is dropped only
        // when not busy; it is busy until the returned guard (which borrows `self`) is dropped.
        Ok(CachedTable {
            slot: unsafe { &*slot },
        })
    }
}

/// A cached table of any key and value type.
trait AnySlot {
    fn busy(&self) -> bool;
    fn as_any(&self) -> &dyn Any;
}

impl<K: Key + 'static, V: Value + 'static> AnySlot for Slot<K, V> {
    fn busy(&self) -> bool {
        self.busy.get()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Tables for TrackedTx {
    type Table<'s, K: Key + 'static, V: Value + 'static> = CachedTable<'s, K, V>;
    /// For reads: does not count as a write (nothing in the store inserts through `open`).
    #[track_caller]
    fn open<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<Self::Table<'_, K, V>, StoreError> {
        Ok(self.lend(def)?)
    }
}

/// A table lent by `TrackedTx` for as long as this guard lives. Derefs to the `redb::Table`.
pub struct CachedTable<'s, K: Key + 'static, V: Value + 'static> {
    slot: &'s Slot<K, V>,
}

impl<K: Key + 'static, V: Value + 'static> Drop for CachedTable<'_, K, V> {
    fn drop(&mut self) {
        self.slot.busy.set(false);
    }
}

impl<'s, K: Key + 'static, V: Value + 'static> Deref for CachedTable<'s, K, V> {
    type Target = redb::Table<'s, K, V>;
    fn deref(&self) -> &Self::Target {
        // SAFETY: this guard has the slot to itself while `busy` (set in `lend`).
        unsafe { &*self.slot.table.get().cast::<redb::Table<'s, K, V>>() }
    }
}

impl<K: Key + 'static, V: Value + 'static> DerefMut for CachedTable<'_, K, V> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference through the guard.
        unsafe { &mut *self.slot.table.get().cast() }
    }
}

impl<K: Key + 'static, V: Value + 'static> ReadableTableMetadata for CachedTable<'_, K, V> {
    fn stats(&self) -> redb::Result<TableStats> {
        (**self).stats()
    }

    fn len(&self) -> redb::Result<u64> {
        (**self).len()
    }
}

impl<K: Key + 'static, V: Value + 'static> ReadableTable<K, V> for CachedTable<'_, K, V> {
    fn get<'a>(
        &self,
        key: impl Borrow<K::SelfType<'a>>,
    ) -> redb::Result<Option<AccessGuard<'_, V>>> {
        (**self).get(key)
    }

    fn range<'a, KR>(&self, range: impl RangeBounds<KR> + 'a) -> redb::Result<Range<'_, K, V>>
    where
        KR: Borrow<K::SelfType<'a>> + 'a,
    {
        (**self).range(range)
    }

    fn first(&self) -> redb::Result<Option<(AccessGuard<'_, K>, AccessGuard<'_, V>)>> {
        (**self).first()
    }

    fn last(&self) -> redb::Result<Option<(AccessGuard<'_, K>, AccessGuard<'_, V>)>> {
        (**self).last()
    }

    fn lower_bound<'a>(
        &self,
        bound: Bound<impl Borrow<K::SelfType<'a>>>,
    ) -> redb::Result<redb::Cursor<'_, K, V>> {
        (**self).lower_bound(bound)
    }

    fn upper_bound<'a>(
        &self,
        bound: Bound<impl Borrow<K::SelfType<'a>>>,
    ) -> redb::Result<redb::Cursor<'_, K, V>> {
        (**self).upper_bound(bound)
    }
}

#[cfg(test)]
mod tests {
    use redb::{ReadableDatabase, ReadableTable, TableDefinition};

    use super::TrackedTx;
    use crate::store::{StoreError, Tables};

    const T: TableDefinition<u64, u64> = TableDefinition::new("t");
    const U: TableDefinition<u64, u64> = TableDefinition::new("u");

    fn db() -> (tempfile::TempDir, redb::Database) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = redb::Database::create(dir.path().join("db.redb")).expect("create");
        (dir, db)
    }

    #[test]
    fn a_table_is_opened_once_per_transaction_and_lent_to_one_user_at_a_time() {
        let (_dir, db) = db();
        let tx = TrackedTx::new(db.begin_write().expect("begin"));
        {
            let mut t = tx.open_table(T).expect("open");
            t.insert(1, 10).expect("insert");
            // Lent: a second open is refused the way redb refuses it, for reads too.
            assert!(matches!(
                tx.open_table(T),
                Err(redb::TableError::TableAlreadyOpen(name, _)) if name == "t"
            ));
            assert!(matches!(
                tx.open(T),
                Err(StoreError::Db(redb::Error::TableAlreadyOpen(name, _))) if name == "t"
            ));
            // Another table is independent.
            tx.open_table(U)
                .expect("open u")
                .insert(2, 20)
                .expect("insert u");
        }
        // Given back: the same handle again, with what was written through it.
        assert_eq!(
            tx.open(T)
                .expect("reopen")
                .get(1)
                .expect("get")
                .map(|v| v.value()),
            Some(10)
        );
        assert_eq!(tx.tables.borrow().len(), 2, "each table opened once");
        tx.into_inner().expect("close").commit().expect("commit");
        let r = db.begin_read().expect("read");
        let t = r.open_table(T).expect("t");
        assert_eq!(t.get(1).expect("get").map(|v| v.value()), Some(10));
        let u = r.open_table(U).expect("u");
        assert_eq!(u.get(2).expect("get").map(|v| v.value()), Some(20));
    }

    /// A transaction that wrote `T[1] = 1` through the cache.
    fn wrote_one(db: &redb::Database) -> TrackedTx {
        let tx = TrackedTx::new(db.begin_write().expect("begin"));
        tx.open_table(T)
            .expect("open")
            .insert(1, 1)
            .expect("insert");
        tx
    }

    #[test]
    fn the_raw_transaction_closes_the_cache_and_is_refused_while_a_table_is_lent() {
        let (_dir, db) = db();
        let tx = wrote_one(&db);
        {
            let _lent = tx.open(T).expect("open");
            assert!(matches!(tx.raw(), Err(StoreError::Invariant(m)) if m.contains("`t`")));
        }
        // Nothing lent: the cached tables are closed, and the raw transaction opens them itself,
        // seeing what was written through the cache.
        let raw = tx.raw().expect("raw");
        let mut t = raw.open_table(T).expect("raw open");
        assert_eq!(t.get(1).expect("get").map(|v| v.value()), Some(1));
        t.insert(1, 2).expect("insert");
        drop(t);
        assert_eq!(
            tx.open(T)
                .expect("open")
                .get(1)
                .expect("get")
                .map(|v| v.value()),
            Some(2)
        );
        tx.into_inner().expect("close").commit().expect("commit");
    }

    #[test]
    fn dropping_the_transaction_drops_what_was_written_through_the_cache() {
        let (_dir, db) = db();
        drop(wrote_one(&db));
        let r = db.begin_read().expect("read");
        let t = r.open_table(T);
        assert!(matches!(t, Err(redb::TableError::TableDoesNotExist(_))));
    }

    #[test]
    fn reading_does_not_count_as_writing() {
        let (_dir, db) = db();
        let tx = TrackedTx::new(db.begin_write().expect("begin"));
        tx.start_operation();
        drop(tx.open(T).expect("open"));
        assert!(!tx.wrote());
        drop(tx.open_table(T).expect("open"));
        assert!(tx.wrote());
        tx.start_operation();
        assert!(!tx.wrote());
        tx.raw().expect("raw");
        assert!(tx.wrote());
    }
}
