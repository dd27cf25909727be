//! Pure placement logic: object id to shard, and shard to owner node, with no I/O.
//!
//! Key → shard is hashing ([`shard_of`]); shard → node is an explicit table (arrives with the
//! cluster), so changing membership moves whole shards deliberately, never by accident.
//!
//! **Invariant:** nothing here does I/O or can fail.

/// The shard an object id belongs to. Ids are keyed-hash outputs, so their leading bytes are
/// already uniform; taking them modulo `shards` is stable across versions and platforms.
pub fn shard_of(object_id: &[u8; 32], shards: u32) -> u32 {
    assert!(shards > 0, "a cluster has at least one shard");
    let mut leading = [0u8; 8];
    leading.copy_from_slice(&object_id[..8]);
    (u64::from_be_bytes(leading) % u64::from(shards)) as u32
}

/// The JS thread (of `threads`) that runs an object. Uses the id's trailing bytes, so objects of
/// one shard still spread over every thread.
pub fn thread_of(object_id: &[u8; 32], threads: usize) -> usize {
    assert!(threads > 0, "a node has at least one JS thread");
    let mut trailing = [0u8; 8];
    trailing.copy_from_slice(&object_id[24..]);
    (u64::from_be_bytes(trailing) % threads as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_is_stable_and_in_range() {
        let mut id = [0u8; 32];
        id[7] = 65;
        id[31] = 3;
        assert_eq!(shard_of(&id, 64), 1);
        assert_eq!(thread_of(&id, 2), 1);
        for byte in 0..=255u8 {
            let id = [byte; 32];
            assert!(shard_of(&id, 64) < 64);
            assert!(thread_of(&id, 3) < 3);
        }
    }
}
