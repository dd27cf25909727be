//! A linearizability checker for a register with read, write and compare-and-set: the
//! Wing–Gong search with Lowe's memoization (the algorithm of Knossos' "wgl" and of Porcupine).
//!
//! A history is a list of operations with the time each was invoked and, if its outcome is
//! known, the time it returned and what it returned. An operation whose outcome is unknown (the
//! client gave up) may have taken effect at any point after its invocation, or never; reads
//! with unknown outcomes constrain nothing and are dropped. The search is bounded in steps; a
//! history it cannot decide within them is reported as such, never as linearizable.

use std::collections::HashSet;

/// What a client asked of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Read,
    Write(i64),
    /// Compare-and-set: from, to.
    Cas(i64, i64),
}

/// What the register answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A read's value (`None`: never written).
    Value(Option<i64>),
    /// A write's acknowledgement.
    Done,
    /// Whether a compare-and-set swapped.
    Swapped(bool),
}

#[derive(Debug, Clone)]
pub struct Event {
    pub op: Op,
    /// When the client sent it (any monotonic unit, e.g. microseconds since the run began).
    pub invoked: u64,
    /// When and what it answered; `None` when the outcome is unknown.
    pub returned: Option<(u64, Answer)>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    /// No order of the operations explains what the clients saw.
    Violation,
    /// The search gave up after this many steps.
    Undecided(u64),
}

/// Applies `op` to a register holding `state`: the new state, if `op` could have answered
/// `answer` (any answer, when unknown).
fn step(state: Option<i64>, op: &Op, answer: Option<&Answer>) -> Option<Option<i64>> {
    match (op, answer) {
        (Op::Read, Some(Answer::Value(seen))) => (*seen == state).then_some(state),
        (Op::Read, None) => Some(state),
        (Op::Write(v), Some(Answer::Done) | None) => Some(Some(*v)),
        (Op::Cas(from, to), Some(Answer::Swapped(true))) => {
            (state == Some(*from)).then_some(Some(*to))
        }
        (Op::Cas(from, _), Some(Answer::Swapped(false))) => (state != Some(*from)).then_some(state),
        (Op::Cas(from, to), None) => Some(if state == Some(*from) {
            Some(*to)
        } else {
            state
        }),
        _ => None,
    }
}

/// A call or return, in a doubly linked list ordered by time.
struct Node {
    op: usize,
    is_call: bool,
    /// For a call: the index of its return node.
    matching: usize,
    prev: usize,
    next: usize,
}

const HEAD: usize = 0;

