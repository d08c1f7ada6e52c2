//! Constant-time comparison.

/// Whether `a` and `b` are equal, in time that depends only on their
/// lengths. Signatures, MACs and tokens are always compared with this.
pub fn eq(a: &[u8], b: &[u8]) -> bool {
    #[allow(
        deprecated,
        reason = "still the constant-time comparison aws-lc-rs exposes"
    )]
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn compares() {
        assert!(super::eq(b"abc", b"abc"));
        assert!(!super::eq(b"abc", b"abd"));
        assert!(!super::eq(b"abc", b"ab"));
        assert!(super::eq(b"", b""));
    }
}
