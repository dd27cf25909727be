//! A small mutation fuzzer for tests (the unit tests of `node` and the integration tests in
//! `tests/` both include this file): it derives inputs from valid seeds by flipping bits,
//! overwriting, inserting, deleting, duplicating and truncating bytes, and splicing in tokens
//! parsers care about.
//!
//! Every run is bounded in count and time: [`FUZZ_SECONDS_DEFAULT`] (or `KILN_FUZZ_SECONDS`)
//! and [`FUZZ_ITERATIONS_MAX`]. The seed is fixed per target unless `KILN_FUZZ_SEED` sets it,
//! and printed, so a failure reproduces with the same seed.

#![allow(dead_code, clippy::print_stderr)]

use std::time::{Duration, Instant};

/// How long one target runs by default.
pub const FUZZ_SECONDS_DEFAULT: f64 = 2.0;
/// Inputs one target tries at most, whatever the time allows.
pub const FUZZ_ITERATIONS_MAX: u64 = 1_000_000;

/// Byte strings parsers of JSON, TOML, HTTP and protobuf treat specially.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"=",
    b"\n",
    b"\r\n",
    b"\\u0000",
    b"\\",
    b"null",
    b"-1",
    b"1e309",
    b"18446744073709551616",
    b"[[",
    b"\"\"\"",
    b"'",
    b"/*",
    b"//",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
    b"Transfer-Encoding: chunked\r\n",
    b"Content-Length: 99999999999\r\n",
    b" HTTP/1.1\r\n",
    b"%00",
    b"%ZZ",
    b"..",
];

pub struct Fuzz {
    name: &'static str,
    seed: u64,
    state: u64,
    deadline: Instant,
    started: Instant,
    pub done: u64,
}

impl Fuzz {
    /// A run of target `name`.
    pub fn new(name: &'static str) -> Fuzz {
        let seed = std::env::var("KILN_FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
                })
            });
        let seconds = std::env::var("KILN_FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or(FUZZ_SECONDS_DEFAULT);
        eprintln!("fuzz {name}: seed {seed} (KILN_FUZZ_SEED), {seconds} s (KILN_FUZZ_SECONDS)");
        let started = Instant::now();
        Fuzz {
            name,
            seed,
            state: seed | 1,
            deadline: started + Duration::from_secs_f64(seconds),
            started,
            done: 0,
        }
    }

    /// Whether to try one more input (counts it).
    pub fn keep_going(&mut self) -> bool {
        if self.done >= FUZZ_ITERATIONS_MAX || Instant::now() >= self.deadline {
            eprintln!(
                "fuzz {}: {} inputs in {:.1} s, seed {}",
                self.name,
                self.done,
                self.started.elapsed().as_secs_f64(),
                self.seed
            );
            return false;
        }
        self.done += 1;
        true
    }

    pub fn next_u64(&mut self) -> u64 {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `seed` with one to four mutations.
    pub fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut data = seed.to_vec();
        for _ in 0..=self.below(4) {
            let at = self.below(data.len() + 1);
            match self.below(7) {
                0 if !data.is_empty() => {
                    let i = at.min(data.len() - 1);
                    data[i] ^= 1 << self.below(8);
                }
                1 if !data.is_empty() => {
                    let i = at.min(data.len() - 1);
                    data[i] = self.next_u64() as u8;
                }
                2 => {
                    let count = 1 + self.below(8);
                    let bytes: Vec<u8> = (0..count).map(|_| self.next_u64() as u8).collect();
                    data.splice(at..at, bytes);
                }
                3 if !data.is_empty() => {
                    let end = (at + 1 + self.below(16)).min(data.len());
                    data.drain(at.min(end)..end);
                }
                4 if !data.is_empty() => {
                    let start = self.below(data.len());
                    let end = (start + 1 + self.below(32)).min(data.len());
                    let copy = data[start..end].to_vec();
                    data.splice(at..at, copy);
                }
                5 => data.truncate(at),
                _ => {
                    let token = *self.pick(TOKENS);
                    data.splice(at..at, token.iter().copied());
                }
            }
        }
        data
    }
}
