//! Appending to plaintext buffers without leaving copies behind.

use zeroize::Zeroize;

/// Appends `data` to `out`. When `out` must grow, the old allocation is
/// wiped before it is freed (a plain `Vec` would free it as it is), since
/// `out` holds plaintext.
pub(crate) fn extend(out: &mut Vec<u8>, data: &[u8]) {
    if out.capacity() - out.len() < data.len() {
        let wanted = (out.len() + data.len()).max(out.capacity().saturating_mul(2));
        let mut bigger = Vec::with_capacity(wanted);
        bigger.extend_from_slice(out);
        out.zeroize();
        *out = bigger;
    }
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    #[test]
    fn appends() {
        let mut v = b"ab".to_vec();
        v.shrink_to_fit();
        super::extend(&mut v, b"cdef");
        super::extend(&mut v, b"");
        assert_eq!(v, b"abcdef");
    }
}
