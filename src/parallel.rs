//! Independent work on every core: the items are split into one chunk per core, each chunk is
//! processed on its own thread, and the results come back in the items' order, so output never
//! depends on scheduling.

/// `work` over chunks of `items`, results in order. Small inputs (fewer than `small` items)
/// run on the calling thread: starting threads would cost more than it saves.
pub fn chunks<T: Sync, R: Send>(items: &[T], small: usize, work: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(8);
    if items.len() < small.max(2) || threads < 2 {
        return vec![work(items)];
    }
    let size = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = items.chunks(size).map(|chunk| scope.spawn(move || work(chunk))).collect();
        // A panic in a worker is a bug; it surfaces as it would have on this thread.
        handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}
