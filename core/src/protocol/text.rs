//! Messages and URLs glued from pieces, without `core::fmt`.
//!
//! Why not `format!`: the browser package links the sans-IO modules into a WASM module whose
//! size is budgeted, and `core::fmt` (its `Formatter`, padding and number printing, plus a call
//! frame per `format!`) is a few KB of it that nothing else there needs. Code the browser never
//! links (the blocking client, discovery, anything that prints a serde_json error) keeps
//! `format!`.
//!
//! ```ignore
//! let m = text!("the response is larger than the ", limit, " byte limit");
//! ```

use crate::prelude::*;

/// Something [`text!`] can append: string slices, strings, chars and unsigned integers (in
/// decimal).
pub trait Piece {
    fn push_to(&self, out: &mut String);
}

impl Piece for str {
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for String {
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for alloc::borrow::Cow<'_, str> {
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for char {
    fn push_to(&self, out: &mut String) {
        out.push(*self);
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    fn push_to(&self, out: &mut String) {
        (**self).push_to(out);
    }
}

macro_rules! unsigned_piece {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            fn push_to(&self, out: &mut String) {
                push_decimal(u64::from(*self), out);
            }
        }
    )*};
}
unsigned_piece!(u8, u16, u32, u64);

impl Piece for usize {
    fn push_to(&self, out: &mut String) {
        push_decimal(*self as u64, out);
    }
}

/// `n` in decimal.
pub fn decimal(n: u64) -> String {
    let mut s = String::new();
    push_decimal(n, &mut s);
    s
}

fn push_decimal(mut n: u64, out: &mut String) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[start..] {
        out.push(char::from(d));
    }
}

/// Concatenates its arguments ([`Piece`]s) into a new `String`.
macro_rules! text {
    ($($piece:expr),+ $(,)?) => {{
        let mut out = $crate::prelude::String::new();
        $( $crate::text::Piece::push_to(&$piece, &mut out); )+
        out
    }};
}
pub(crate) use text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_concatenate_like_format() {
        let name = String::from("vion");
        assert_eq!(
            text!(
                "realm `",
                name,
                "` has ",
                3u16,
                " parts, ",
                0u64,
                '/',
                u64::MAX
            ),
            format!("realm `{name}` has 3 parts, 0/{}", u64::MAX)
        );
        for n in [0, 7, 10, 99, 100, 65_535, 1_048_576, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }
}
