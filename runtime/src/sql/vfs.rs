//! The SQLite VFS "kiln": a database's main file is a [`PageFile`] (pages in the object's
//! storage); every other file SQLite asks for (temporary files) lives in memory and dies with
//! its handle. Nothing touches the local file system, so a database is exactly what its
//! object's storage holds.
//!
//! Guarantees: a main file is opened only through [`open_pending`], under a name registered a
//! moment before; locks are no-ops (one connection owns a file); a failed storage read is
//! SQLITE_IOERR_READ, and a write past the batch or file limit is SQLITE_FULL, which SQLite
//! turns into a rolled-back statement.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use rusqlite::ffi;

use super::page_file::{PageFile, PAGE_BYTES};

/// The name SQLite knows the VFS by.
pub const VFS_NAME: &CStr = c"kiln";
const PATHNAME_MAX: c_int = 512;
/// A temporary file past this fails its write with SQLITE_FULL.
const MEMORY_FILE_BYTES_MAX: usize = 256 * 1024 * 1024;
/// SQLite's memory for the whole process, past which it sheds page cache.
const SQLITE_HEAP_SOFT_LIMIT_BYTES: i64 = 256 * 1024 * 1024;

pub type SharedPageFile = Arc<Mutex<PageFile>>;

/// Locks a page file; a panic while it was held left nothing half-done worth refusing.
pub fn lock(file: &SharedPageFile) -> MutexGuard<'_, PageFile> {
    file.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Page files waiting for `sqlite3_open` to reach [`x_open`], by file name.
fn pending() -> &'static Mutex<HashMap<String, SharedPageFile>> {
    static PENDING: OnceLock<Mutex<HashMap<String, SharedPageFile>>> = OnceLock::new();
    PENDING.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Registers the VFS once per process; `false` if SQLite refused it.
pub fn register() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        // SAFETY: sqlite3_vfs_find(NULL) returns the default VFS, which lives for the process;
        // the struct given to sqlite3_vfs_register is leaked, so it outlives every connection.
        unsafe {
            let default = ffi::sqlite3_vfs_find(std::ptr::null());
            if default.is_null() {
                return false;
            }
            let base = &*default;
            let vfs = Box::leak(Box::new(ffi::sqlite3_vfs {
                iVersion: 2,
                szOsFile: std::mem::size_of::<KilnFile>() as c_int,
                mxPathname: PATHNAME_MAX,
                pNext: std::ptr::null_mut(),
                zName: VFS_NAME.as_ptr(),
                pAppData: std::ptr::null_mut(),
                xOpen: Some(x_open),
                xDelete: Some(x_delete),
                xAccess: Some(x_access),
                xFullPathname: Some(x_full_pathname),
                xDlOpen: None,
                xDlError: None,
                xDlSym: None,
                xDlClose: None,
                xRandomness: base.xRandomness,
                xSleep: base.xSleep,
                xCurrentTime: base.xCurrentTime,
                xGetLastError: base.xGetLastError,
                xCurrentTimeInt64: base.xCurrentTimeInt64,
                xSetSystemCall: None,
                xGetSystemCall: None,
                xNextSystemCall: None,
            }));
            // SQLite's own memory (page caches) across every database of the process: past
            // this it frees cached pages rather than grow.
            ffi::sqlite3_soft_heap_limit64(SQLITE_HEAP_SOFT_LIMIT_BYTES);
            ffi::sqlite3_vfs_register(vfs, 0) == ffi::SQLITE_OK
        }
    })
}

/// Makes `file` the main file SQLite opens under `name` next; [`take_pending`] undoes it.
pub fn open_pending(name: &str, file: SharedPageFile) {
    let mut map = pending().lock().unwrap_or_else(|p| p.into_inner());
    map.insert(name.to_owned(), file);
}

/// Forgets a registration `sqlite3_open` did not use (it failed before opening the file).
pub fn take_pending(name: &str) {
    let mut map = pending().lock().unwrap_or_else(|p| p.into_inner());
    map.remove(name);
}

enum FileKind {
    Pages(SharedPageFile),
    Memory(Vec<u8>),
}

#[repr(C)]
struct KilnFile {
    base: ffi::sqlite3_file,
    kind: *mut FileKind,
}

