//! The hash chain: how records are linked and laid out on disk.
//!
//! A segment file holds one record per line:
//!
//! ```text
//! <seq> <prev hash, hex> <hash, hex> <event JSON>\n
//! ```
//!
//! where `seq` counts records from 1 across all segments, and
//! `hash = SHA-256("custos.audit.v1\0" ‖ seq as 8 bytes big-endian ‖ prev ‖
//! event JSON bytes)`, `prev` being the previous record's hash (32 zero
//! bytes for the first). Editing a byte of a record, deleting, inserting or
//! reordering records breaks the chain at that place. Segments are named
//! `chain-<first seq, 20 digits>.log`.
//!
//! The segment being written is kept longer than its records, zero-filled
//! ahead of them (see `crate::log`): its records end at the first NUL byte,
//! and everything after it must be NUL. A closed segment is cut to its
//! records.

use std::path::Path;

/// The hash of the record before the first.
pub const GENESIS: [u8; 32] = [0; 32];

const DOMAIN: &[u8] = b"custos.audit.v1\0";

/// The hash of record `seq` linking to `prev`.
pub fn link_hash(seq: u64, prev: &[u8; 32], event: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(DOMAIN.len() + 8 + 32 + event.len());
    input.extend_from_slice(DOMAIN);
    input.extend_from_slice(&seq.to_be_bytes());
    input.extend_from_slice(prev);
    input.extend_from_slice(event);
    custos_crypto::mac::sha256(&input)
}

/// Appends the line of record `seq` to `out`; returns its hash.
pub fn write_line(out: &mut Vec<u8>, seq: u64, prev: &[u8; 32], event: &[u8]) -> [u8; 32] {
    let hash = link_hash(seq, prev, event);
    out.extend_from_slice(seq.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(hex::encode(prev).as_bytes());
    out.push(b' ');
    out.extend_from_slice(hex::encode(hash).as_bytes());
    out.push(b' ');
    out.extend_from_slice(event);
    out.push(b'\n');
    hash
}

/// The records of a segment's bytes: everything before the first NUL. The
/// rest must be zero-fill; `Err` holds the offset of the first byte that
/// is not.
pub fn content(bytes: &[u8]) -> Result<&[u8], usize> {
    let Some(end) = bytes.iter().position(|b| *b == 0) else {
        return Ok(bytes);
    };
    match bytes[end..].iter().position(|b| *b != 0) {
        None => Ok(&bytes[..end]),
        Some(i) => Err(end + i),
    }
}

/// One line, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    pub seq: u64,
    pub prev: [u8; 32],
    pub hash: [u8; 32],
    pub event: &'a [u8],
}

/// Parses a line (without its newline); `None` if it is not one.
pub fn parse_line(line: &[u8]) -> Option<Line<'_>> {
    let mut parts = line.splitn(4, |b| *b == b' ');
    let seq = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
    let prev = hash_of(parts.next()?)?;
    let hash = hash_of(parts.next()?)?;
    let event = parts.next()?;
    Some(Line {
        seq,
        prev,
        hash,
        event,
    })
}

fn hash_of(hex_text: &[u8]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut out).ok()?;
    Some(out)
}

/// The file name of the segment whose first record is `first_seq`.
pub fn segment_name(first_seq: u64) -> String {
    format!("chain-{first_seq:020}.log")
}

/// The first sequence number of a segment, from its file name.
pub fn segment_first_seq(path: &Path) -> Option<u64> {
    path.file_name()?
        .to_str()?
        .strip_prefix("chain-")?
        .strip_suffix(".log")?
        .parse()
        .ok()
}

/// The segments of `dir`, in order.
pub fn segments(dir: &Path) -> std::io::Result<Vec<(u64, std::path::PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if let Some(first) = segment_first_seq(&path) {
            found.push((first, path));
        }
    }
    found.sort();
    Ok(found)
}

/// Calls `each` with the sequence number and JSON of every record of the
/// log in `dir`, in order (lines that do not parse are skipped: this reads,
/// `crate::verify` judges).
pub fn for_each_event(
    dir: &Path,
    mut each: impl FnMut(u64, serde_json::Value),
) -> std::io::Result<()> {
    for (_, path) in segments(dir)? {
        let bytes = std::fs::read(path)?;
        let records = content(&bytes).unwrap_or_else(|at| &bytes[..at]);
        for line in records.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            if let Some(line) = parse_line(line)
                && let Ok(event) = serde_json::from_slice(line.event)
            {
                each(line.seq, event);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_link() {
        let mut out = Vec::new();
        let h1 = write_line(&mut out, 1, &GENESIS, br#"{"a":1}"#);
        let h2 = write_line(&mut out, 2, &h1, br#"{"b":"x y"}"#);
        let text = out.split(|b| *b == b'\n').collect::<Vec<_>>();
        let one = parse_line(text[0]).expect("line 1");
        let two = parse_line(text[1]).expect("line 2");
        assert_eq!((one.seq, one.prev, one.hash), (1, GENESIS, h1));
        assert_eq!(one.event, br#"{"a":1}"#);
        assert_eq!((two.seq, two.prev, two.hash), (2, h1, h2));
        assert_eq!(two.event, br#"{"b":"x y"}"#);
        assert_eq!(link_hash(2, &h1, two.event), h2);
        assert_ne!(link_hash(2, &h1, br#"{"b":"x z"}"#), h2);
        assert!(parse_line(b"1 00 11 {}").is_none());
    }

    #[test]
    fn records_end_at_the_zero_fill() {
        assert_eq!(content(b"1 a\n"), Ok(&b"1 a\n"[..]));
        assert_eq!(content(b"1 a\n\0\0\0"), Ok(&b"1 a\n"[..]));
        assert_eq!(content(b""), Ok(&b""[..]));
        assert_eq!(content(b"1 a\n\0\0x\0"), Err(6));
    }

    #[test]
    fn segment_names_sort_by_sequence() {
        let name = segment_name(42);
        assert_eq!(name, "chain-00000000000000000042.log");
        assert_eq!(segment_first_seq(Path::new(&name)), Some(42));
        assert!(segment_name(9) < segment_name(10));
    }
}
