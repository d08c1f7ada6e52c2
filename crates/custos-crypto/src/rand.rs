//! The system CSPRNG, through aws-lc.

/// Fills `dest` with random bytes.
pub fn fill(dest: &mut [u8]) -> Result<(), crate::Error> {
    aws_lc_rs::rand::fill(dest)?;
    Ok(())
}

/// An array of random bytes.
pub fn array<const N: usize>() -> Result<[u8; N], crate::Error> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}
