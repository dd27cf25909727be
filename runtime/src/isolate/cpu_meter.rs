//! CPU time accounting for one isolate.
//!
//! Every future that can run JavaScript of an isolate is wrapped in [`Metered`], which adds the
//! time each poll took to the isolate's total. A poll is timed with the monotonic clock, which
//! is read without a system call: the thread's CPU clock is one (a dozen per request were a
//! twentieth of a JS thread's time). A poll's wall time is never less than the CPU it used, so
//! the total is an upper bound of the isolate's CPU; it is more only while the thread is
//! preempted in the middle of a poll. The interrupt handler QuickJS calls while JavaScript runs
//! compares the time used since the oldest request still in flight began with the budget, and
//! only when that bound is over the budget does it read the thread's CPU clock: the thread's CPU
//! since that request began is another upper bound (the thread runs this isolate and others),
//! and the request is stopped only when both are over. Kiln cannot attribute interleaved
//! JavaScript to one request, so a request is charged for everything its isolate ran while it
//! was in flight: never less than its own CPU.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// CPU time this thread has used, from `CLOCK_THREAD_CPUTIME_ID`.
pub fn thread_cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(
        rc, 0,
        "CLOCK_THREAD_CPUTIME_ID is always available on Linux"
    );
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The CPU ledger of one isolate.
#[derive(Debug, Default)]
pub struct CpuMeter {
    /// Time taken by finished polls of this isolate's futures (at least their CPU).
    used: Cell<Duration>,
    /// When the poll running now began.
    slice_start: Cell<Option<Instant>>,
    /// Requests in flight: sequence number -> (`used`, the thread's CPU clock) when the request
    /// began.
    active: RefCell<BTreeMap<u64, (Duration, Duration)>>,
    next_sequence: Cell<u64>,
    /// Origin of the budget for work that runs while no request is in flight.
    idle_origin: Cell<Duration>,
    /// Subrequests made since the isolate last had no request in flight (attributed like CPU:
    /// interleaved requests share one count).
    subrequests: Cell<u32>,
    /// Native code (SQL) found the budget spent while QuickJS's interrupt handler could not run.
    exhausted: Cell<bool>,
    /// The interrupt handler has asked QuickJS to stop the isolate.
    terminating: Cell<bool>,
}

impl CpuMeter {
    /// Time used so far (at least the CPU), including the poll running now.
    pub fn used_now(&self) -> Duration {
        let running = match self.slice_start.get() {
            Some(start) => start.elapsed(),
            None => Duration::ZERO,
        };
        self.used.get() + running
    }

    /// CPU charged to the request that has been in flight longest: an upper bound of the CPU
    /// the isolate used since then, read without a system call.
    pub fn charged_now(&self) -> Duration {
        let origin = match self.active.borrow().first_key_value() {
            Some((_, (origin, _))) => *origin,
            None => self.idle_origin.get(),
        };
        self.used_now().saturating_sub(origin)
    }

    /// Whether the request in flight longest has used more than `budget`. The cheap bound is
    /// checked first; past the budget, the thread's CPU since that request began (a second
    /// bound, which preemption does not inflate) has to be past it too.
    pub fn over_budget(&self, budget: Duration) -> bool {
        if self.charged_now() <= budget {
            return false;
        }
        match self.active.borrow().first_key_value() {
            Some((_, (_, thread_origin))) => {
                thread_cpu_now().saturating_sub(*thread_origin) > budget
            }
            None => true,
        }
    }

    /// Records that native code ran out of the CPU budget: the isolate is terminated as if its
    /// JavaScript had.
    pub fn mark_exhausted(&self) {
        self.exhausted.set(true);
    }

    pub fn exhausted(&self) -> bool {
        self.exhausted.get()
    }

    pub fn mark_terminating(&self) {
        self.terminating.set(true);
    }

    pub fn terminating(&self) -> bool {
        self.terminating.get()
    }

    /// Counts one subrequest; `false` once more than `limit` were made.
    pub fn count_subrequest(&self, limit: u32) -> bool {
        let count = self.subrequests.get().saturating_add(1);
        self.subrequests.set(count);
        count <= limit
    }

    pub fn begin_request(self: &Rc<Self>) -> RequestCharge {
        if self.active.borrow().is_empty() {
            self.subrequests.set(0);
        }
        let sequence = self.next_sequence.get();
        self.next_sequence.set(sequence + 1);
        self.active
            .borrow_mut()
            .insert(sequence, (self.used.get(), thread_cpu_now()));
        RequestCharge {
            meter: Rc::clone(self),
            sequence,
        }
    }

    fn end_request(&self, sequence: u64) {
        let mut active = self.active.borrow_mut();
        let removed = active.remove(&sequence);
        assert!(removed.is_some(), "a request is ended exactly once");
        if active.is_empty() {
            self.idle_origin.set(self.used.get());
        }
    }
}

/// A request's claim on the CPU budget; dropping it ends the request.
#[derive(Debug)]
pub struct RequestCharge {
    meter: Rc<CpuMeter>,
    sequence: u64,
}

impl Drop for RequestCharge {
    fn drop(&mut self) {
        self.meter.end_request(self.sequence);
    }
}

/// A future whose polls are charged to an isolate's [`CpuMeter`].
pub struct Metered<F> {
    inner: Pin<Box<F>>,
    meter: Rc<CpuMeter>,
}

impl<F: Future> Metered<F> {
    pub fn new(meter: Rc<CpuMeter>, inner: F) -> Self {
        Self {
            inner: Box::pin(inner),
            meter,
        }
    }
}

impl<F: Future> Future for Metered<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Inside another metered poll of the same isolate the outer one is counting already.
        if self.meter.slice_start.get().is_some() {
            return self.inner.as_mut().poll(cx);
        }
        let start = Instant::now();
        self.meter.slice_start.set(Some(start));
        let result = self.inner.as_mut().poll(cx);
        let elapsed = start.elapsed();
        self.meter.used.set(self.meter.used.get() + elapsed);
        self.meter.slice_start.set(None);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_from_the_oldest_request_in_flight() {
        let meter = Rc::new(CpuMeter::default());
        meter.used.set(Duration::from_millis(10));
        let first = meter.begin_request();
        meter.used.set(Duration::from_millis(15));
        let second = meter.begin_request();
        meter.used.set(Duration::from_millis(40));
        assert_eq!(meter.charged_now(), Duration::from_millis(30));
        drop(first);
        assert_eq!(meter.charged_now(), Duration::from_millis(25));
        drop(second);
        assert_eq!(meter.charged_now(), Duration::ZERO);
    }

    #[test]
    fn time_the_thread_did_not_run_is_not_charged_against_the_budget() {
        let meter = Rc::new(CpuMeter::default());
        let request = meter.begin_request();
        // The cheap bound says 50 ms (as if the thread had been preempted mid-poll), but the
        // thread has hardly run since the request began.
        meter.used.set(Duration::from_millis(50));
        assert!(meter.charged_now() >= Duration::from_millis(50));
        assert!(!meter.over_budget(Duration::from_millis(20)));
        // Now the thread really runs for longer than the budget.
        let began = thread_cpu_now();
        let mut x = 0u64;
        while thread_cpu_now().saturating_sub(began) < Duration::from_millis(25) {
            for i in 0..10_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
        }
        std::hint::black_box(x);
        assert!(meter.over_budget(Duration::from_millis(20)));
        drop(request);
    }

    #[test]
    fn thread_clock_advances_with_work() {
        let before = thread_cpu_now();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_now() > before);
    }
}
