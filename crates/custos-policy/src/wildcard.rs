//! IAM's two wildcards, `*` (any run of characters, including none) and `?`
//! (exactly one character), matched without regular expressions.
//!
//! A pattern is a sequence of [`Piece`]s rather than a string so that a
//! literal `*` produced by the `${*}` policy variable, or by substituting a
//! request value, is never mistaken for a wildcard.

use std::borrow::Cow;

/// One element of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece<S> {
    /// Characters that must appear as they are.
    Literal(S),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
}

/// A pattern compiled once at parse time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    pieces: Vec<Piece<Box<str>>>,
}

impl Pattern {
    /// Compiles `text`, treating every `*` and `?` as a wildcard.
    pub(crate) fn new(text: &str) -> Self {
        let mut pieces = Vec::new();
        push_text(&mut pieces, text);
        Self { pieces }
    }

    /// A pattern from already-split pieces.
    #[cfg(test)]
    pub(crate) fn from_pieces(pieces: Vec<Piece<Box<str>>>) -> Self {
        Self { pieces }
    }

    pub(crate) fn matches(&self, input: &str, case: Case) -> bool {
        matches_pieces(&self.pieces, input, case)
    }

    /// True when the pattern has no wildcard, so that `matches` is plain
    /// equality; ARN segment matching uses it to skip work.
    #[cfg(test)]
    pub(crate) fn is_literal(&self) -> bool {
        self.pieces.iter().all(|p| matches!(p, Piece::Literal(_)))
    }
}

/// Splits `text` into literal runs and wildcards, appending to `out`.
pub(crate) fn push_text<S: From<String>>(out: &mut Vec<Piece<S>>, text: &str) {
    let mut literal = String::new();
    for c in text.chars() {
        match c {
            '*' | '?' => {
                if !literal.is_empty() {
                    out.push(Piece::Literal(S::from(std::mem::take(&mut literal))));
                }
                out.push(if c == '*' { Piece::Star } else { Piece::One });
            }
            _ => literal.push(c),
        }
    }
    if !literal.is_empty() {
        out.push(Piece::Literal(S::from(literal)));
    }
}

/// Whether literal characters compare case-sensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Case {
    /// Resources, condition values, ARNs.
    Sensitive,
    /// Actions (`KMS:decrypt` is `kms:Decrypt`): ASCII case folding, since
    /// action names are ASCII.
    Insensitive,
}

/// The matcher, generic over how literal pieces are held so the same code
/// serves compiled patterns and patterns assembled per request from
/// substituted variables (`Cow`).
pub(crate) fn matches_pieces<S: AsRef<str>>(pieces: &[Piece<S>], input: &str, case: Case) -> bool {
    let bytes = input.as_bytes();
    let (mut p, mut i) = (0usize, 0usize);
    // Where to resume after the last `*`: the piece after it, and the input
    // position it is currently assumed to have consumed up to. Backtracking
    // to the last star only is enough for `*`/`?` globs: an earlier star
    // could only absorb what the later one can absorb as well.
    let mut resume: Option<(usize, usize)> = None;
    loop {
        let advanced = match pieces.get(p) {
            Some(Piece::Star) => {
                resume = Some((p + 1, i));
                p += 1;
                continue;
            }
            Some(Piece::One) => {
                if i < bytes.len() {
                    i += char_len(input, i);
                    p += 1;
                    true
                } else {
                    false
                }
            }
            Some(Piece::Literal(lit)) => {
                let lit = lit.as_ref().as_bytes();
                let end = i + lit.len();
                let same = end <= bytes.len()
                    && match case {
                        Case::Sensitive => &bytes[i..end] == lit,
                        // Equal bytes up to ASCII case means identical
                        // non-ASCII bytes, so `end` is a char boundary.
                        Case::Insensitive => bytes[i..end].eq_ignore_ascii_case(lit),
                    };
                if same {
                    i = end;
                    p += 1;
                }
                same
            }
            None => {
                if i == bytes.len() {
                    return true;
                }
                false
            }
        };
        if advanced {
            continue;
        }
        match resume {
            Some((after_star, consumed)) if consumed < bytes.len() => {
                let next = consumed + char_len(input, consumed);
                resume = Some((after_star, next));
                p = after_star;
                i = next;
            }
            _ => return false,
        }
    }
}

/// Length in bytes of the character starting at byte `at` of `s`.
fn char_len(s: &str, at: usize) -> usize {
    s[at..].chars().next().map_or(1, char::len_utf8)
}

/// Convenience for patterns built per request.
pub(crate) type CowPiece<'a> = Piece<Cow<'a, str>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, &str, Case, bool)] = &[
            ("*", "", Case::Sensitive, true),
            ("*", "anything", Case::Sensitive, true),
            ("kms:*", "kms:Decrypt", Case::Sensitive, true),
            ("kms:*", "kmsx:Decrypt", Case::Sensitive, false),
            ("kms:Get*", "kms:GetKeyPolicy", Case::Sensitive, true),
            ("kms:Get*", "kms:ListKeys", Case::Sensitive, false),
            ("KMS:decrypt", "kms:Decrypt", Case::Insensitive, true),
            ("KMS:decrypt", "kms:Decrypt", Case::Sensitive, false),
            ("kms:*crypt", "kms:ReEncrypt", Case::Sensitive, true),
            ("kms:*crypt", "kms:Decrypts", Case::Sensitive, false),
            ("a?c", "abc", Case::Sensitive, true),
            ("a?c", "ac", Case::Sensitive, false),
            ("a?c", "aéc", Case::Sensitive, true),
            ("a*b*c", "aXbYbZc", Case::Sensitive, true),
            ("a*b*c", "aXbYbZ", Case::Sensitive, false),
            ("*a*a*a", "aaaa", Case::Sensitive, true),
            ("*ab", "aab", Case::Sensitive, true),
            ("ab*", "a", Case::Sensitive, false),
            ("", "", Case::Sensitive, true),
            ("", "x", Case::Sensitive, false),
            ("??", "é", Case::Sensitive, false),
            (
                "arn:aws:kms:*:111122223333:key/*",
                "arn:aws:kms:eu-west-1:111122223333:key/1234",
                Case::Sensitive,
                true,
            ),
            (
                "arn:aws:kms:*:111122223333:key/*",
                "arn:aws:kms:eu-west-1:444455556666:key/1234",
                Case::Sensitive,
                false,
            ),
        ];
        for &(pattern, input, case, want) in cases {
            assert_eq!(
                Pattern::new(pattern).matches(input, case),
                want,
                "{pattern:?} vs {input:?} ({case:?})"
            );
        }
    }

    #[test]
    fn literal_star_piece_is_not_a_wildcard() {
        let p = Pattern::from_pieces(vec![Piece::Literal("a*".into())]);
        assert!(p.is_literal());
        assert!(p.matches("a*", Case::Sensitive));
        assert!(!p.matches("ab", Case::Sensitive));
    }
}
