//! The sled database a cluster node keeps its shard trees in, with the one durability step sled
//! lacks: a real fsync of everything written so far.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::shard_tree::ShardTree;

/// A node's object database (cheap to clone).
#[derive(Clone)]
pub struct ObjectDb {
    db: sled::Db,
    dir: PathBuf,
}

impl ObjectDb {
    /// Opens (or creates) the database in `dir`, waiting briefly for a lock a just-closed
    /// database of this process still holds.
    pub fn open(dir: &Path) -> Result<ObjectDb, Error> {
        Ok(ObjectDb {
            db: crate::store::open_sled(dir)?,
            dir: dir.to_owned(),
        })
    }

    /// The tree named `name`, created when missing.
    pub fn tree(&self, name: &str) -> Result<ShardTree, Error> {
        Ok(ShardTree::new(self.db.open_tree(name)?))
    }

    /// Makes everything written so far durable: sled's flush, then an fsync of every file.
    pub fn sync(&self) -> Result<(), Error> {
        self.db.flush()?;
        crate::store::sync_tree(&self.dir)
    }
}
