//! The one shape every phase dispatches calls in: a bounded number in flight, results handled as
//! they complete, and dispatching stopped in order once the run's stop switch trips, so what was
//! never sent is exactly the tail of the input. Reading (one listing per artifact or action) and
//! writing (one call per triple or per batch) both go through [`bounded`].

use futures::StreamExt;
use std::future::Future;

/// Calls `call` for each of `items` with at most `concurrency` in flight, and `on_result` with
/// each result as it arrives. No new call starts once `stopped()` is true. Returns how many were
/// dispatched: the first that many items, since dispatch goes in order.
pub async fn bounded<'a, T, R, Fut>(
    items: impl IntoIterator<Item = &'a T>,
    concurrency: usize,
    stopped: impl Fn() -> bool,
    call: impl Fn(&'a T) -> Fut,
    mut on_result: impl FnMut(&'a T, R),
) -> usize
where
    T: 'a + ?Sized,
    Fut: Future<Output = R>,
{
    let mut dispatched = 0;
    let mut calls = futures::stream::iter(items)
        .take_while(|_| std::future::ready(!stopped()))
        .map(|item| {
            let call = call(item);
            async move { (item, call.await) }
        })
        .buffer_unordered(concurrency.max(1));
    while let Some((item, result)) = calls.next().await {
        dispatched += 1;
        on_result(item, result);
    }
    dispatched
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn every_item_is_called_once_within_the_bound() {
        let in_flight = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let mut seen = Vec::new();
        let items: Vec<u32> = (0..20).collect();
        let dispatched = bounded(
            &items,
            3,
            || false,
            |n| {
                let (in_flight, most) = (&in_flight, &most);
                async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    n * 2
                }
            },
            |n, doubled| seen.push((*n, doubled)),
        )
        .await;
        assert_eq!(dispatched, 20);
        seen.sort();
        assert_eq!(seen, items.iter().map(|n| (*n, n * 2)).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 3);
    }

    #[tokio::test]
    async fn a_stop_ends_dispatch_in_order() {
        let items: Vec<u32> = (0..10).collect();
        let done = AtomicUsize::new(0);
        let dispatched = bounded(
            &items,
            1,
            || done.load(Ordering::SeqCst) >= 4,
            |n| async move { *n },
            |_, _| {
                done.fetch_add(1, Ordering::SeqCst);
            },
        )
        .await;
        assert_eq!(dispatched, 4, "the first four, then nothing");
    }
}
