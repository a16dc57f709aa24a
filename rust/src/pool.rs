//! The worker pool of the native core, or none where threads cannot be started.
//!
//! rayon's global pool panics when its threads cannot be made (`ulimit -u`, a container's
//! `pids.max`, a small address-space limit), which would turn a slow path into a crash.
//! This pool is built once, fallibly; without it every batch runs on the calling thread
//! (callers pick a sequential iterator then: rayon's would reach for the global pool).

use rayon::{ThreadPool, ThreadPoolBuilder};
use std::sync::OnceLock;

static POOL: OnceLock<Option<ThreadPool>> = OnceLock::new();

/// The shared pool: as many threads as rayon would choose, else one; `None` if not even
/// one thread could be started (then work runs inline, in order).
pub fn pool() -> Option<&'static ThreadPool> {
    POOL.get_or_init(|| {
        let named = |i: usize| format!("oqtopus-core-{i}");
        ThreadPoolBuilder::new()
            .thread_name(named)
            .build()
            .or_else(|_| {
                ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(named)
                    .build()
            })
            .ok()
    })
    .as_ref()
}

/// Runs `task` in the background on the pool, or at once on this thread without one.
pub fn spawn(task: impl FnOnce() + Send + 'static) {
    match pool() {
        Some(pool) => pool.spawn(task),
        None => task(),
    }
}
