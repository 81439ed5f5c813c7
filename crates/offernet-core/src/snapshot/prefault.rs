//! Faulting in, on another thread, the memory a snapshot's load is about to write.
//!
//! A restart writes gigabytes into memory the process has never touched, and each first touch
//! of a page is a fault the kernel serves by zeroing the page (on a virtual machine, possibly
//! after the host backs it): 44 % of a 10,000,000-offer restart's samples (BENCHMARKS.md, "What
//! limits the restart now"). The SKU records of an account are one large vector, sized from
//! the snapshot's count before they are decoded into it; while the load decodes them, another
//! thread asks the kernel to map that vector's spare capacity (`madvise(MADV_POPULATE_WRITE)`),
//! so the faults are taken on the machine's other core instead of in the decoding loop.
//!
//! It is a hint: it never reads or writes the memory (the kernel maps the pages as a write
//! would, without writing), so it cannot change what the load decodes; where the kernel does
//! not know it (before Linux 5.14) or on other systems, nothing happens.

/// Spare capacity below which a thread is not worth it.
const MIN_BYTES: usize = 1 << 20;
/// Bytes faulted in per call, so that the helper stops soon after the load is done.
const STEP: usize = 8 << 20;

/// Runs `fill` (which writes into `v`'s spare capacity) while another thread faults that
/// capacity in, front to back, and returns what `fill` returns.
pub(super) fn with_spare_faulted_in<T, R>(v: &mut Vec<T>, fill: impl FnOnce(&mut Vec<T>) -> R) -> R {
    let spare = v.spare_capacity_mut();
    let (start, len) = (spare.as_mut_ptr() as usize, std::mem::size_of_val(spare));
    if len < MIN_BYTES || !cfg!(target_os = "linux") {
        return fill(v);
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| fault_in(start, len, &done));
        let out = fill(v);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        out
    })
}

/// Asks the kernel to map `len` bytes from `start` writable, a step at a time, until done or
/// `done` is set. The range is memory of the caller's vector; should the vector move, the
/// calls map pages of other memory of the process or fail, neither of which changes any byte.
#[cfg(target_os = "linux")]
fn fault_in(start: usize, len: usize, done: &std::sync::atomic::AtomicBool) {
    const PAGE: usize = 4096;
    let mut at = start.next_multiple_of(PAGE);
    let end = (start + len) / PAGE * PAGE;
    while at < end && !done.load(std::sync::atomic::Ordering::Relaxed) {
        let n = STEP.min(end - at);
        // SAFETY: MADV_POPULATE_WRITE neither reads nor writes the memory; on an address range
        // that is not mapped it fails (ENOMEM), which ends the loop.
        if unsafe { libc::madvise(at as *mut libc::c_void, n, libc::MADV_POPULATE_WRITE) } != 0 {
            return;
        }
        at += n;
    }
}

#[cfg(not(target_os = "linux"))]
fn fault_in(_start: usize, _len: usize, _done: &std::sync::atomic::AtomicBool) {}

#[cfg(test)]
mod tests {
    /// The vector is filled as without the helper, small or large.
    #[test]
    fn filling_with_the_helper_gives_the_same_vector() {
        for n in [0usize, 10, 1 << 20] {
            let mut v: Vec<u64> = Vec::with_capacity(n);
            let pushed = super::with_spare_faulted_in(&mut v, |v| {
                for i in 0..n as u64 {
                    v.push(i * 3);
                }
                v.len()
            });
            assert_eq!(pushed, n);
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64 * 3));
        }
    }

    /// The helper maps memory never touched: its pages are resident afterwards (`mincore`),
    /// none before. Skipped on a kernel without `MADV_POPULATE_WRITE` (before Linux 5.14).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_helper_maps_the_pages_it_is_given() {
        const LEN: usize = 16 << 20;
        let resident = |p: *mut libc::c_void| {
            let mut pages = vec![0u8; LEN / 4096];
            // SAFETY: `p` is a mapping of LEN bytes; `pages` has one byte per page of it.
            assert_eq!(unsafe { libc::mincore(p, LEN, pages.as_mut_ptr()) }, 0);
            pages.iter().filter(|&&b| b & 1 == 1).count()
        };
        // SAFETY: a fresh private anonymous mapping, unmapped at the end, never dereferenced.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        assert_eq!(resident(p), 0, "a fresh mapping has no page yet");
        // SAFETY: as in `fault_in`: the advice neither reads nor writes the memory.
        let supported = unsafe { libc::madvise(p, 4096, libc::MADV_POPULATE_WRITE) } == 0;
        if supported {
            super::fault_in(p as usize, LEN, &std::sync::atomic::AtomicBool::new(false));
            assert_eq!(resident(p), LEN / 4096, "every page mapped");
        }
        // SAFETY: the mapping made above, no longer used.
        unsafe { libc::munmap(p, LEN) };
    }
}
