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

/// Open databases per isolate; past this, opening another fails (each holds a page cache).
pub const OPEN_DATABASES_MAX: usize = 4096;

/// The SQL databases of the live objects of one isolate, by handle.
#[derive(Default)]
pub struct Databases {
    open: HashMap<u32, SqlDatabase>,
    next_handle: u32,
}

impl Databases {
    pub fn insert(&mut self, database: SqlDatabase) -> Option<u32> {
        if self.open.len() >= OPEN_DATABASES_MAX {
            return None;
        }
        loop {
            self.next_handle = self.next_handle.wrapping_add(1).max(1);
            if !self.open.contains_key(&self.next_handle) {
                break;
            }
        }
        self.open.insert(self.next_handle, database);
        Some(self.next_handle)
    }

    pub fn get_mut(&mut self, handle: u32) -> Option<&mut SqlDatabase> {
        self.open.get_mut(&handle)
    }

    pub fn remove(&mut self, handle: u32) {
        self.open.remove(&handle);
    }
}
