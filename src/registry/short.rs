//! Short strings held inline: a record's hashes, names and index line, as the threads that read
//! a journal hand them to the one that checks it in order. They are nearly always this short,
//! so reading a million records allocates nothing for them; a longer one (a damaged or foreign
//! record) goes on the heap and is handled the same.

use std::fmt;

/// A string of up to `N` bytes (at most 255) kept inline, or a longer one on the heap.
#[derive(Clone)]
pub enum Short<const N: usize> {
    Inline { len: u8, bytes: [u8; N] },
    Heap(String),
}

impl<const N: usize> Short<N> {
    pub fn new(text: &str) -> Short<N> {
        let mut short = Short::default();
        fmt::Write::write_str(&mut short, text).expect("writing to memory cannot fail");
        short
    }

    pub fn as_str(&self) -> &str {
        match self {
            Short::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..*len as usize]).expect("only whole strings go in")
            }
            Short::Heap(text) => text,
        }
    }
}

impl<const N: usize> Default for Short<N> {
    fn default() -> Short<N> {
        const { assert!(N <= u8::MAX as usize, "the length is kept in a byte") };
        Short::Inline {
            len: 0,
            bytes: [0; N],
        }
    }
}

impl<const N: usize> fmt::Write for Short<N> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        match self {
            Short::Inline { len, bytes } if *len as usize + text.len() <= N => {
                bytes[*len as usize..][..text.len()].copy_from_slice(text.as_bytes());
                *len += text.len() as u8;
            }
            Short::Inline { .. } => *self = Short::Heap(format!("{}{text}", self.as_str())),
            Short::Heap(held) => held.push_str(text),
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for Short<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> PartialEq for Short<N> {
    fn eq(&self, other: &Short<N>) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<const N: usize> Eq for Short<N> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn a_short_string_holds_what_was_written_inline_or_not() {
        let hash = "ab".repeat(32);
        assert!(matches!(
            Short::<64>::new(&hash),
            Short::Inline { len: 64, .. }
        ));
        assert_eq!(Short::<64>::new(&hash).as_str(), hash);
        let mut grown = Short::<8>::new("00017-Г");
        assert!(matches!(grown, Short::Inline { .. }));
        write!(grown, "\t{}", 123456).unwrap();
        assert!(matches!(grown, Short::Heap(_)));
        assert_eq!(grown.as_str(), "00017-Г\t123456");
        assert_eq!(Short::<8>::new(""), Short::<8>::default());
    }
}
