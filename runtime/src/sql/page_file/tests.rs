//! The page file's layers against an in-memory store that applies batches as storage does.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::*;
use crate::object::store::{Batch, CommitFuture, Entry};

#[derive(Default)]
struct MemoryStore {
    data: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemoryStore {
    fn apply(&self, pages: &DirtyPages, delete_all: bool) {
        let mut data = self.data.lock().unwrap();
        if delete_all {
            data.clear();
        }
        for (key, page) in &pages.pages {
            match page {
                Some(value) => data.insert(key.clone(), value.clone()),
                None => data.remove(key),
            };
        }
    }
}

impl ObjectStore for MemoryStore {
    fn get(&self, _: &[u8; 32], key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.data.lock().unwrap().get(key).cloned())
    }
    fn list(
        &self,
        _: &[u8; 32],
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        reverse: bool,
        limit: Option<usize>,
    ) -> Result<Vec<Entry>, StoreError> {
        let data = self.data.lock().unwrap();
        let mut entries: Vec<Entry> = data
            .iter()
            .filter(|(k, _)| start.is_none_or(|s| k.as_slice() >= s))
            .filter(|(k, _)| end.is_none_or(|e| k.as_slice() < e))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if reverse {
            entries.reverse();
        }
        entries.truncate(limit.unwrap_or(usize::MAX));
        Ok(entries)
    }
    fn get_alarm(&self, _: &[u8; 32]) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }
    fn commit(&self, _: Batch) -> CommitFuture {
        Box::pin(async { Ok(()) })
    }
}

fn read_all(file: &PageFile) -> Vec<u8> {
    let mut buf = vec![0u8; file.size_bytes() as usize];
    let read = file.read(0, &mut buf).unwrap();
    assert_eq!(read, buf.len());
    buf
}

#[test]
fn writes_read_back_before_and_after_they_are_durable() {
    let store = Arc::new(MemoryStore::default());
    let mut file = PageFile::open(store.clone(), [1; 32]).unwrap();
    assert_eq!(file.size_bytes(), 0);
    assert!(file.write(100, b"hello").unwrap());
    assert_eq!(file.size_bytes(), PAGE_BYTES as u64);
    // Across a page boundary, skipping page 1 (which reads as zeros).
    assert!(file.write(PAGE_BYTES as u64 * 3 - 2, b"span").unwrap());
    assert_eq!(file.size_bytes(), 4 * PAGE_BYTES as u64);
    let batch = file.take_dirty().unwrap();
    assert_eq!(batch.pages.len(), 3);
    assert!(file.take_dirty().is_none(), "nothing new was written");
    // In flight: still readable, though storage does not have it yet.
    let bytes = read_all(&file);
    assert_eq!(&bytes[100..105], b"hello");
    assert_eq!(&bytes[PAGE_BYTES * 3 - 2..PAGE_BYTES * 3 + 2], b"span");
    assert!(bytes[PAGE_BYTES..PAGE_BYTES * 2].iter().all(|b| *b == 0));
    store.apply(&batch, false);
    file.retire(batch.generation);
    let reopened = PageFile::open(store.clone(), [1; 32]).unwrap();
    assert_eq!(reopened.size_bytes(), 4 * PAGE_BYTES as u64);
    assert_eq!(read_all(&reopened), bytes);
}

#[test]
fn a_read_past_the_end_is_short_and_zero_filled() {
    let store = Arc::new(MemoryStore::default());
    let mut file = PageFile::open(store, [2; 32]).unwrap();
    assert!(file.write(0, &[7u8; 10]).unwrap());
    let mut buf = [9u8; 100];
    let read = file.read(PAGE_BYTES as u64 - 50, &mut buf).unwrap();
    assert_eq!(read, 50);
    assert!(buf[50..].iter().all(|b| *b == 0));
}

#[test]
fn truncation_deletes_the_pages_past_the_new_end_in_the_same_batch() {
    let store = Arc::new(MemoryStore::default());
    let mut file = PageFile::open(store.clone(), [3; 32]).unwrap();
    assert!(file.write(0, &[1u8; PAGE_BYTES * 3]).unwrap());
    let first = file.take_dirty().unwrap();
    store.apply(&first, false);
    file.retire(first.generation);
    file.truncate(PAGE_BYTES as u64 + 1);
    assert_eq!(file.size_bytes(), 2 * PAGE_BYTES as u64);
    let second = file.take_dirty().unwrap();
    assert_eq!(second.pages, vec![(page_key(2), None)]);
    store.apply(&second, false);
    file.retire(second.generation);
    assert_eq!(
        PageFile::open(store, [3; 32]).unwrap().size_bytes(),
        2 * PAGE_BYTES as u64
    );
}

#[test]
fn a_wiped_file_reads_empty_while_storage_still_has_its_pages() {
    let store = Arc::new(MemoryStore::default());
    let mut file = PageFile::open(store.clone(), [4; 32]).unwrap();
    assert!(file.write(0, &[5u8; PAGE_BYTES * 2]).unwrap());
    let first = file.take_dirty().unwrap();
    store.apply(&first, false);
    file.retire(first.generation);
    file.wipe();
    assert_eq!(file.size_bytes(), 0);
    assert!(file.write(0, &[6u8; 4]).unwrap());
    let wipe = file.take_dirty().unwrap();
    assert_eq!(
        wipe.pages.len(),
        1,
        "old pages go with the batch's delete-all"
    );
    let mut buf = [0u8; 8];
    assert_eq!(file.read(0, &mut buf).unwrap(), 8);
    assert_eq!(&buf[..4], &[6u8; 4]);
    assert_eq!(
        &buf[4..],
        &[0u8; 4],
        "the old page is not read through the wipe"
    );
    store.apply(&wipe, true);
    file.retire(wipe.generation);
    assert_eq!(
        PageFile::open(store, [4; 32]).unwrap().size_bytes(),
        PAGE_BYTES as u64
    );
}

#[test]
fn discarding_forgets_only_writes_not_yet_in_a_batch() {
    let store = Arc::new(MemoryStore::default());
    let mut file = PageFile::open(store, [5; 32]).unwrap();
    assert!(file.write(0, &[1u8; 8]).unwrap());
    let _in_flight = file.take_dirty().unwrap();
    assert!(file.write(PAGE_BYTES as u64, &[2u8; 8]).unwrap());
    file.discard();
    assert!(!file.has_dirty());
    assert_eq!(file.size_bytes(), PAGE_BYTES as u64);
    let mut buf = [0u8; 8];
    file.read(0, &mut buf).unwrap();
    assert_eq!(buf, [1u8; 8]);
}

#[test]
fn a_batch_cannot_grow_past_its_page_limit() {
    let store = Arc::new(MemoryStore::default());
    let mut file = PageFile::open(store, [6; 32]).unwrap();
    let full = vec![1u8; DIRTY_PAGES_MAX * PAGE_BYTES];
    assert!(file.write(0, &full).unwrap());
    assert!(
        !file.write(full.len() as u64, &[1]).unwrap(),
        "one page past the limit"
    );
    assert_eq!(
        file.size_bytes(),
        full.len() as u64,
        "the refused write left no trace"
    );
    assert!(
        file.write(0, &[2]).unwrap(),
        "rewriting a dirty page still works"
    );
    let batch = file.take_dirty().unwrap();
    assert_eq!(batch.pages.len(), DIRTY_PAGES_MAX);
    assert!(
        file.write(full.len() as u64, &[1]).unwrap(),
        "a new batch has room again"
    );
}
