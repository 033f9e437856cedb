//! How a qujat process holds memory. A batch's memory must not grow with its size (see
//! docs/performance.md): besides keeping little per document, that takes two settings.

/// Asks Linux not to back the process's memory with transparent huge pages. The allocator
/// (mimalloc) advises them for its segments, and a huge page counts whole in the resident
/// memory however little of it is in use, which made a batch's memory larger and less
/// predictable — measured on a 2,000-document batch: 218 MB with them, 169 MB without, in the
/// same time. Call it first thing; memory already mapped keeps its pages.
pub fn use_small_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE only sets a flag on the process; it takes no pointers. On a
    // kernel without it (before 3.15) the call fails harmlessly.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Gives the memory freed since the last call back to the system, so that a stage that is done
/// (reading and validating every case, planning) leaves nothing behind for the next one to
/// carry: the allocator would otherwise keep the pages for reuse by the thread that freed them.
/// Takes a few milliseconds.
pub fn give_back() {
    #[cfg(not(fuzzing))]
    {
        // SAFETY: mi_collect takes no pointers; mimalloc is the global allocator (lib.rs)
        // whenever this is compiled.
        let collect = || unsafe { libmimalloc_sys::mi_collect(true) };
        // Each thread's freed pages are its own to give back: the pool's threads (which
        // validated the cases) as well as this one.
        rayon::broadcast(|_| collect());
        collect();
    }
}