static IO_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_lock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let kind = if flags & ffi::SQLITE_OPEN_MAIN_DB != 0 && !name.is_null() {
        // SAFETY: SQLite passes a NUL-terminated name for a main database.
        let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
        let mut map = pending().lock().unwrap_or_else(|p| p.into_inner());
        match map.remove(name.as_ref()) {
            Some(pages) => FileKind::Pages(pages),
            None => return ffi::SQLITE_CANTOPEN,
        }
    } else {
        FileKind::Memory(Vec::new())
    };
    let file = file.cast::<KilnFile>();
    // SAFETY: SQLite hands over szOsFile bytes for the file, which fit a KilnFile.
    unsafe {
        (*file).base.pMethods = &IO_METHODS;
        (*file).kind = Box::into_raw(Box::new(kind));
        if !out_flags.is_null() {
            *out_flags = flags;
        }
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_delete(_: *mut ffi::sqlite3_vfs, _: *const c_char, _: c_int) -> c_int {
    ffi::SQLITE_OK
}

/// No journal, WAL or other side file ever exists.
unsafe extern "C" fn x_access(
    _: *mut ffi::sqlite3_vfs,
    _: *const c_char,
    _: c_int,
    out: *mut c_int,
) -> c_int {
    // SAFETY: SQLite passes a valid out pointer.
    unsafe { *out = 0 };
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_full_pathname(
    _: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    out_len: c_int,
    out: *mut c_char,
) -> c_int {
    // SAFETY: `name` is NUL-terminated and `out` holds `out_len` bytes.
    unsafe {
        let bytes = CStr::from_ptr(name).to_bytes_with_nul();
        if bytes.len() > out_len as usize {
            return ffi::SQLITE_CANTOPEN;
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), out, bytes.len());
    }
    ffi::SQLITE_OK
}

/// The file's state. SAFETY of callers: `file` is a KilnFile `x_open` initialized.
unsafe fn kind<'a>(file: *mut ffi::sqlite3_file) -> &'a mut FileKind {
    // SAFETY: see above; SQLite never calls into one file from two threads at once.
    unsafe { &mut *(*file.cast::<KilnFile>()).kind }
}

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    let file = file.cast::<KilnFile>();
    // SAFETY: `kind` came from Box::into_raw in x_open and is freed once, here.
    unsafe {
        if !(*file).kind.is_null() {
            drop(Box::from_raw((*file).kind));
            (*file).kind = std::ptr::null_mut();
        }
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let (Ok(len), Ok(offset)) = (usize::try_from(amount), u64::try_from(offset)) else {
        return ffi::SQLITE_IOERR_READ;
    };
    // SAFETY: SQLite passes a buffer of `amount` bytes.
    let buf = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
    // SAFETY: an opened KilnFile.
    let read = match unsafe { kind(file) } {
        FileKind::Pages(pages) => match lock(pages).read(offset, buf) {
            Ok(read) => read,
            Err(err) => {
                tracing::warn!("SQL page read failed: {err}");
                return ffi::SQLITE_IOERR_READ;
            }
        },
        FileKind::Memory(bytes) => {
            buf.fill(0);
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let end = start.saturating_add(len).min(bytes.len());
            buf[..end - start].copy_from_slice(&bytes[start..end]);
            end - start
        }
    };
    if read < len {
        ffi::SQLITE_IOERR_SHORT_READ
    } else {
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn x_write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let (Ok(len), Ok(offset)) = (usize::try_from(amount), u64::try_from(offset)) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    // SAFETY: SQLite passes `amount` readable bytes.
    let data = unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) };
    // SAFETY: an opened KilnFile.
    match unsafe { kind(file) } {
        FileKind::Pages(pages) => match lock(pages).write(offset, data) {
            Ok(true) => ffi::SQLITE_OK,
            Ok(false) => ffi::SQLITE_FULL,
            Err(err) => {
                tracing::warn!("SQL page write failed: {err}");
                ffi::SQLITE_IOERR_WRITE
            }
        },
        FileKind::Memory(bytes) => {
            let Ok(start) = usize::try_from(offset) else {
                return ffi::SQLITE_FULL;
            };
            let end = start.saturating_add(len);
            if end > MEMORY_FILE_BYTES_MAX {
                return ffi::SQLITE_FULL;
            }
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            bytes[start..end].copy_from_slice(data);
            ffi::SQLITE_OK
        }
    }
}

unsafe extern "C" fn x_truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    let size = u64::try_from(size).unwrap_or(0);
    // SAFETY: an opened KilnFile.
    match unsafe { kind(file) } {
        FileKind::Pages(pages) => lock(pages).truncate(size),
        FileKind::Memory(bytes) => bytes.truncate(usize::try_from(size).unwrap_or(usize::MAX)),
    }
    ffi::SQLITE_OK
}

/// Durability comes from the batch the pages join, not from syncing this file.
unsafe extern "C" fn x_sync(_: *mut ffi::sqlite3_file, _: c_int) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_file_size(
    file: *mut ffi::sqlite3_file,
    out: *mut ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: an opened KilnFile.
    let size = match unsafe { kind(file) } {
        FileKind::Pages(pages) => lock(pages).size_bytes(),
        FileKind::Memory(bytes) => bytes.len() as u64,
    };
    // SAFETY: SQLite passes a valid out pointer.
    unsafe { *out = size as ffi::sqlite3_int64 };
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_lock(_: *mut ffi::sqlite3_file, _: c_int) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_check_reserved_lock(_: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    // SAFETY: SQLite passes a valid out pointer.
    unsafe { *out = 0 };
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_file_control(_: *mut ffi::sqlite3_file, _: c_int, _: *mut c_void) -> c_int {
    ffi::SQLITE_NOTFOUND
}

unsafe extern "C" fn x_sector_size(_: *mut ffi::sqlite3_file) -> c_int {
    PAGE_BYTES as c_int
}

unsafe extern "C" fn x_device_characteristics(_: *mut ffi::sqlite3_file) -> c_int {
    0
}
