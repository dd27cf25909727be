//! The file an object's SQLite database lives in: fixed-size pages stored as entries of the
//! object's own storage, under keys no user key can take (user keys are UTF-8; these start
//! with the byte 0xFF), so SQL data is committed, replicated and recovered exactly like the
//! key-value data, in the same batches.
//!
//! Writes land in a dirty layer. [`PageFile::take_dirty`] moves it into a batch (the storage
//! layer's coalesced write), which stays readable as an in-flight layer until the batch is
//! durable; then [`PageFile::retire`] drops it and reads go to storage. So a read always sees
//! the newest write, committed or not, as the key-value cache does.
//!
//! Guarantees: the file's size is always a whole number of pages; pages past the size are
//! deleted in the same batch that shrinks the file; a wiped file (`deleteAll()`) reads as empty
//! until the wipe is durable, whatever storage still holds.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::object::{ObjectStore, StoreError};

/// Bytes per stored page. SQLite's own page size is set to the same, so a page is one entry.
pub const PAGE_BYTES: usize = 4096;
/// Pages one batch may carry (16 MiB): past it a write fails with SQLITE_FULL, which rolls the
/// statement back. Keeps a batch well under the log's record limit (32 MiB).
pub const DIRTY_PAGES_MAX: usize = 4096;
/// Largest database: 10 GB, as Cloudflare's per-object limit.
pub const FILE_BYTES_MAX: u64 = 10 * 1000 * 1000 * 1000;
/// The first byte of every key of SQL data; never the first byte of a UTF-8 string.
pub const RESERVED_KEY_BYTE: u8 = 0xFF;
const PAGE_KEY_TAG: u8 = b'p';

/// The storage key of page `index`.
pub fn page_key(index: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(10);
    key.push(RESERVED_KEY_BYTE);
    key.push(PAGE_KEY_TAG);
    key.extend_from_slice(&index.to_be_bytes());
    key
}

fn page_index(key: &[u8]) -> Option<u64> {
    let rest = key.strip_prefix(&[RESERVED_KEY_BYTE, PAGE_KEY_TAG])?;
    Some(u64::from_be_bytes(rest.try_into().ok()?))
}

type Page = Arc<[u8; PAGE_BYTES]>;

/// Page writes not yet durable: `None` deletes the page.
#[derive(Default)]
struct Layer {
    pages: BTreeMap<u64, Option<Page>>,
    /// Everything older reads as absent.
    wiped: bool,
    /// The file's size in pages once this layer applies.
    pages_after: u64,
}

/// What one batch adds to the object's storage: pages to put (`Some`) or delete (`None`).
pub struct DirtyPages {
    pub generation: u64,
    pub pages: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// The page file of one object's database.
pub struct PageFile {
    store: Arc<dyn ObjectStore>,
    id: [u8; 32],
    dirty: Layer,
    dirty_touched: bool,
    /// Batches not yet durable, oldest first, with their generation.
    inflight: Vec<(u64, bool, Layer)>,
    next_generation: u64,
    /// Size in pages as storage holds it (every durable batch applied).
    durable_pages: u64,
}

impl PageFile {
    /// Opens the file of object `id`, reading its size from storage.
    pub fn open(store: Arc<dyn ObjectStore>, id: [u8; 32]) -> Result<PageFile, StoreError> {
        let start = page_key(0);
        let end = [RESERVED_KEY_BYTE, PAGE_KEY_TAG + 1];
        let last = store.list(&id, Some(&start), Some(&end), true, Some(1))?;
        let durable_pages = match last.first() {
            Some((key, _)) => page_index(key).map_or(0, |index| index + 1),
            None => 0,
        };
        Ok(PageFile {
            store,
            id,
            dirty: Layer {
                pages_after: durable_pages,
                ..Layer::default()
            },
            dirty_touched: false,
            inflight: Vec::new(),
            next_generation: 1,
            durable_pages,
        })
    }

    pub fn size_bytes(&self) -> u64 {
        self.dirty.pages_after * PAGE_BYTES as u64
    }

    pub fn has_dirty(&self) -> bool {
        self.dirty_touched
    }

    fn page(&self, index: u64) -> Result<Option<Page>, StoreError> {
        if index >= self.dirty.pages_after {
            return Ok(None);
        }
        if let Some(page) = self.dirty.pages.get(&index) {
            return Ok(page.clone());
        }
        if self.dirty.wiped {
            return Ok(None);
        }
        for (_, _, layer) in self.inflight.iter().rev() {
            if let Some(page) = layer.pages.get(&index) {
                return Ok(page.clone());
            }
            if layer.wiped {
                return Ok(None);
            }
        }
        let Some(bytes) = self.store.get(&self.id, &page_key(index))? else {
            return Ok(None);
        };
        let mut page = [0u8; PAGE_BYTES];
        let len = bytes.len().min(PAGE_BYTES);
        page[..len].copy_from_slice(&bytes[..len]);
        Ok(Some(Arc::new(page)))
    }

