//! A bounded queue between stages that never blocks the producer: when it is full the oldest item
//! is dropped and counted, so latency stays bounded when a consumer is slow (the rerun
//! `re_smart_channel` idea: every stage boundary reports its depth and the age of its oldest item).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

struct Inner<T> {
    items: VecDeque<(Instant, T)>,
    capacity: usize,
    dropped: u64,
    sent: u64,
    closed: bool,
}

/// Shared state of one queue.
struct Shared<T> {
    inner: Mutex<Inner<T>>,
    ready: Condvar,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // A panicking holder cannot leave the queue inconsistent (every update is one step).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Producer side.
pub struct Sender<T>(Arc<Shared<T>>);
/// Consumer side.
pub struct Receiver<T>(Arc<Shared<T>>);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender(self.0.clone())
    }
}

/// What a queue reports for health.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueStats {
    pub depth: usize,
    pub capacity: usize,
    /// Age of the oldest queued item.
    pub oldest_age: Duration,
    pub sent: u64,
    pub dropped: u64,
}

/// A drop-oldest queue of `capacity` items (at least 1).
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        inner: Mutex::new(Inner {
            items: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
            sent: 0,
            closed: false,
        }),
        ready: Condvar::new(),
    });
    (Sender(shared.clone()), Receiver(shared))
}

impl<T> Sender<T> {
    /// Queues `item`; returns the item dropped to make room, if any. Never blocks.
    pub fn send(&self, item: T) -> Option<T> {
        let mut q = self.0.lock();
        q.sent += 1;
        let dropped = if q.items.len() >= q.capacity {
            q.dropped += 1;
            q.items.pop_front().map(|(_, t)| t)
        } else {
            None
        };
        q.items.push_back((Instant::now(), item));
        drop(q);
        self.0.ready.notify_one();
        dropped
    }

    /// Ends the stream: the receiver gets the remaining items, then `None`.
    pub fn close(&self) {
        self.0.lock().closed = true;
        self.0.ready.notify_all();
    }

    pub fn stats(&self) -> QueueStats {
        stats(&self.0.lock())
    }
}

impl<T> Receiver<T> {
    /// The oldest item, waiting up to `timeout`; `None` on timeout or when closed and empty.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut q = self.0.lock();
        loop {
            if let Some((_, item)) = q.items.pop_front() {
                return Some(item);
            }
            if q.closed {
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            q = self
                .0
                .ready
                .wait_timeout(q, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Whether the sender closed the queue and it is empty.
    pub fn is_finished(&self) -> bool {
        let q = self.0.lock();
        q.closed && q.items.is_empty()
    }

    pub fn stats(&self) -> QueueStats {
        stats(&self.0.lock())
    }
}

fn stats<T>(q: &Inner<T>) -> QueueStats {
    QueueStats {
        depth: q.items.len(),
        capacity: q.capacity,
        oldest_age: q.items.front().map_or(Duration::ZERO, |(t, _)| t.elapsed()),
        sent: q.sent,
        dropped: q.dropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts_it() {
        let (tx, rx) = bounded(3);
        for i in 0..5 {
            let dropped = tx.send(i);
            assert_eq!(dropped, if i >= 3 { Some(i - 3) } else { None });
        }
        let s = rx.stats();
        assert_eq!((s.depth, s.sent, s.dropped), (3, 5, 2));
        let got: Vec<i32> =
            std::iter::from_fn(|| rx.recv_timeout(Duration::from_millis(1))).collect();
        assert_eq!(got, vec![2, 3, 4]);
    }

    #[test]
    fn reports_the_age_of_the_oldest_item_and_ends_when_closed() {
        let (tx, rx) = bounded(4);
        tx.send("a");
        std::thread::sleep(Duration::from_millis(30));
        tx.send("b");
        assert!(rx.stats().oldest_age >= Duration::from_millis(30));
        tx.close();
        assert_eq!(rx.recv_timeout(Duration::from_secs(1)), Some("a"));
        assert_eq!(rx.recv_timeout(Duration::from_secs(1)), Some("b"));
        assert_eq!(rx.recv_timeout(Duration::from_secs(1)), None);
        assert!(rx.is_finished());
    }

    #[test]
    fn a_waiting_consumer_wakes_on_send() {
        let (tx, rx) = bounded::<u32>(2);
        let t = std::thread::spawn(move || rx.recv_timeout(Duration::from_secs(5)));
        std::thread::sleep(Duration::from_millis(20));
        tx.send(7);
        assert_eq!(t.join().ok().flatten(), Some(7));
    }
}
