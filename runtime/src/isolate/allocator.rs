//! The allocator behind each isolate's heap: mimalloc, with a byte count and a hard cap.
//! (mimalloc rather than glibc's malloc: QuickJS allocates and frees small blocks all the time,
//! and asks each one's size; with mimalloc a hello-world request costs about a tenth less CPU.)
//!
//! An allocation that would take the isolate past its limit fails (QuickJS then throws) and
//! raises the `exceeded` flag, which the interrupt handler turns into the isolate's termination:
//! JavaScript cannot catch its way past the memory limit.
//!
//! The bytes in use are QuickJS's own count (it asks every block's size as it allocates and
//! frees, for its garbage collector), read through `JS_GetMallocSize` once the runtime exists:
//! counting them here as well asked mimalloc for each block's size twice (about a twentieth of a
//! request's CPU). Before that, the few allocations that make the runtime are not counted.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Arc;

use libmimalloc_sys as mi;
use rquickjs::allocator::Allocator;

/// mimalloc's `mi_option_arena_eager_commit` (the same position in its v2 and v3 option enums;
/// the `-sys` crate does not name it).
const MI_OPTION_ARENA_EAGER_COMMIT: mi::mi_option_t = 4;

/// Makes mimalloc commit arena memory only as it is used. Eagerly committed arenas, with
/// transparent huge pages, put megabytes into every thread's resident set before it needs them
/// (a `kiln dev` process went from 21 MiB to 80 MiB). Call it before the process allocates
/// much; later calls are harmless.
pub fn configure_mimalloc() {
    // SAFETY: setting an option takes no pointers and may happen at any time.
    unsafe { mi::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
}

extern "C" {
    fn JS_GetMallocSize(rt: *mut rquickjs::qjs::JSRuntime) -> usize;
}

/// Bytes in use by one isolate, its cap, and whether it ever hit the cap.
///
/// Only the isolate's own thread allocates (an isolate never moves between threads), so
/// `used_bytes` is refreshed with a plain store at each allocation; other threads only read it.
#[derive(Debug)]
pub struct HeapAccount {
    pub used_bytes: AtomicUsize,
    /// Set once, when the isolate is given its worker (a spare isolate is made before that).
    pub limit_bytes: AtomicUsize,
    pub exceeded: AtomicBool,
    /// The QuickJS runtime whose count of bytes is the isolate's (null until it exists, and
    /// again from the moment it is being freed).
    runtime: AtomicPtr<rquickjs::qjs::JSRuntime>,
}

impl HeapAccount {
    pub fn new(limit_bytes: usize) -> Self {
        Self {
            used_bytes: AtomicUsize::new(0),
            limit_bytes: AtomicUsize::new(limit_bytes),
            exceeded: AtomicBool::new(false),
            runtime: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// Counts the bytes of `runtime` from now on (call on the isolate's thread, with the
    /// runtime alive), or stops counting (null, before the runtime is freed).
    pub fn count_runtime(&self, runtime: *mut rquickjs::qjs::JSRuntime) {
        self.runtime.store(runtime, Ordering::Relaxed);
    }

    /// The bytes in use now, refreshed from the runtime's count.
    fn refresh(&self) -> usize {
        let runtime = self.runtime.load(Ordering::Relaxed);
        if runtime.is_null() {
            return self.used_bytes.load(Ordering::Relaxed);
        }
        // SAFETY: the pointer is set only while the runtime is alive, on the thread that
        // allocates for it (this one), and the call only reads a counter.
        let used = unsafe { JS_GetMallocSize(runtime) };
        self.used_bytes.store(used, Ordering::Relaxed);
        used
    }
}

/// Counts a runtime's bytes while it lives ([`HeapAccount::count_runtime`]) and stops before it
/// is freed: hold it in a field declared before the runtime's, so it drops first.
pub struct RuntimeCount(Arc<HeapAccount>);

impl RuntimeCount {
    /// # Safety
    /// `runtime` is the live runtime that allocates through this account, on this thread, and
    /// the value is dropped before that runtime is freed.
    pub unsafe fn start(account: Arc<HeapAccount>, runtime: *mut rquickjs::qjs::JSRuntime) -> Self {
        account.count_runtime(runtime);
        RuntimeCount(account)
    }
}

impl Drop for RuntimeCount {
    fn drop(&mut self) {
        self.0.count_runtime(std::ptr::null_mut());
    }
}

pub struct CappedAllocator {
    account: Arc<HeapAccount>,
}

impl CappedAllocator {
    pub fn new(account: Arc<HeapAccount>) -> Self {
        Self { account }
    }

    fn admit(&self, size: usize) -> bool {
        let used = self.account.refresh();
        if used.saturating_add(size) > self.account.limit_bytes.load(Ordering::Relaxed) {
            self.account.exceeded.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }
}

// SAFETY: every pointer handed out comes from mimalloc and is released through it, and
// `usable_size` asks the same allocator.
unsafe impl Allocator for CappedAllocator {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if !self.admit(size) {
            return std::ptr::null_mut();
        }
        // SAFETY: plain C allocation; a null result is passed on to QuickJS.
        unsafe { mi::mi_malloc(size.max(1)) }.cast()
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        let Some(total) = count.checked_mul(size) else {
            return std::ptr::null_mut();
        };
        if !self.admit(total) {
            return std::ptr::null_mut();
        }
        // SAFETY: plain C allocation; a null result is passed on to QuickJS.
        unsafe { mi::mi_calloc(count.max(1), size.max(1)) }.cast()
    }

    unsafe fn dealloc(&mut self, ptr: *mut u8) {
        if ptr.is_null() {
            return;
        }
        // SAFETY: the caller passes a pointer this allocator returned.
        unsafe { mi::mi_free(ptr.cast()) };
    }

    unsafe fn realloc(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        if ptr.is_null() {
            return self.alloc(new_size);
        }
        // SAFETY: the caller passes a pointer this allocator returned.
        let old_size = unsafe { mi::mi_usable_size(ptr.cast()) };
        if new_size > old_size && !self.admit(new_size - old_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: as above; on failure the old block stays valid.
        unsafe { mi::mi_realloc(ptr.cast(), new_size.max(1)) }.cast()
    }

    unsafe fn usable_size(ptr: *mut u8) -> usize {
        // SAFETY: the caller passes a pointer this allocator returned.
        unsafe { mi::mi_usable_size(ptr.cast()) }
    }
}
