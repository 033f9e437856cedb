//! Parallel work, consumed in order: dedicated threads compute, the calling thread consumes the
//! items with their results in input order.
//!
//! Not rayon's pool: Typst's PDF writer waits with `rayon::yield_now()`, which would run other
//! documents nested on the same stack, and a few thousand documents overflow it. Workers take
//! the next item from a shared queue, but never run more than `window` items ahead of the
//! consumer, so results waiting to be consumed stay bounded however large the batch; and each
//! item is dropped once consumed, so what is done takes no memory.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

/// Computes `work` on every item with `jobs` threads and hands each item with its result to
/// `consume`, in item order, on the calling thread. Stops early if `consume` fails.
pub fn ordered<T, R, E>(
    items: Vec<T>,
    jobs: usize,
    window: usize,
    work: impl Fn(&T) -> R + Sync,
    mut consume: impl FnMut(T, R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
    R: Send,
{
    let jobs = jobs.max(1);
    let window = window.max(jobs);
    let count = items.len();
    // The items not yet taken, with their places.
    let queue = Mutex::new(items.into_iter().enumerate());
    // How many items the consumer has taken; workers wait while they would be `window` ahead.
    let consumed = Mutex::new(0usize);
    let moved_on = Condvar::new();
    let stop = AtomicBool::new(false);
    let (send, receive) = mpsc::channel::<(usize, T, R)>();

    std::thread::scope(|scope| {
        for _ in 0..jobs.min(count) {
            let send = send.clone();
            let (queue, consumed, moved_on, stop, work) =
                (&queue, &consumed, &moved_on, &stop, &work);
            std::thread::Builder::new()
                .name("qujat-render".into())
                .stack_size(16 << 20)
                .spawn_scoped(scope, move || {
                    loop {
                        let next = queue.lock().expect("no thread panics holding it").next();
                        let Some((i, item)) = next else {
                            break;
                        };
                        let mut done = consumed.lock().expect("no thread panics holding it");
                        while i >= *done + window && !stop.load(Ordering::Relaxed) {
                            done = moved_on.wait(done).expect("no thread panics holding it");
                        }
                        drop(done);
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        // A panicking worker must not leave the others waiting for a consumer
                        // that waits for it: stop them all, then let the panic reach the scope.
                        let result = std::panic::catch_unwind(AssertUnwindSafe(|| work(&item)));
                        let result = match result {
                            Ok(result) => result,
                            Err(panic) => {
                                stop.store(true, Ordering::Relaxed);
                                drop(consumed.lock());
                                moved_on.notify_all();
                                std::panic::resume_unwind(panic);
                            }
                        };
                        if send.send((i, item, result)).is_err() {
                            break;
                        }
                    }
                })
                .expect("a worker thread can be started");
        }
        drop(send);

        let mut waiting = BTreeMap::new();
        let mut at = 0;
        for (i, item, result) in receive.iter() {
            waiting.insert(i, (item, result));
            while let Some((item, result)) = waiting.remove(&at) {
                if let Err(err) = consume(item, result) {
                    stop.store(true, Ordering::Relaxed);
                    // Take the lock so no worker misses the wake-up between its check and wait.
                    drop(consumed.lock());
                    moved_on.notify_all();
                    return Err(err);
                }
                at += 1;
                *consumed.lock().expect("no thread panics holding it") = at;
                moved_on.notify_all();
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[test]
    fn results_arrive_in_order_whatever_the_timing() {
        let items: Vec<u64> = (0..500).collect();
        let mut seen = Vec::new();
        let result: Result<(), ()> = ordered(
            items.clone(),
            4,
            8,
            |&i| {
                // Early items are the slowest, so later ones finish first.
                std::thread::sleep(std::time::Duration::from_micros((500 - i) * 3));
                i * 2
            },
            |item, result| {
                seen.push((item, result));
                Ok(())
            },
        );
        result.unwrap();
        assert_eq!(seen, items.iter().map(|&i| (i, i * 2)).collect::<Vec<_>>());
    }

    #[test]
    fn workers_stay_within_the_window() {
        let items: Vec<usize> = (0..200).collect();
        let started = AtomicUsize::new(0);
        let mut consumed = 0;
        let result: Result<(), ()> = ordered(
            items,
            3,
            10,
            |_| started.fetch_add(1, Ordering::SeqCst),
            |_, _| {
                consumed += 1;
                // A worker can only have started items below consumed-so-far + window.
                assert!(started.load(Ordering::SeqCst) <= consumed - 1 + 10 + 3);
                Ok(())
            },
        );
        result.unwrap();
        assert_eq!(consumed, 200);
    }

    #[test]
    fn a_failing_consumer_stops_the_work() {
        let items: Vec<usize> = (0..10_000).collect();
        let done = AtomicUsize::new(0);
        let result = ordered(
            items,
            2,
            4,
            |_| done.fetch_add(1, Ordering::SeqCst),
            |i, _| if i == 5 { Err("stop") } else { Ok(()) },
        );
        assert_eq!(result, Err("stop"));
        assert!(done.load(Ordering::SeqCst) < 100);
    }

    #[test]
    fn a_panicking_worker_ends_the_work_instead_of_hanging_it() {
        let items: Vec<usize> = (0..1000).collect();
        let outcome = std::panic::catch_unwind(|| {
            let _: Result<(), ()> = ordered(
                items.clone(),
                2,
                4,
                |&i| {
                    assert!(i != 3, "worker failure");
                    i
                },
                |_, _| Ok(()),
            );
        });
        assert!(outcome.is_err());
    }

    #[test]
    fn consumed_items_are_dropped_as_the_work_goes_on() {
        // Each item holds a token: after k items are consumed, exactly the others are alive.
        let alive = std::sync::Arc::new(());
        let items: Vec<_> = (0..300).map(|_| alive.clone()).collect();
        let mut consumed = 0;
        let result: Result<(), ()> = ordered(
            items,
            2,
            8,
            |_| (),
            |item, ()| {
                drop(item);
                consumed += 1;
                assert_eq!(std::sync::Arc::strong_count(&alive) - 1, 300 - consumed);
                Ok(())
            },
        );
        result.unwrap();
        assert_eq!(consumed, 300);
        assert_eq!(std::sync::Arc::strong_count(&alive), 1);
    }

    #[test]
    fn no_items_no_threads() {
        let result: Result<(), ()> = ordered(Vec::<u8>::new(), 4, 4, |_| 0, |_, _| Ok(()));
        result.unwrap();
    }
}
