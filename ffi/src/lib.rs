//! C ABI for tokenward (work in progress).
