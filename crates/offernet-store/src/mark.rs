//! The high-water mark writer: a thread beside the writer that keeps `committed-seq` (see
//! `datadir`) up to date after commits, so that a journal that later turns out shorter than
//! what was committed is noticed at startup.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tracing::{error, info};

use crate::shared::Shared;

/// How often the high-water mark file is brought up to date while commits happen. It lags the
/// journal by at most this plus one write of the file (three fsyncs: a few ms quietly, tens of
/// ms on a busy disk). 100 ms costs at most ten small atomic file replacements a second, on a
/// thread of its own that commits never wait for; what a crash within the last 100 ms loses
/// from a damaged journal is beyond any check, but everything older is caught at startup.
pub const HIGH_WATER_MARK_INTERVAL: Duration = Duration::from_millis(100);

/// The thread that keeps the high-water mark file up to date (see [`HIGH_WATER_MARK_INTERVAL`]),
/// off the writer's path: commits never wait for it.
pub(crate) struct MarkWriter {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl MarkWriter {
    pub(crate) fn start(path: std::path::PathBuf, written: u64, shared: Arc<Shared>) -> MarkWriter {
        shared.stats.high_water_mark.store(written, Ordering::Relaxed);
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("offernet-high-water-mark".into())
            .spawn(move || {
                let mut written = written;
                let mut failing = false;
                loop {
                    let last = stopping.load(Ordering::Acquire);
                    // `last_seq` is stored after the commit: the mark never runs ahead of it.
                    let committed = shared.stats.last_seq.load(Ordering::Acquire);
                    // Stored before `last_seq`: the events of the history up to `committed`.
                    let events = shared.stats.last_event_seq.load(Ordering::Acquire);
                    if committed > written {
                        match crate::datadir::write_high_water_mark(&path, committed, events) {
                            Ok(()) => {
                                written = committed;
                                shared.stats.high_water_mark.store(committed, Ordering::Relaxed);
                                if std::mem::take(&mut failing) {
                                    info!(seq = committed, "the high-water mark is written again");
                                }
                            }
                            // Logged once per failing stretch, not ten times a second.
                            Err(e) if !failing => {
                                failing = true;
                                error!(error = %e, path = %path.display(), "writing the high-water mark failed");
                            }
                            Err(_) => {}
                        }
                    }
                    if last {
                        return;
                    }
                    std::thread::park_timeout(HIGH_WATER_MARK_INTERVAL);
                }
            })
            .expect("a thread for the high-water mark");
        MarkWriter { stop, thread }
    }

    /// Writes the final value and stops the thread.
    pub(crate) fn finish(self) {
        self.stop.store(true, Ordering::Release);
        self.thread.thread().unpark();
        let _ = tokio::task::block_in_place(|| self.thread.join());
    }
}
