//! Offline verification of a log directory: every segment, every record,
//! every link, reporting the first place the chain is broken and how.

use std::path::{Path, PathBuf};

use crate::chain::{GENESIS, link_hash, parse_line, segments};

/// A verified log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub segments: usize,
    pub records: u64,
    /// The hash of the last record (the chain's head).
    pub head: [u8; 32],
    /// Signed digests checked, and the last record they cover (records
    /// after it are chained but not yet signed for).
    pub digests: usize,
    pub covered: u64,
    /// The ids of the keys that signed them.
    pub key_ids: Vec<String>,
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}, line {line}: {kind}", file.display())]
pub struct Broken {
    pub file: PathBuf,
    /// 1-based; 0 for a problem with the file as a whole.
    pub line: usize,
    pub kind: Damage,
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Damage {
    #[error("the record was changed (its hash does not match its content)")]
    Edited,
    #[error("records {from} to {to} are missing (deleted)")]
    Missing { from: u64, to: u64 },
    #[error("record {found} is out of place where {expected} was expected (inserted or reordered)")]
    OutOfPlace { expected: u64, found: u64 },
    #[error("the record does not follow the one before it (replaced or reordered)")]
    BrokenLink,
    #[error("the line is not an audit record (damaged or truncated)")]
    Malformed,
    #[error("the segment that should begin at record {expected} is missing")]
    MissingSegment { expected: u64 },
    #[error("the directory cannot be read: {0}")]
    Unreadable(String),
    #[error("the digest's signature is not valid (forged or edited digest)")]
    ForgedDigest,
    #[error("the digest is signed by key {0}, which the log does not list")]
    UnknownKey(String),
    #[error("the digest does not follow the one before it (a digest is missing)")]
    MissingDigest,
    #[error(
        "records {from} to {to}, which a signed digest covers, are missing (the end of the log was removed)"
    )]
    Truncated { from: u64, to: u64 },
    #[error("record {seq} is not the one the signed digest names (the log was rewritten)")]
    Rewritten { seq: u64 },
    #[error("the digest is unreadable")]
    BadDigest,
}

