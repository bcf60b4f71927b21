//! The module's allocator: an arena that starts over whenever nothing is allocated.
//!
//! Why not the default (dlmalloc): it is about 3 KB of the package's 16 KB gzip budget, and
//! this module needs none of what it does. Every export is a pure function: it allocates while
//! it runs, and everything it allocated is freed once the glue has copied the result out (no
//! state lives in the module between calls; the page's storage holds it). So a bump pointer
//! that goes back to the start whenever the count of live allocations drops to zero never
//! grows past what the largest single call needs. A test in tests/web.rs holds it to that.
//!
//! The small allocator crates that do the same (wee_alloc, lol_alloc) are unmaintained or
//! single-maintainer, and this one is a page of code.
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use core::ptr::null_mut;

const PAGE: usize = 65536;

pub struct Arena {
    /// First byte of the arena (0 until the first allocation).
    start: Cell<usize>,
    /// Next free byte.
    next: Cell<usize>,
    /// End of the memory the arena owns.
    end: Cell<usize>,
    /// Allocations not freed yet.
    live: Cell<usize>,
}

// SAFETY: wasm32-unknown-unknown without the atomics feature has exactly one thread.
unsafe impl Sync for Arena {}

impl Arena {
    pub const fn new() -> Arena {
        Arena {
            start: Cell::new(0),
            next: Cell::new(0),
            end: Cell::new(0),
            live: Cell::new(0),
        }
    }

    /// Bytes the arena has taken from the memory so far (for the tests).
    pub fn capacity(&self) -> usize {
        self.end.get() - self.start.get()
    }

    /// Makes `[next, upto)` usable, growing the memory when needed. False when it cannot.
    fn reserve(&self, upto: usize) -> bool {
        if self.start.get() == 0 {
            // Everything below the memory's current end (stack, static data, the heap base)
            // belongs to someone else; the arena starts after it.
            let end = memory_size() * PAGE;
            self.start.set(end);
            self.next.set(end);
            self.end.set(end);
        }
        if upto <= self.end.get() {
            return true;
        }
        let pages = (upto - self.end.get()).div_ceil(PAGE);
        if memory_grow(pages) == usize::MAX {
            return false;
        }
        self.end.set(self.end.get() + pages * PAGE);
        true
    }
}

impl Default for Arena {
    fn default() -> Self {
        Arena::new()
    }
}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.start.get() == 0 && !self.reserve(0) {
            return null_mut();
        }
        let at = (self.next.get() + layout.align() - 1) & !(layout.align() - 1);
        let Some(upto) = at.checked_add(layout.size()) else {
            return null_mut();
        };
        if !self.reserve(upto) {
            return null_mut();
        }
        self.next.set(upto);
        self.live.set(self.live.get() + 1);
        at as *mut u8
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {
        let live = self.live.get().saturating_sub(1);
        self.live.set(live);
        if live == 0 {
            self.next.set(self.start.get());
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let at = ptr as usize;
        // The newest allocation grows or shrinks in place (the common case: a String being
        // pushed to).
        if at + layout.size() == self.next.get() {
            let Some(upto) = at.checked_add(new_size) else {
                return null_mut();
            };
            if !self.reserve(upto) {
                return null_mut();
            }
            self.next.set(upto);
            return ptr;
        }
        // SAFETY: the caller guarantees `layout` describes `ptr`, and the new layout is valid.
        unsafe {
            let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn memory_size() -> usize {
    core::arch::wasm32::memory_size(0)
}

#[cfg(target_arch = "wasm32")]
fn memory_grow(pages: usize) -> usize {
    core::arch::wasm32::memory_grow(0, pages)
}

// Native builds (the crate's unit tests) keep the system allocator; these are never called.
#[cfg(not(target_arch = "wasm32"))]
fn memory_size() -> usize {
    0
}

#[cfg(not(target_arch = "wasm32"))]
fn memory_grow(_pages: usize) -> usize {
    usize::MAX
}
