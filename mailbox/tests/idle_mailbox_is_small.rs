//! An idle, empty mailbox costs a small fixed header and no heap allocation: it dominates the
//! memory of a million idle processes.

use beamish_mailbox::{Inbox, Mailbox};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged, only counting calls (test-only code;
// the library itself forbids unsafe).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn creating_an_idle_mailbox_allocates_nothing() {
    let before = ALLOCATED.load(Ordering::SeqCst);
    let mb: Mailbox<[u64; 4], [u64; 8]> = Mailbox::default();
    let inbox: Inbox<[u64; 8]> = Inbox::new();
    let after = ALLOCATED.load(Ordering::SeqCst);
    assert_eq!(after - before, 0, "an empty mailbox must not allocate");
    assert!(mb.is_empty());
    drop((mb, inbox));
}

#[test]
fn the_idle_header_is_small() {
    // Whatever the message types, the header is a few words: two queues, a waker slot, flags.
    let header = std::mem::size_of::<Mailbox<[u64; 4], [u64; 8]>>();
    assert!(header <= 80, "mailbox header grew to {header} bytes");
    assert!(std::mem::size_of::<Inbox<[u64; 8]>>() <= 32);
}