/// Checks one register's history, starting from a never-written register.
pub fn check(history: &[Event], max_steps: u64) -> Verdict {
    let events: Vec<&Event> = history
        .iter()
        .filter(|e| e.returned.is_some() || e.op != Op::Read)
        .collect();
    if events.is_empty() {
        return Verdict::Linearizable;
    }
    // Calls and returns sorted by time (calls first on ties, so touching operations count as
    // concurrent); unknown outcomes return after everything.
    let mut points: Vec<(u64, bool, usize)> = Vec::with_capacity(events.len() * 2);
    for (i, event) in events.iter().enumerate() {
        points.push((event.invoked, true, i));
        let at = event.returned.as_ref().map_or(u64::MAX, |(t, _)| *t);
        points.push((at, false, i));
    }
    points.sort_by_key(|(t, is_call, i)| (*t, !*is_call, *i));
    // Node 0 is the list head; nodes 1.. follow the points.
    let mut nodes = vec![Node {
        op: usize::MAX,
        is_call: false,
        matching: 0,
        prev: 0,
        next: 1,
    }];
    let mut return_of = vec![0usize; events.len()];
    for (k, (_, is_call, op)) in points.iter().enumerate() {
        let index = k + 1;
        if !is_call {
            return_of[*op] = index;
        }
        nodes.push(Node {
            op: *op,
            is_call: *is_call,
            matching: 0,
            prev: index - 1,
            next: if k + 1 == points.len() {
                usize::MAX
            } else {
                index + 1
            },
        });
    }
    for node in nodes.iter_mut().skip(1) {
        if node.is_call {
            node.matching = return_of[node.op];
        }
    }
    let lift = |nodes: &mut Vec<Node>, call: usize| {
        for at in [call, nodes[call].matching] {
            let (prev, next) = (nodes[at].prev, nodes[at].next);
            nodes[prev].next = next;
            if next != usize::MAX {
                nodes[next].prev = prev;
            }
        }
    };
    let unlift = |nodes: &mut Vec<Node>, call: usize| {
        for at in [nodes[call].matching, call] {
            let (prev, next) = (nodes[at].prev, nodes[at].next);
            nodes[prev].next = at;
            if next != usize::MAX {
                nodes[next].prev = at;
            }
        }
    };
    let words = events.len().div_ceil(64);
    let mut linearized = vec![0u64; words];
    let mut seen: HashSet<(Vec<u64>, Option<i64>)> = HashSet::new();
    let mut stack: Vec<(usize, Option<i64>)> = Vec::new();
    let mut state: Option<i64> = None;
    let mut entry = nodes[HEAD].next;
    let mut steps = 0u64;
    loop {
        if nodes[HEAD].next == usize::MAX {
            return Verdict::Linearizable;
        }
        steps += 1;
        if steps > max_steps {
            return Verdict::Undecided(steps);
        }
        if entry == usize::MAX {
            // Only unknown operations are left, each of which may never have happened.
            let rest_unknown = {
                let mut at = nodes[HEAD].next;
                let mut all = true;
                while at != usize::MAX {
                    all &= events[nodes[at].op].returned.is_none();
                    at = nodes[at].next;
                }
                all
            };
            if rest_unknown {
                return Verdict::Linearizable;
            }
            match stack.pop() {
                None => return Verdict::Violation,
                Some((call, before)) => {
                    state = before;
                    let op = nodes[call].op;
                    linearized[op / 64] &= !(1 << (op % 64));
                    unlift(&mut nodes, call);
                    entry = nodes[call].next;
                }
            }
            continue;
        }
        if nodes[entry].is_call {
            let op = nodes[entry].op;
            let event = events[op];
            let answer = event.returned.as_ref().map(|(_, a)| a);
            if let Some(next_state) = step(state, &event.op, answer) {
                let mut marked = linearized.clone();
                marked[op / 64] |= 1 << (op % 64);
                if seen.insert((marked.clone(), next_state)) {
                    stack.push((entry, state));
                    state = next_state;
                    linearized = marked;
                    lift(&mut nodes, entry);
                    entry = nodes[HEAD].next;
                    continue;
                }
            }
            entry = nodes[entry].next;
        } else if events[nodes[entry].op].returned.is_none() {
            // An unknown operation's "return" sits after everything: nothing to undo for it.
            entry = nodes[entry].next;
        } else {
            // A return reached before its call was linearized: backtrack.
            match stack.pop() {
                None => return Verdict::Violation,
                Some((call, before)) => {
                    state = before;
                    let op = nodes[call].op;
                    linearized[op / 64] &= !(1 << (op % 64));
                    unlift(&mut nodes, call);
                    entry = nodes[call].next;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(op: Op, invoked: u64, returned: u64, answer: Answer) -> Event {
        Event {
            op,
            invoked,
            returned: Some((returned, answer)),
        }
    }

    #[test]
    fn sequential_and_concurrent_histories_that_are_linearizable() {
        let history = vec![
            done(Op::Write(1), 0, 10, Answer::Done),
            done(Op::Read, 11, 20, Answer::Value(Some(1))),
            // Concurrent write of 2 and a read that sees it before the write returns.
            done(Op::Write(2), 21, 40, Answer::Done),
            done(Op::Read, 22, 30, Answer::Value(Some(2))),
            done(Op::Cas(2, 3), 41, 50, Answer::Swapped(true)),
            done(Op::Cas(2, 4), 51, 60, Answer::Swapped(false)),
            done(Op::Read, 61, 70, Answer::Value(Some(3))),
        ];
        assert_eq!(check(&history, 1_000_000), Verdict::Linearizable);
    }

    #[test]
    fn a_stale_read_is_a_violation() {
        let history = vec![
            done(Op::Write(1), 0, 10, Answer::Done),
            done(Op::Write(2), 11, 20, Answer::Done),
            done(Op::Read, 21, 30, Answer::Value(Some(1))),
        ];
        assert_eq!(check(&history, 1_000_000), Verdict::Violation);
    }

    #[test]
    fn a_lost_acknowledged_write_is_a_violation_and_an_unknown_one_is_not() {
        let lost = vec![
            done(Op::Write(5), 0, 10, Answer::Done),
            done(Op::Read, 20, 30, Answer::Value(None)),
        ];
        assert_eq!(check(&lost, 1_000_000), Verdict::Violation);
        let unknown = vec![
            Event {
                op: Op::Write(5),
                invoked: 0,
                returned: None,
            },
            done(Op::Read, 20, 30, Answer::Value(None)),
            done(Op::Read, 40, 50, Answer::Value(Some(5))),
        ];
        assert_eq!(check(&unknown, 1_000_000), Verdict::Linearizable);
        // But once seen, an unknown write cannot be un-seen.
        let flicker = vec![
            Event {
                op: Op::Write(5),
                invoked: 0,
                returned: None,
            },
            done(Op::Read, 20, 30, Answer::Value(Some(5))),
            done(Op::Read, 40, 50, Answer::Value(None)),
        ];
        assert_eq!(check(&flicker, 1_000_000), Verdict::Violation);
    }

    #[test]
    fn a_compare_and_set_that_swapped_twice_is_a_violation() {
        let history = vec![
            done(Op::Write(1), 0, 10, Answer::Done),
            done(Op::Cas(1, 2), 20, 40, Answer::Swapped(true)),
            done(Op::Cas(1, 3), 21, 41, Answer::Swapped(true)),
        ];
        assert_eq!(check(&history, 1_000_000), Verdict::Violation);
    }
}
