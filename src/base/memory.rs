//! Which allocations are expected to outlive the request that makes them (the facts a
//! request decodes from the cache, which the index keeps for later ones; an open
//! document's text, tree and facts). The global allocator (`lang::Allocator`) serves them
//! from a heap of their own, so that the short-lived memory of requests (retrieval's
//! tables, prompts) fills pages that empty whole when the request ends and can go back to
//! the system, instead of pages pinned by a few long-lived blocks. Pure: a flag per thread.

use std::cell::Cell;

thread_local! {
    static LONG_LIVED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with its allocations marked long-lived (see the module doc).
pub fn long_lived<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = LONG_LIVED.try_with(|flag| flag.set(self.0));
        }
    }
    let _restore = Restore(LONG_LIVED.with(|flag| flag.replace(true)));
    f()
}

/// Whether this thread is inside `long_lived`.
pub fn allocating_long_lived() -> bool {
    LONG_LIVED.try_with(Cell::get).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mark holds inside `long_lived` only, nested, on its own thread, and is taken
    /// off again when `f` panics.
    #[test]
    fn the_mark_holds_inside_long_lived_only() {
        assert!(!allocating_long_lived());
        long_lived(|| {
            assert!(allocating_long_lived());
            long_lived(|| assert!(allocating_long_lived()));
            assert!(allocating_long_lived(), "still inside the outer call");
            std::thread::spawn(|| assert!(!allocating_long_lived())).join().unwrap();
        });
        assert!(!allocating_long_lived());
        let caught = std::panic::catch_unwind(|| long_lived(|| panic!("inside")));
        assert!(caught.is_err());
        assert!(!allocating_long_lived());
    }
}
