//! Big-endian reading helpers for the parsers.

/// A read position in a byte slice. Every read returns `None` instead of
/// reading past the end, and then leaves the position unchanged.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos == self.bytes.len()
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.array()?))
    }

    /// A field preceded by its `u16` length.
    pub(crate) fn u16_prefixed(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        let len = self.u16()?;
        match self.take(usize::from(len)) {
            Some(field) => Some(field),
            None => {
                self.pos = start;
                None
            }
        }
    }
}

/// Appends a field preceded by its `u16` length; `None` if it is too long.
pub(crate) fn put_u16_prefixed(out: &mut Vec<u8>, field: &[u8]) -> Option<()> {
    let len = u16::try_from(field.len()).ok()?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_stops_at_the_end() {
        let mut c = Cursor::new(&[0, 2, b'h', b'i', 0, 0, 0, 9, 1]);
        assert_eq!(c.u16_prefixed(), Some(&b"hi"[..]));
        assert_eq!(c.u32(), Some(9));
        assert_eq!(c.u16(), None);
        assert_eq!(c.pos(), 8);
        assert_eq!(c.u8(), Some(1));
        assert!(c.is_empty());
        let mut short = Cursor::new(&[0, 5, b'x']);
        assert_eq!(short.u16_prefixed(), None);
        assert_eq!(short.pos(), 0);
        let mut out = Vec::new();
        put_u16_prefixed(&mut out, b"ab").expect("fits");
        assert_eq!(out, [0, 2, b'a', b'b']);
        assert!(put_u16_prefixed(&mut out, &vec![0; 65_536]).is_none());
    }
}
