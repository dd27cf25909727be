//! SQL storage of Durable Objects (`ctx.storage.sql`, `transactionSync`): SQLite, compiled in,
//! over a VFS whose database file is pages in the object's own storage (see [`page_file`]).
//! The pages join the object's coalesced batches, so SQL writes get the key-value API's
//! guarantees with no code of their own: the output gate waits for them, they are atomic with
//! the key-value writes of the same turn, replicated by the shard's Raft group in a cluster,
//! and restored after kill -9 or a failover from committed storage.
//!
//! Only classes created by `new_sqlite_classes` migrations have SQL, as on Cloudflare.

pub mod database;
pub mod ops;
pub mod page_file;
pub mod vfs;

use std::collections::HashMap;

pub use database::{SqlDatabase, SqlError, SqlValue};

/// Databases per isolate (one per live SQL-backed object); past it opening another fails.
pub const DATABASES_MAX: usize = 65_536;
/// Connections kept open per isolate, each with a page cache of up to 2 MiB; past it the least
/// recently used one is closed (and reopened from its pages when next used).
pub const CONNECTIONS_MAX: usize = 256;

/// The SQL databases of the live objects of one isolate, by handle.
#[derive(Default)]
pub struct Databases {
    /// Each database with the tick it was last used at.
    open: HashMap<u32, (SqlDatabase, u64)>,
    next_handle: u32,
    tick: u64,
}

impl Databases {
    pub fn insert(&mut self, database: SqlDatabase) -> Option<u32> {
        if self.open.len() >= DATABASES_MAX {
            return None;
        }
        loop {
            self.next_handle = self.next_handle.wrapping_add(1).max(1);
            if !self.open.contains_key(&self.next_handle) {
                break;
            }
        }
        self.open.insert(self.next_handle, (database, 0));
        Some(self.next_handle)
    }

    /// The database of `handle`, marked as used now. Closes the least recently used other
    /// connection when too many are open.
    pub fn get_mut(&mut self, handle: u32) -> Option<&mut SqlDatabase> {
        self.tick += 1;
        let tick = self.tick;
        // Counting costs a pass over the databases, so only when there are enough to matter.
        let crowded = self.open.len() > CONNECTIONS_MAX
            && self.open.values().filter(|(db, _)| db.connected()).count() >= CONNECTIONS_MAX;
        if crowded {
            let oldest = self
                .open
                .iter()
                .filter(|(h, (db, _))| **h != handle && db.connected())
                .min_by_key(|(_, (_, used))| *used)
                .map(|(h, _)| *h);
            if let Some((db, _)) = oldest.and_then(|h| self.open.get_mut(&h)) {
                db.disconnect();
            }
        }
        let (database, used) = self.open.get_mut(&handle)?;
        *used = tick;
        Some(database)
    }

    pub fn remove(&mut self, handle: u32) {
        self.open.remove(&handle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::store::{Batch, CommitFuture, Entry};
    use crate::object::{ObjectStore, StoreError};
    use std::sync::Arc;

    struct Empty;
    impl ObjectStore for Empty {
        fn get(&self, _: &[u8; 32], _: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(None)
        }
        fn list(
            &self,
            _: &[u8; 32],
            _: Option<&[u8]>,
            _: Option<&[u8]>,
            _: bool,
            _: Option<usize>,
        ) -> Result<Vec<Entry>, StoreError> {
            Ok(Vec::new())
        }
        fn get_alarm(&self, _: &[u8; 32]) -> Result<Option<i64>, StoreError> {
            Ok(None)
        }
        fn commit(&self, _: Batch) -> CommitFuture {
            Box::pin(async { Ok(()) })
        }
    }

    #[test]
    fn the_least_recently_used_connection_closes_past_the_cap_and_its_data_stays() {
        let store: Arc<dyn ObjectStore> = Arc::new(Empty);
        let mut databases = Databases::default();
        let mut handles = Vec::new();
        for i in 0..=CONNECTIONS_MAX {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&(i as u64).to_be_bytes());
            let database = SqlDatabase::open(Arc::clone(&store), id).expect("opens");
            handles.push(databases.insert(database).expect("room"));
        }
        for (i, handle) in handles.iter().enumerate() {
            let database = databases.get_mut(*handle).expect("present");
            database
                .exec(
                    &format!("CREATE TABLE t{i} (x); INSERT INTO t{i} VALUES ({i})"),
                    &[],
                    None,
                )
                .expect("runs");
        }
        let first = databases.get_mut(handles[0]).expect("present");
        let rows = first
            .exec("SELECT x FROM t0", &[], None)
            .expect("reopened from its pages");
        assert_eq!(rows.values, vec![SqlValue::Number(0.0)]);
        let open = databases
            .open
            .values()
            .filter(|(db, _)| db.connected())
            .count();
        assert!(open <= CONNECTIONS_MAX, "{open} connections open");
    }
}
