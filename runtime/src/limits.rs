//! Every bound the runtime enforces, in one place, with the relations between them checked at
//! compile time. Values mirror Cloudflare's published limits where one exists.

/// Memory one isolate may allocate (Cloudflare: 128 MB per isolate).
pub const ISOLATE_MEMORY_BYTES_DEFAULT: usize = 128 * 1024 * 1024;
/// CPU time one request may use (Cloudflare paid plan default: 30 s).
pub const REQUEST_CPU_MS_DEFAULT: u64 = 30_000;
/// The highest `limits.cpu_ms` a worker may ask for (Cloudflare: 5 minutes).
pub const REQUEST_CPU_MS_MAX: u64 = 300_000;
/// Native stack QuickJS may use before it throws a `RangeError` for deep recursion (recursive
/// code such as superjson, zod's `z.lazy` or `structuredClone` of deep values needs thousands of
/// frames; workerd allows about ten thousand).
pub const ISOLATE_STACK_BYTES_MAX: usize = 4 * 1024 * 1024;
/// The stack of a JS thread: room for the isolate's stack and the Rust below and around it.
pub const JS_THREAD_STACK_BYTES: usize = 16 * 1024 * 1024;
/// Jobs waiting for a JS thread; past this the caller gets 503 instead of a growing queue.
pub const JOB_QUEUE_DEPTH_MAX: usize = 4096;
/// Isolates one JS thread keeps alive; the least recently used one is dropped past this.
pub const ISOLATES_PER_THREAD_MAX: usize = 4096;
/// The heap bytes one JS thread's cached isolates may hold together before idle ones are
/// dropped, least recently used first (Dynamic Workers' "LRU under a memory budget").
pub const ISOLATE_CACHE_BYTES_PER_THREAD: usize = 512 * 1024 * 1024;
/// Chunks of a streamed response body buffered between the isolate and the HTTP connection.
pub const BODY_CHANNEL_CHUNKS_MAX: usize = 16;
/// A body read whole with `text()`, `json()`, `arrayBuffer()` and friends.
pub const BODY_READ_ALL_BYTES_MAX: usize = 128 * 1024 * 1024;
/// Script size (Cloudflare paid plan: 10 MB after compression; we count raw bytes).
pub const SCRIPT_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Grace period for `ctx.waitUntil()` work after the response is sent (Cloudflare: 30 s).
pub const WAIT_UNTIL_GRACE_MS: u64 = 30_000;
/// How often an unanswered stateless request checks whether its isolate has gone quiescent
/// ("The script will never generate a response"); two idle checks in a row end it.
pub const HANG_CHECK_INTERVAL_MS: u64 = 50;
/// One incoming email message (Cloudflare Email Routing: 25 MiB).
pub const EMAIL_BYTES_MAX: usize = 25 * 1024 * 1024;
/// Timers one isolate may have pending at once.
pub const TIMERS_PER_ISOLATE_MAX: usize = 100_000;
/// Bytes `crypto.getRandomValues` fills in one call (Web Crypto: 65,536).
pub const RANDOM_VALUES_BYTES_MAX: usize = 65_536;
/// A single `console.log` line, truncated past this so a worker cannot flood the node log.
pub const CONSOLE_LINE_BYTES_MAX: usize = 16 * 1024;
/// A Durable Object with no events for this long is evicted (Cloudflare: 10 s).
pub const OBJECT_IDLE_EVICT_MS_DEFAULT: u64 = 10_000;
/// Subrequests (outbound `fetch()`) one request may make (Cloudflare paid plan: 1000).
pub const SUBREQUESTS_DEFAULT: u32 = 1000;

const _: () = assert!(REQUEST_CPU_MS_DEFAULT <= REQUEST_CPU_MS_MAX);
const _: () = assert!(ISOLATE_STACK_BYTES_MAX < ISOLATE_MEMORY_BYTES_DEFAULT);
const _: () = assert!(ISOLATE_STACK_BYTES_MAX * 2 <= JS_THREAD_STACK_BYTES);
const _: () = assert!(BODY_READ_ALL_BYTES_MAX <= ISOLATE_MEMORY_BYTES_DEFAULT);
const _: () = assert!(BODY_CHANNEL_CHUNKS_MAX > 0 && JOB_QUEUE_DEPTH_MAX > 0);
/// Frames queued from one WebSocket end to the other before `send()` fails.
pub const WEBSOCKET_QUEUE_FRAMES_MAX: usize = 1024;
/// One WebSocket message, either way (Cloudflare: 32 MiB).
pub const WEBSOCKET_MESSAGE_BYTES_MAX: usize = 32 * 1024 * 1024;
/// WebSocket ends JavaScript may hold across a node's isolates.
pub const WEBSOCKETS_PER_NODE_MAX: usize = 100_000;
/// Hibernatable WebSockets one Durable Object may accept (Cloudflare: 32,768).
pub const WEBSOCKETS_PER_OBJECT_MAX: usize = 32_768;

const _: () = assert!(WEBSOCKET_QUEUE_FRAMES_MAX > 0);
const _: () = assert!(WEBSOCKETS_PER_OBJECT_MAX <= WEBSOCKETS_PER_NODE_MAX);
/// A KV key (Cloudflare: 512 bytes).
pub const KV_KEY_BYTES_MAX: usize = 512;
/// A KV value (Cloudflare: 25 MiB).
pub const KV_VALUE_BYTES_MAX: usize = 25 * 1024 * 1024;
/// A KV entry's metadata, serialized (Cloudflare: 1024 bytes).
pub const KV_METADATA_BYTES_MAX: usize = 1024;
/// Stored bytes one `list()` page reads before it stops early (the caller continues from the
/// cursor), so listing large values cannot exhaust memory.
pub const KV_LIST_PAGE_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Responses the Cache API keeps in memory on one node; past this the least recently used one
/// is dropped.
pub const CACHE_ENTRIES_MAX: usize = 16_384;
/// Bytes of cached responses (bodies, headers and keys) the Cache API keeps on one node.
pub const CACHE_BYTES_MAX: usize = 256 * 1024 * 1024;
/// One cached response; `put` of a larger one consumes it but stores nothing.
pub const CACHE_ENTRY_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Memory lol_html may use for one `HTMLRewriter` transform (what it must buffer whole: a start
/// tag, a comment); past it the transformed body errors.
pub const HTML_REWRITER_MEMORY_BYTES_MAX: usize = 32 * 1024 * 1024;

const _: () = assert!(CACHE_ENTRIES_MAX > 0);
const _: () = assert!(CACHE_ENTRY_BYTES_MAX <= CACHE_BYTES_MAX);
const _: () = assert!(CACHE_ENTRY_BYTES_MAX <= BODY_READ_ALL_BYTES_MAX);
const _: () = assert!(HTML_REWRITER_MEMORY_BYTES_MAX <= ISOLATE_MEMORY_BYTES_DEFAULT);