    /// Fills `buf` from `offset`; returns how many bytes lay inside the file (the rest is zeros).
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<usize, StoreError> {
        buf.fill(0);
        let size = self.size_bytes();
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            if at >= size {
                break;
            }
            let index = at / PAGE_BYTES as u64;
            let within = (at % PAGE_BYTES as u64) as usize;
            let len = (PAGE_BYTES - within).min(buf.len() - done);
            if let Some(page) = self.page(index)? {
                buf[done..done + len].copy_from_slice(&page[within..within + len]);
            }
            done += len;
        }
        Ok(done.min(size.saturating_sub(offset) as usize))
    }

    /// Writes `data` at `offset`, growing the file to whole pages. `Ok(false)`: the batch or the
    /// file would grow past its limit, and nothing was written.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<bool, StoreError> {
        let end = offset + data.len() as u64;
        if end > FILE_BYTES_MAX {
            return Ok(false);
        }
        let first = offset / PAGE_BYTES as u64;
        let last = end.div_ceil(PAGE_BYTES as u64);
        let new_pages = (first..last)
            .filter(|index| !self.dirty.pages.contains_key(index))
            .count();
        if self.dirty.pages.len() + new_pages > DIRTY_PAGES_MAX {
            return Ok(false);
        }
        let mut done = 0usize;
        while done < data.len() {
            let at = offset + done as u64;
            let index = at / PAGE_BYTES as u64;
            let within = (at % PAGE_BYTES as u64) as usize;
            let len = (PAGE_BYTES - within).min(data.len() - done);
            let mut page = if len == PAGE_BYTES {
                [0u8; PAGE_BYTES]
            } else {
                self.page(index)?.map_or([0u8; PAGE_BYTES], |page| *page)
            };
            page[within..within + len].copy_from_slice(&data[done..done + len]);
            self.dirty.pages.insert(index, Some(Arc::new(page)));
            done += len;
        }
        self.dirty.pages_after = self.dirty.pages_after.max(last);
        self.dirty_touched = true;
        Ok(true)
    }

    /// Shrinks (never grows) the file to `size` bytes, rounded up to whole pages.
    pub fn truncate(&mut self, size: u64) {
        let keep = size.div_ceil(PAGE_BYTES as u64);
        if keep >= self.dirty.pages_after {
            return;
        }
        for index in keep..self.dirty.pages_after {
            self.dirty.pages.insert(index, None);
        }
        self.dirty.pages_after = keep;
        self.dirty_touched = true;
    }

    /// Empties the file (`deleteAll()`): storage's pages go with the batch's delete-all.
    pub fn wipe(&mut self) {
        self.dirty = Layer {
            pages: BTreeMap::new(),
            wiped: true,
            pages_after: 0,
        };
        self.dirty_touched = true;
    }

    /// Drops writes not yet taken into a batch (the object was aborted).
    pub fn discard(&mut self) {
        let pages_after = self
            .inflight
            .last()
            .map_or(self.durable_pages, |(_, _, layer)| layer.pages_after);
        self.dirty = Layer {
            pages_after,
            ..Layer::default()
        };
        self.dirty_touched = false;
    }

    /// Moves the dirty layer into a batch; `None` when nothing was written. A wiped layer
    /// carries no deletes for old pages: the batch's delete-all removes them.
    pub fn take_dirty(&mut self) -> Option<DirtyPages> {
        if !self.dirty_touched {
            return None;
        }
        let pages_after = self.dirty.pages_after;
        let layer = std::mem::replace(
            &mut self.dirty,
            Layer {
                pages_after,
                ..Layer::default()
            },
        );
        self.dirty_touched = false;
        let generation = self.next_generation;
        self.next_generation += 1;
        let pages = layer
            .pages
            .iter()
            .filter(|(_, page)| page.is_some() || !layer.wiped)
            .map(|(index, page)| (page_key(*index), page.as_ref().map(|p| p.to_vec())))
            .collect();
        self.inflight.push((generation, false, layer));
        Some(DirtyPages { generation, pages })
    }

    /// The batch of `generation` is durable: layers leave strictly in commit order.
    pub fn retire(&mut self, generation: u64) {
        if let Some(entry) = self.inflight.iter_mut().find(|(g, _, _)| *g == generation) {
            entry.1 = true;
        }
        while self
            .inflight
            .first()
            .is_some_and(|(_, durable, _)| *durable)
        {
            let (_, _, layer) = self.inflight.remove(0);
            self.durable_pages = layer.pages_after;
        }
    }
}

#[cfg(test)]
mod tests;