/// Verifies the log in `dir`.
pub fn verify(dir: &Path) -> Result<Report, Broken> {
    let whole = |kind| Broken {
        file: dir.to_owned(),
        line: 0,
        kind,
    };
    let found = segments(dir).map_err(|e| whole(Damage::Unreadable(e.to_string())))?;
    let digest_files =
        crate::digest::digests(dir).map_err(|e| whole(Damage::Unreadable(e.to_string())))?;
    // The hashes the digests name, collected on the way.
    let named: std::collections::HashSet<u64> = digest_files.iter().map(|(s, _)| *s).collect();
    let mut hashes = std::collections::HashMap::new();
    let (mut seq, mut prev) = (0u64, GENESIS);
    for (first, path) in &found {
        if *first != seq + 1 {
            return Err(Broken {
                file: path.clone(),
                line: 0,
                kind: Damage::MissingSegment { expected: seq + 1 },
            });
        }
        let bytes = std::fs::read(path).map_err(|e| Broken {
            file: path.clone(),
            line: 0,
            kind: Damage::Unreadable(e.to_string()),
        })?;
        let at = |line: usize, kind| Broken {
            file: path.clone(),
            line,
            kind,
        };
        // Zero-fill after the records is the live segment's room to grow;
        // anything else after it was put there.
        let bytes = match crate::chain::content(&bytes) {
            Ok(records) => records,
            Err(at) => {
                let lines = bytes[..at].split(|b| *b == b'\n').count();
                return Err(Broken {
                    file: path.clone(),
                    line: lines,
                    kind: Damage::Malformed,
                });
            }
        };
        if !bytes.is_empty() && bytes.last() != Some(&b'\n') {
            let lines = bytes.split(|b| *b == b'\n').count();
            return Err(at(lines, Damage::Malformed));
        }
        let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let records = body.split(|b| *b == b'\n').filter(|_| !body.is_empty());
        for (i, raw) in records.enumerate() {
            let n = i + 1;
            let line = parse_line(raw).ok_or_else(|| at(n, Damage::Malformed))?;
            if line.seq > seq + 1 {
                return Err(at(
                    n,
                    Damage::Missing {
                        from: seq + 1,
                        to: line.seq - 1,
                    },
                ));
            }
            if line.seq <= seq {
                return Err(at(
                    n,
                    Damage::OutOfPlace {
                        expected: seq + 1,
                        found: line.seq,
                    },
                ));
            }
            if link_hash(line.seq, &line.prev, line.event) != line.hash {
                return Err(at(n, Damage::Edited));
            }
            if line.prev != prev {
                return Err(at(n, Damage::BrokenLink));
            }
            seq = line.seq;
            prev = line.hash;
            if named.contains(&seq) {
                hashes.insert(seq, prev);
            }
        }
    }
    let keys =
        crate::digest::public_keys(dir).map_err(|e| whole(Damage::Unreadable(e.to_string())))?;
    let mut key_ids = Vec::new();
    let (mut covered, mut previous): (u64, Option<String>) = (0, None);
    for (_, path) in &digest_files {
        let at = |kind| Broken {
            file: path.clone(),
            line: 0,
            kind,
        };
        let digest: crate::digest::Digest = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| at(Damage::BadDigest))?;
        let key = keys
            .iter()
            .find(|k| k.key_id == digest.key_id)
            .ok_or_else(|| at(Damage::UnknownKey(digest.key_id.clone())))?;
        if !digest.verify(key) {
            return Err(at(Damage::ForgedDigest));
        }
        if digest.previous_signature != previous || digest.first_seq != covered + 1 {
            return Err(at(Damage::MissingDigest));
        }
        if digest.last_seq > seq {
            return Err(at(Damage::Truncated {
                from: seq + 1,
                to: digest.last_seq,
            }));
        }
        if hashes.get(&digest.last_seq).map(hex::encode) != Some(digest.head_hash.clone()) {
            return Err(at(Damage::Rewritten {
                seq: digest.last_seq,
            }));
        }
        if !key_ids.contains(&digest.key_id) {
            key_ids.push(digest.key_id.clone());
        }
        covered = digest.last_seq;
        previous = Some(digest.signature);
    }
    Ok(Report {
        segments: found.len(),
        records: seq,
        head: prev,
        digests: digest_files.len(),
        covered,
        key_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{segment_name, write_line};

    /// A log of `n` records in one segment; its path.
    fn log_of(dir: &Path, n: u64) -> PathBuf {
        let mut out = Vec::new();
        let mut prev = GENESIS;
        for seq in 1..=n {
            prev = write_line(&mut out, seq, &prev, format!("{{\"n\":{seq}}}").as_bytes());
        }
        let path = dir.join(segment_name(1));
        std::fs::write(&path, out).expect("write");
        path
    }

    fn lines(path: &Path) -> Vec<Vec<u8>> {
        std::fs::read(path)
            .expect("read")
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect()
    }

    fn rewrite(path: &Path, lines: &[Vec<u8>]) {
        let mut out = lines.join(&b'\n');
        out.push(b'\n');
        std::fs::write(path, out).expect("write");
    }

    #[test]
    fn an_intact_log_verifies() {
        let dir = tempfile::tempdir().expect("tempdir");
        log_of(dir.path(), 5);
        let report = verify(dir.path()).expect("intact");
        assert_eq!((report.segments, report.records), (1, 5));
        assert_eq!((report.digests, report.covered), (0, 0));
    }

    #[test]
    fn signed_digests_catch_a_removed_tail_a_rewrite_and_a_forgery() {
        use crate::digest::{DigestSigner, digest_name, list_key, write_digest};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = log_of(dir.path(), 6);
        let signer = DigestSigner::generate().expect("key");
        list_key(dir.path(), &signer, 0).expect("key listed");
        let heads: Vec<[u8; 32]> = lines(&path)
            .iter()
            .map(|l| parse_line(l).expect("line").hash)
            .collect();
        let first = write_digest(dir.path(), &signer, 1, 3, &heads[2], None, 0).expect("d1");
        write_digest(
            dir.path(),
            &signer,
            4,
            6,
            &heads[5],
            Some(&first.signature),
            0,
        )
        .expect("d2");
        let report = verify(dir.path()).expect("intact");
        assert_eq!((report.digests, report.covered), (2, 6));
        assert_eq!(report.key_ids, vec![signer.key_id().to_owned()]);
        let original = lines(&path);
        let kind = || verify(dir.path()).map(|_| ()).map_err(|b| b.kind);

        // The last two records removed: the chain alone would not notice.
        rewrite(&path, &original[..4]);
        assert_eq!(kind(), Err(Damage::Truncated { from: 5, to: 6 }));

        // The whole log rewritten with fresh, consistent hashes.
        let mut out = Vec::new();
        let mut prev = GENESIS;
        for seq in 1..=6 {
            prev = write_line(
                &mut out,
                seq,
                &prev,
                format!("{{\"n\":\"x{seq}\"}}").as_bytes(),
            );
        }
        std::fs::write(&path, out).expect("write");
        assert_eq!(kind(), Err(Damage::Rewritten { seq: 3 }));
        rewrite(&path, &original);
        assert!(verify(dir.path()).is_ok());

        // A digest edited (its range widened), or removed.
        let second = dir.path().join(digest_name(6));
        let text = std::fs::read_to_string(&second).expect("read");
        std::fs::write(&second, text.replace("\"firstSeq\": 4", "\"firstSeq\": 3")).expect("w");
        assert_eq!(kind(), Err(Damage::ForgedDigest));
        std::fs::write(&second, &text).expect("restore");
        std::fs::remove_file(dir.path().join(digest_name(3))).expect("remove");
        assert_eq!(kind(), Err(Damage::MissingDigest));
    }

    #[test]
    fn every_kind_of_tampering_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = log_of(dir.path(), 5);
        let original = lines(&path);
        let kind = |l: Vec<Vec<u8>>| {
            rewrite(&path, &l);
            verify(dir.path()).map(|_| ()).map_err(|b| (b.line, b.kind))
        };

        // A flipped byte inside an event.
        let mut flipped = original.clone();
        let last = flipped[2].len() - 2;
        flipped[2][last] ^= 0x01;
        assert_eq!(kind(flipped), Err((3, Damage::Edited)));

        // A deleted record.
        let mut deleted = original.clone();
        deleted.remove(1);
        assert_eq!(kind(deleted), Err((2, Damage::Missing { from: 2, to: 2 })));

        // Two records swapped.
        let mut swapped = original.clone();
        swapped.swap(1, 2);
        assert_eq!(kind(swapped), Err((2, Damage::Missing { from: 2, to: 2 })));

        // A record inserted: a copy of an earlier one.
        let mut inserted = original.clone();
        inserted.insert(3, original[1].clone());
        assert_eq!(
            kind(inserted),
            Err((
                4,
                Damage::OutOfPlace {
                    expected: 4,
                    found: 2
                }
            ))
        );

        // A record replaced by one forged with a consistent hash of its own.
        let mut forged = original.clone();
        let mut one = Vec::new();
        write_line(&mut one, 3, &[7; 32], br#"{"n":"forged"}"#);
        one.pop();
        forged[2] = one;
        assert_eq!(kind(forged), Err((3, Damage::BrokenLink)));

        // A truncated last line.
        let mut torn = original.join(&b'\n');
        torn.truncate(torn.len() - 5);
        std::fs::write(&path, torn).expect("write");
        assert_eq!(
            verify(dir.path()).map_err(|b| b.kind),
            Err(Damage::Malformed)
        );

        // A missing segment.
        rewrite(&path, &original);
        let mut next = Vec::new();
        write_line(&mut next, 9, &[1; 32], b"{}");
        std::fs::write(dir.path().join(segment_name(9)), next).expect("write");
        assert_eq!(
            verify(dir.path()).map_err(|b| b.kind),
            Err(Damage::MissingSegment { expected: 6 })
        );
    }
}
