//! Heap bytes held by values built on the current thread, counted by this test binary's global
//! allocator. The memory cases use it to size a thread's history as the server holds it
//! (`serde_json` values), so growth beyond that can be called a leak.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Whether allocations on this thread are being counted.
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    /// Bytes allocated minus bytes freed while counting.
    static NET: Cell<i64> = const { Cell::new(0) };
}

/// What glibc malloc charges for a block: an 8-byte header, rounded up to 16, at least 32.
fn charged(size: usize) -> i64 {
    i64::try_from((size + 8).div_ceil(16) * 16).map_or(i64::MAX, |n| n.max(32))
}

fn count(delta: i64) {
    let _ = ACTIVE.try_with(|active| {
        if active.get() {
            let _ = NET.try_with(|net| net.set(net.get() + delta));
        }
    });
}

struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only
// const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(charged(layout.size()));
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-charged(layout.size()));
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(charged(new_size) - charged(layout.size()));
        // SAFETY: as for `dealloc`, and `new_size` is the caller's valid new size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `build` and returns what it built with the heap bytes that value holds (allocated on
/// this thread during the call and not freed by its end).
pub fn held_by<T>(build: impl FnOnce() -> T) -> (T, u64) {
    NET.with(|n| n.set(0));
    ACTIVE.with(|a| a.set(true));
    let value = build();
    ACTIVE.with(|a| a.set(false));
    let net = NET.with(Cell::get);
    (value, u64::try_from(net).unwrap_or(0))
}
