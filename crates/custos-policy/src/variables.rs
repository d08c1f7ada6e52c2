//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team}`, the
//! escapes `${*}`, `${?}`, `${$}`, and defaults `${key, 'text'}`.
//!
//! Only policies with `"Version": "2012-10-17"` have variables; in older
//! ones (or with no Version) the text is literal, as AWS documents. A
//! template is parsed once; substitution happens per request and only
//! allocates when a value really holds a variable.
//!
//! Substituted values are literal: a `*` inside a user name or tag value is
//! not a wildcard, and an escape such as `${*}` yields a literal `*`.

use std::borrow::Cow;

use crate::context::Context;
use crate::wildcard::{CowPiece, Piece, push_text};

/// A value containing at least one `${…}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// Policy text, where `*` and `?` are wildcards for the operators that
    /// have wildcards.
    Text(Box<str>),
    /// `${*}`, `${?}` or `${$}`: the character itself, never a wildcard.
    Escaped(char),
    /// A condition key, with the default to use when it cannot be resolved.
    Var {
        key: Box<str>,
        default: Option<Box<str>>,
    },
}

impl Template {
    /// Parses `text`; `None` when it holds no variable, so the caller keeps
    /// its cheaper literal form. A malformed `${` (no closing brace, a bad
    /// default) stays literal text.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        if !text.contains("${") {
            return None;
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            literal.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match parse_variable(after) {
                Some((part, used)) => {
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal).into_boxed_str()));
                    }
                    parts.push(part);
                    rest = &after[used..];
                }
                None => {
                    literal.push_str("${");
                    rest = after;
                }
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal.into_boxed_str()));
        }
        if parts.iter().all(|p| matches!(p, Part::Text(_))) {
            // Only malformed `${`: the literal form does the same job.
            return None;
        }
        Some(Self { parts })
    }

    /// The value with variables substituted, as a plain string (for
    /// operators without wildcards). `None` when a variable has no value
    /// and no default.
    pub(crate) fn resolve<'c>(&'c self, ctx: &'c Context<'_>) -> Option<Cow<'c, str>> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Escaped(c) => out.push(*c),
                Part::Var { key, default } => out.push_str(lookup(ctx, key, default.as_deref())?),
            }
        }
        Some(Cow::Owned(out))
    }

    /// The value with variables substituted, as wildcard pieces (for
    /// `StringLike`, `ArnLike` and `Resource`). `None` as for `resolve`.
    pub(crate) fn resolve_pattern<'c>(&'c self, ctx: &'c Context<'_>) -> Option<Vec<CowPiece<'c>>> {
        let mut pieces = Vec::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => push_text(&mut pieces, t),
                Part::Escaped(c) => pieces.push(Piece::Literal(Cow::Owned(c.to_string()))),
                Part::Var { key, default } => {
                    pieces.push(Piece::Literal(Cow::Borrowed(lookup(
                        ctx,
                        key,
                        default.as_deref(),
                    )?)));
                }
            }
        }
        Some(pieces)
    }

    /// Whether any part is a variable (rather than an escape).
    #[cfg(test)]
    pub(crate) fn has_variable(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Var { .. }))
    }
}

fn lookup<'c>(ctx: &'c Context<'_>, key: &str, default: Option<&'c str>) -> Option<&'c str> {
    // A key that is present but empty counts as having no value, so the
    // default applies (AWS: "If the key is not present or has no value").
    match ctx.single(key) {
        Some(v) if !v.is_empty() => Some(v),
        _ => default,
    }
}

/// Parses what follows `${`; returns the part and the number of bytes used
/// including the closing `}`.
fn parse_variable(s: &str) -> Option<(Part, usize)> {
    let close = s.find(['}', ','])?;
    let key = s[..close].trim();
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    if s.as_bytes()[close] == b'}' {
        let part = match key {
            "*" => Part::Escaped('*'),
            "?" => Part::Escaped('?'),
            "$" => Part::Escaped('$'),
            _ => Part::Var {
                key: key.into(),
                default: None,
            },
        };
        return Some((part, close + 1));
    }
    // `${key, 'default'}`: the default is single-quoted, `''` is a quote.
    let after_comma = &s[close + 1..];
    let trimmed = after_comma.trim_start();
    let mut pos = close + 1 + (after_comma.len() - trimmed.len());
    let body = trimmed.strip_prefix('\'')?;
    pos += 1;
    let mut default = String::new();
    let mut chars = body.char_indices().peekable();
    let end_of_quote = loop {
        let (i, c) = chars.next()?;
        if c == '\'' {
            if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                chars.next();
                default.push('\'');
                continue;
            }
            break i + 1;
        }
        default.push(c);
    };
    pos += end_of_quote;
    let tail = &s[pos..];
    let tail_trimmed = tail.trim_start();
    pos += tail.len() - tail_trimmed.len();
    if !tail_trimmed.starts_with('}') {
        return None;
    }
    Some((
        Part::Var {
            key: key.into(),
            default: Some(default.into_boxed_str()),
        },
        pos + 1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wildcard::{Case, matches_pieces};

    fn ctx() -> Context<'static> {
        let mut c = Context::new();
        c.insert("aws:username", "alice")
            .insert("aws:PrincipalTag/team", "blue")
            .insert("aws:empty", "");
        c.insert_many("aws:TagKeys", ["a", "b"]);
        c
    }

    #[test]
    fn substitution_table() {
        let ctx = ctx();
        let cases: &[(&str, Option<&str>)] = &[
            ("home/${aws:username}/*", Some("home/alice/*")),
            ("${AWS:USERNAME}", Some("alice")),
            ("${aws:PrincipalTag/team}-x", Some("blue-x")),
            ("${aws:missing}", None),
            ("${aws:TagKeys}", None),
            ("${aws:missing, 'anon'}", Some("anon")),
            ("${ aws:missing ,  'it''s' }", Some("it's")),
            ("${aws:empty, 'dflt'}", Some("dflt")),
            ("${aws:username, 'dflt'}", Some("alice")),
            ("a${*}b${?}c${$}", Some("a*b?c$")),
            ("${aws:missing, '${aws:username}'}", Some("${aws:username}")),
        ];
        for &(text, want) in cases {
            let t = Template::parse(text).unwrap_or_else(|| panic!("{text} has a variable"));
            assert_eq!(t.resolve(&ctx).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn malformed_or_absent_variables_stay_literal() {
        for text in [
            "plain",
            "${unterminated",
            "${}",
            "${a b}",
            "${k, unquoted}",
            "${k, 'open}",
        ] {
            assert_eq!(Template::parse(text), None, "{text}");
        }
        let t = Template::parse("x${unterminated ${aws:username}").expect("one good variable");
        assert!(t.has_variable());
        assert_eq!(t.resolve(&ctx()).as_deref(), Some("x${unterminated alice"));
    }

    #[test]
    fn escapes_and_substituted_values_are_not_wildcards() {
        let mut c = Context::new();
        c.insert("aws:username", "a*");
        let t = Template::parse("${aws:username}/${*}").expect("variables");
        let pieces = t.resolve_pattern(&c).expect("resolved");
        assert!(matches_pieces(&pieces, "a*/*", Case::Sensitive));
        assert!(!matches_pieces(&pieces, "ab/x", Case::Sensitive));
        let t = Template::parse("home/${aws:username}/*").expect("variables");
        let pieces = t.resolve_pattern(&c).expect("resolved");
        assert!(matches_pieces(&pieces, "home/a*/anything", Case::Sensitive));
    }
}
