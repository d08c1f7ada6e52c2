//! The `Condition` element: operators, the `…IfExists` suffix, the
//! `ForAnyValue:`/`ForAllValues:` set qualifiers, and AWS's rules for keys
//! absent from the request.
//!
//! Policy values are parsed into their operator's type when the policy is
//! parsed (numbers, instants, CIDR blocks, bytes, wildcard patterns, ARN
//! segments), so evaluation only parses the request's values.
//!
//! Semantics (IAM User Guide, "Condition operators" and "Conditions with
//! multiple context keys or values"):
//! - operators, and keys within an operator, are AND'ed; the values listed
//!   for one key are OR'ed, and for a negated operator (`StringNotEquals`,
//!   `NotIpAddress`, `ArnNotLike`…) NOR'ed: it holds when the request value
//!   matches none of them;
//! - a key absent from the request makes a positive operator false and a
//!   negated one true; `…IfExists` makes any operator true on an absent key;
//!   `ForAllValues` is true on an absent (or empty) key, `ForAnyValue`
//!   false; `Null` tests presence;
//! - `ForAnyValue` holds when some request value satisfies the operator,
//!   `ForAllValues` when every one does;
//! - a plain operator on a multi-valued key (which AWS advises against and
//!   does not specify) holds, for a positive operator, when any request value
//!   matches, and for a negated one when none does;
//! - a policy variable that cannot be resolved makes the whole condition
//!   false, whatever the operator: AWS says such a statement "might be
//!   invalid", and treating it as not applying never lets a negated operator
//!   turn an unknown value into a match.

use std::borrow::Cow;
use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use crate::context::Context;
use crate::error::PolicyError;
use crate::variables::Template;
use crate::wildcard::{Case, CowPiece, Pattern, Piece, matches_pieces};

/// A parsed `Condition` element: every entry must hold.
#[derive(Clone, Debug, Default)]
pub(crate) struct Condition {
    entries: Vec<KeyCondition>,
}

impl Condition {
    /// Whether an entry tests the condition key `name` (keys compare
    /// without regard to case, as IAM's do).
    pub(crate) fn mentions(&self, name: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.key.eq_ignore_ascii_case(name))
    }
}

/// One operator applied to one key with its list of values.
#[derive(Clone, Debug)]
struct KeyCondition {
    key: Box<str>,
    qualifier: Qualifier,
    if_exists: bool,
    negated: bool,
    test: Test,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Qualifier {
    Single,
    ForAnyValue,
    ForAllValues,
}

/// The positive form of an operator with its pre-parsed values; `negated`
/// on the entry turns it into the `Not…` form.
#[derive(Clone, Debug)]
enum Test {
    StringEquals(Listed<Box<str>>),
    StringEqualsIgnoreCase(Listed<Box<str>>),
    StringLike(Listed<Pattern>),
    Numeric(Ordering, Vec<f64>),
    /// Instants as nanoseconds since the epoch.
    Date(Ordering, Vec<i128>),
    Bool(Listed<Box<str>>),
    Binary(Vec<Vec<u8>>),
    Ip(Vec<Cidr>),
    /// `ArnEquals` and `ArnLike` are the same test in AWS: both compare the
    /// six colon-separated parts one by one, each allowing wildcards.
    Arn(Listed<ArnPattern>),
    /// `Null: true` holds when the key is absent; several values are OR'ed.
    Null(Vec<bool>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ordering {
    Equals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

/// The values of one key: those fixed at parse time, and those holding
/// policy variables. Kept apart so that a condition without variables
/// evaluates without allocating: resolving an empty template list makes an
/// empty `Vec`, which does not allocate.
#[derive(Clone, Debug)]
struct Listed<T> {
    fixed: Vec<T>,
    templates: Vec<Template>,
}

impl<T> Listed<T> {
    fn compile(raw: &[String], variables: bool, fixed: impl Fn(&str) -> T) -> Self {
        let mut out = Self {
            fixed: Vec::new(),
            templates: Vec::new(),
        };
        for s in raw {
            match variables.then(|| Template::parse(s)).flatten() {
                Some(t) => out.templates.push(t),
                None => out.fixed.push(fixed(s)),
            }
        }
        out
    }
}

#[derive(Clone, Debug)]
enum ArnPattern {
    /// Six per-part patterns.
    Segments(Box<[Pattern; 6]>),
    /// No colon at all (e.g. `*`): matched against the whole value.
    Whole(Pattern),
    /// Colons but fewer than six parts: matches nothing, rather than
    /// letting a `*` reach across parts.
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Condition {
    /// Parses the object under `"Condition"`. `variables` is false for
    /// policies older than 2012-10-17, whose `${…}` is literal text.
    pub(crate) fn parse(value: &Value, variables: bool) -> Result<Self, PolicyError> {
        let Value::Object(operators) = value else {
            return Err(PolicyError::syntax("Condition is not an object"));
        };
        let mut entries = Vec::new();
        for (operator, keys) in operators {
            let Value::Object(keys) = keys else {
                return Err(PolicyError::syntax(format!(
                    "condition operator {operator} does not hold an object"
                )));
            };
            let op = Operator::parse(operator)?;
            for (key, values) in keys {
                if key.is_empty() {
                    return Err(PolicyError::syntax("empty condition key"));
                }
                let raw = condition_values(values).ok_or_else(|| {
                    PolicyError::syntax(format!(
                        "condition key {key} holds a value of the wrong type"
                    ))
                })?;
                entries.push(KeyCondition {
                    key: key.as_str().into(),
                    qualifier: op.qualifier,
                    if_exists: op.if_exists,
                    negated: op.negated,
                    test: op.base.compile(&raw, variables)?,
                });
            }
        }
        Ok(Self { entries })
    }

    /// Whether every entry holds for `ctx`.
    pub(crate) fn holds(&self, ctx: &Context<'_>) -> bool {
        self.entries.iter().all(|entry| entry.holds(ctx))
    }
}

/// Reads a condition value: a string, number or boolean, or a list of them,
/// each turned into its text (`10`, `true`).
fn condition_values(value: &Value) -> Option<Vec<String>> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

/// An operator name taken apart.
struct Operator {
    qualifier: Qualifier,
    if_exists: bool,
    negated: bool,
    base: Base,
}

#[derive(Clone, Copy)]
enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Ordering),
    Date(Ordering),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

impl Operator {
    fn parse(name: &str) -> Result<Self, PolicyError> {
        let unknown = || PolicyError::syntax(format!("unknown condition operator {name}"));
        let (qualifier, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Qualifier::ForAnyValue, rest)
        } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Qualifier::ForAllValues, rest)
        } else {
            (Qualifier::Single, name)
        };
        let (if_exists, rest) = match rest.strip_suffix("IfExists") {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        use Ordering::*;
        let (negated, base) = match rest {
            "StringEquals" => (false, Base::StringEquals),
            "StringNotEquals" => (true, Base::StringEquals),
            "StringEqualsIgnoreCase" => (false, Base::StringEqualsIgnoreCase),
            "StringNotEqualsIgnoreCase" => (true, Base::StringEqualsIgnoreCase),
            "StringLike" => (false, Base::StringLike),
            "StringNotLike" => (true, Base::StringLike),
            "NumericEquals" => (false, Base::Numeric(Equals)),
            "NumericNotEquals" => (true, Base::Numeric(Equals)),
            "NumericLessThan" => (false, Base::Numeric(LessThan)),
            "NumericLessThanEquals" => (false, Base::Numeric(LessThanEquals)),
            "NumericGreaterThan" => (false, Base::Numeric(GreaterThan)),
            "NumericGreaterThanEquals" => (false, Base::Numeric(GreaterThanEquals)),
            "DateEquals" => (false, Base::Date(Equals)),
            "DateNotEquals" => (true, Base::Date(Equals)),
            "DateLessThan" => (false, Base::Date(LessThan)),
            "DateLessThanEquals" => (false, Base::Date(LessThanEquals)),
            "DateGreaterThan" => (false, Base::Date(GreaterThan)),
            "DateGreaterThanEquals" => (false, Base::Date(GreaterThanEquals)),
            "Bool" => (false, Base::Bool),
            "BinaryEquals" => (false, Base::Binary),
            "IpAddress" => (false, Base::Ip),
            "NotIpAddress" => (true, Base::Ip),
            "ArnEquals" | "ArnLike" => (false, Base::Arn),
            "ArnNotEquals" | "ArnNotLike" => (true, Base::Arn),
            // AWS: `IfExists` may be added to every operator except `Null`.
            "Null" if !if_exists => (false, Base::Null),
            _ => return Err(unknown()),
        };
        Ok(Self {
            qualifier,
            if_exists,
            negated,
            base,
        })
    }
}

impl Base {
    fn compile(self, raw: &[String], variables: bool) -> Result<Test, PolicyError> {
        let text = |s: &str| -> Box<str> { s.into() };
        Ok(match self {
            Base::StringEquals => Test::StringEquals(Listed::compile(raw, variables, text)),
            Base::StringEqualsIgnoreCase => {
                Test::StringEqualsIgnoreCase(Listed::compile(raw, variables, text))
            }
            Base::Bool => Test::Bool(Listed::compile(raw, variables, text)),
            Base::StringLike => Test::StringLike(Listed::compile(raw, variables, Pattern::new)),
            Base::Arn => Test::Arn(Listed::compile(raw, variables, compile_arn)),
            // AWS documents policy variables as unsupported for the numeric,
            // date, binary and IP operators, so their values are parsed now.
            Base::Numeric(ord) => Test::Numeric(
                ord,
                raw.iter()
                    .map(|s| {
                        parse_number(s)
                            .ok_or_else(|| PolicyError::syntax(format!("{s} is not a number")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Base::Date(ord) => Test::Date(
                ord,
                raw.iter()
                    .map(|s| {
                        parse_date(s)
                            .ok_or_else(|| PolicyError::legacy(format!("{s} is not a date")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Base::Binary => Test::Binary(
                raw.iter()
                    .map(|s| {
                        BASE64
                            .decode(s)
                            .map_err(|_| PolicyError::syntax(format!("{s} is not base64")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Base::Ip => Test::Ip(
                raw.iter()
                    .map(|s| {
                        Cidr::parse(s).ok_or_else(|| {
                            PolicyError::syntax(format!("{s} is not an IP address or CIDR block"))
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Base::Null => Test::Null(
                raw.iter()
                    .map(|s| match s.to_ascii_lowercase().as_str() {
                        "true" => Ok(true),
                        "false" => Ok(false),
                        _ => Err(PolicyError::syntax(format!(
                            "Null takes true or false, not {s}"
                        ))),
                    })
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
}

impl KeyCondition {
    fn holds(&self, ctx: &Context<'_>) -> bool {
        let values = ctx.values(&self.key);
        if let Test::Null(wanted) = &self.test {
            let absent = values.is_none_or(<[_]>::is_empty);
            return wanted.contains(&absent);
        }
        let values = match values {
            Some(v) if !v.is_empty() => v,
            _ => {
                return self.if_exists
                    || match self.qualifier {
                        Qualifier::ForAllValues => true,
                        Qualifier::ForAnyValue => false,
                        Qualifier::Single => self.negated,
                    };
            }
        };
        let Some(test) = self.test.resolve(ctx) else {
            return false;
        };
        let satisfied = |v: &Cow<'_, str>| test.hit(v) != self.negated;
        match self.qualifier {
            Qualifier::ForAnyValue => values.iter().any(satisfied),
            Qualifier::ForAllValues => values.iter().all(satisfied),
            Qualifier::Single if self.negated => !values.iter().any(|v| test.hit(v)),
            Qualifier::Single => values.iter().any(|v| test.hit(v)),
        }
    }
}

/// A test with its variables substituted for one request: the fixed
/// values borrowed, the templated ones resolved.
enum Resolved<'t> {
    StringEquals(&'t [Box<str>], Vec<Cow<'t, str>>),
    StringEqualsIgnoreCase(&'t [Box<str>], Vec<Cow<'t, str>>),
    StringLike(&'t [Pattern], Vec<Vec<CowPiece<'t>>>),
    Numeric(Ordering, &'t [f64]),
    Date(Ordering, &'t [i128]),
    Bool(&'t [Box<str>], Vec<Cow<'t, str>>),
    Binary(&'t [Vec<u8>]),
    Ip(&'t [Cidr]),
    Arn(&'t [ArnPattern], Vec<ResolvedArn<'t>>),
}

/// A templated ARN value once resolved.
enum ResolvedArn<'t> {
    Never,
    Segments(Vec<Vec<CowPiece<'t>>>),
    Whole(Vec<CowPiece<'t>>),
}

impl Test {
    /// Substitutes variables; `None` when one cannot be resolved.
    fn resolve<'t>(&'t self, ctx: &'t Context<'_>) -> Option<Resolved<'t>> {
        let texts = |values: &'t Listed<Box<str>>| -> Option<Vec<Cow<'t, str>>> {
            values.templates.iter().map(|t| t.resolve(ctx)).collect()
        };
        Some(match self {
            Test::StringEquals(v) => Resolved::StringEquals(&v.fixed, texts(v)?),
            Test::StringEqualsIgnoreCase(v) => {
                Resolved::StringEqualsIgnoreCase(&v.fixed, texts(v)?)
            }
            Test::Bool(v) => Resolved::Bool(&v.fixed, texts(v)?),
            Test::StringLike(v) => Resolved::StringLike(
                &v.fixed,
                v.templates
                    .iter()
                    .map(|t| t.resolve_pattern(ctx))
                    .collect::<Option<_>>()?,
            ),
            Test::Arn(v) => Resolved::Arn(
                &v.fixed,
                v.templates
                    .iter()
                    .map(|t| {
                        let pieces = t.resolve_pattern(ctx)?;
                        let has_colon = pieces
                            .iter()
                            .any(|p| matches!(p, Piece::Literal(l) if l.contains(':')));
                        Some(match split_pieces_at_colons(&pieces) {
                            Some(segments) => ResolvedArn::Segments(segments),
                            None if has_colon => ResolvedArn::Never,
                            None => ResolvedArn::Whole(pieces),
                        })
                    })
                    .collect::<Option<_>>()?,
            ),
            Test::Numeric(ord, v) => Resolved::Numeric(*ord, v),
            Test::Date(ord, v) => Resolved::Date(*ord, v),
            Test::Binary(v) => Resolved::Binary(v),
            Test::Ip(v) => Resolved::Ip(v),
            // Handled before resolution: Null looks only at presence.
            Test::Null(_) => return None,
        })
    }
}

impl Resolved<'_> {
    /// Whether the request value `v` matches one of the policy values, in
    /// the positive form of the operator.
    fn hit(&self, v: &str) -> bool {
        match self {
            Resolved::StringEquals(fixed, resolved) => {
                fixed.iter().any(|p| **p == *v) || resolved.iter().any(|p| p == v)
            }
            Resolved::StringEqualsIgnoreCase(fixed, resolved) => {
                fixed.iter().any(|p| eq_ignore_case(p, v))
                    || resolved.iter().any(|p| eq_ignore_case(p, v))
            }
            Resolved::Bool(fixed, resolved) => {
                fixed.iter().any(|p| p.eq_ignore_ascii_case(v))
                    || resolved.iter().any(|p| p.eq_ignore_ascii_case(v))
            }
            Resolved::StringLike(fixed, resolved) => {
                fixed.iter().any(|p| p.matches(v, Case::Sensitive))
                    || resolved
                        .iter()
                        .any(|p| matches_pieces(p, v, Case::Sensitive))
            }
            Resolved::Numeric(ord, values) => {
                parse_number(v).is_some_and(|n| values.iter().any(|p| ord.holds(n.partial_cmp(p))))
            }
            Resolved::Date(ord, values) => {
                parse_date(v).is_some_and(|d| values.iter().any(|p| ord.holds(Some(d.cmp(p)))))
            }
            Resolved::Binary(values) => BASE64.decode(v).is_ok_and(|bytes| values.contains(&bytes)),
            Resolved::Ip(blocks) => v
                .parse::<IpAddr>()
                .is_ok_and(|ip| blocks.iter().any(|b| b.contains(ip))),
            Resolved::Arn(fixed, resolved) => {
                let parts = arn_parts(v);
                let fixed_hit = fixed.iter().any(|p| match p {
                    ArnPattern::Never => false,
                    ArnPattern::Segments(segments) => parts.is_some_and(|parts| {
                        segments
                            .iter()
                            .zip(parts)
                            .all(|(s, part)| s.matches(part, Case::Sensitive))
                    }),
                    ArnPattern::Whole(p) => p.matches(v, Case::Sensitive),
                });
                fixed_hit
                    || resolved.iter().any(|p| match p {
                        ResolvedArn::Never => false,
                        ResolvedArn::Segments(segments) => parts.is_some_and(|parts| {
                            segments
                                .iter()
                                .zip(parts)
                                .all(|(s, part)| matches_pieces(s, part, Case::Sensitive))
                        }),
                        ResolvedArn::Whole(pieces) => matches_pieces(pieces, v, Case::Sensitive),
                    })
            }
        }
    }
}

impl Ordering {
    /// Whether `request.cmp(policy)` satisfies the operator.
    fn holds(self, cmp: Option<std::cmp::Ordering>) -> bool {
        use std::cmp::Ordering::*;
        matches!(
            (self, cmp),
            (Ordering::Equals, Some(Equal))
                | (Ordering::LessThan, Some(Less))
                | (Ordering::LessThanEquals, Some(Less | Equal))
                | (Ordering::GreaterThan, Some(Greater))
                | (Ordering::GreaterThanEquals, Some(Greater | Equal))
        )
    }
}

/// Unicode case-insensitive equality without allocating.
fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

fn parse_number(s: &str) -> Option<f64> {
    let n: f64 = s.trim().parse().ok()?;
    n.is_finite().then_some(n)
}

/// Reads an instant as IAM does: epoch seconds, or ISO 8601 in the W3C
/// profile AWS names ("W3C implementations of the ISO 8601 date formats":
/// `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mmTZD`, `…Thh:mm:ssTZD`,
/// `…Thh:mm:ss.sTZD`), a date and time without offset taken as UTC. A bare
/// `YYYY` is read as epoch seconds, as `aws:EpochTime` values are written.
pub(crate) fn parse_date(s: &str) -> Option<i128> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = s.parse().ok()?;
        return Some(i128::from(secs) * 1_000_000_000);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp_nanos());
    }
    let no_offset = s.strip_suffix(['Z', 'z']).unwrap_or(s);
    if let Ok(t) = PrimitiveDateTime::parse(
        no_offset,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    ) {
        return Some(t.assume_utc().unix_timestamp_nanos());
    }
    if let Ok(t) = PrimitiveDateTime::parse(
        no_offset,
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    ) {
        return Some(t.assume_utc().unix_timestamp_nanos());
    }
    if let Ok(d) = Date::parse(s, format_description!("[year]-[month]-[day]")) {
        return Some(d.midnight().assume_utc().unix_timestamp_nanos());
    }
    // The two W3C forms RFC 3339 lacks: hours and minutes with a numeric
    // offset, and a year and month. Found by `tests/differential.rs`, which
    // generated `2024-06-01T14:00+02:00` and saw the policy refused.
    if let Ok(t) = OffsetDateTime::parse(
        s,
        format_description!(
            "[year]-[month]-[day]T[hour]:[minute][offset_hour sign:mandatory]:[offset_minute]"
        ),
    ) {
        return Some(t.unix_timestamp_nanos());
    }
    let (year, month) = s.split_once('-')?;
    if year.len() != 4
        || month.len() != 2
        || !(year.bytes().chain(month.bytes())).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    let first = Date::from_calendar_date(year.parse().ok()?, month, 1).ok()?;
    Some(first.midnight().assume_utc().unix_timestamp_nanos())
}

/// The six parts of an ARN (`arn:partition:service:region:account:resource`,
/// the last keeping its own colons); `None` if `s` is not ARN-shaped.
fn arn_parts(s: &str) -> Option<[&str; 6]> {
    let mut it = s.splitn(6, ':');
    let parts = [
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ];
    Some(parts)
}

fn compile_arn(s: &str) -> ArnPattern {
    match arn_parts(s) {
        Some(parts) => ArnPattern::Segments(Box::new(parts.map(Pattern::new))),
        None if s.contains(':') => ArnPattern::Never,
        None => ArnPattern::Whole(Pattern::new(s)),
    }
}

/// Splits resolved pieces into six ARN parts at the first five colons of
/// the literal pieces; `None` if there are fewer than five.
fn split_pieces_at_colons<'a>(pieces: &[CowPiece<'a>]) -> Option<Vec<Vec<CowPiece<'a>>>> {
    let mut segments: Vec<Vec<CowPiece<'a>>> = vec![Vec::new()];
    for piece in pieces {
        match piece {
            Piece::Literal(text) if segments.len() < 6 && text.contains(':') => {
                let mut rest: &str = text;
                while segments.len() < 6 {
                    let Some(at) = rest.find(':') else { break };
                    if at > 0 {
                        push_segment_text(&mut segments, &rest[..at]);
                    }
                    segments.push(Vec::new());
                    rest = &rest[at + 1..];
                }
                if !rest.is_empty() {
                    push_segment_text(&mut segments, rest);
                }
            }
            other => {
                if let Some(last) = segments.last_mut() {
                    last.push(other.clone());
                }
            }
        }
    }
    (segments.len() == 6).then_some(segments)
}

fn push_segment_text<'a>(segments: &mut [Vec<CowPiece<'a>>], text: &str) {
    if let Some(last) = segments.last_mut() {
        last.push(Piece::Literal(Cow::Owned(text.to_owned())));
    }
}

impl Cidr {
    /// `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128).
    fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|&p| p <= max)?,
            None => max,
        };
        Some(Self { network, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Evaluates `{operator: {key: values}}` against a context.
    fn check(condition: Value, ctx: &Context<'_>) -> bool {
        Condition::parse(&condition, true)
            .expect("valid condition")
            .holds(ctx)
    }

    fn ctx_with(key: &'static str, value: &'static str) -> Context<'static> {
        let mut c = Context::new();
        c.insert(key, value);
        c
    }

    #[test]
    fn string_operators() {
        let ctx = ctx_with("k", "Acme");
        let cases: &[(&str, Value, bool)] = &[
            ("StringEquals", json!("Acme"), true),
            ("StringEquals", json!("acme"), false),
            ("StringEquals", json!(["x", "Acme"]), true),
            ("StringNotEquals", json!("acme"), true),
            ("StringNotEquals", json!(["x", "Acme"]), false),
            ("StringEqualsIgnoreCase", json!("ACME"), true),
            ("StringNotEqualsIgnoreCase", json!("ACME"), false),
            ("StringNotEqualsIgnoreCase", json!("other"), true),
            ("StringLike", json!("A*"), true),
            ("StringLike", json!("a*"), false),
            ("StringLike", json!("Ac?e"), true),
            ("StringNotLike", json!("A*"), false),
            ("StringNotLike", json!(["x*", "y*"]), true),
        ];
        for (op, v, want) in cases {
            assert_eq!(check(json!({ *op: { "k": v } }), &ctx), *want, "{op} {v}");
        }
    }

    #[test]
    fn numeric_operators() {
        let ctx = ctx_with("n", "10");
        let cases: &[(&str, Value, bool)] = &[
            ("NumericEquals", json!("10"), true),
            ("NumericEquals", json!(10), true),
            ("NumericEquals", json!("10.0"), true),
            ("NumericNotEquals", json!(10), false),
            ("NumericNotEquals", json!(11), true),
            ("NumericLessThan", json!(11), true),
            ("NumericLessThan", json!(10), false),
            ("NumericLessThanEquals", json!(10), true),
            ("NumericGreaterThan", json!(9), true),
            ("NumericGreaterThan", json!(10), false),
            ("NumericGreaterThanEquals", json!(10), true),
            ("NumericGreaterThanEquals", json!([20, 5]), true),
        ];
        for (op, v, want) in cases {
            assert_eq!(check(json!({ *op: { "n": v } }), &ctx), *want, "{op} {v}");
        }
        // A request value that is not a number matches nothing.
        assert!(!check(
            json!({"NumericEquals": {"n": 1}}),
            &ctx_with("n", "one")
        ));
    }

    #[test]
    fn date_operators() {
        let ctx = ctx_with("aws:CurrentTime", "2024-06-01T12:00:00Z");
        let cases: &[(&str, Value, bool)] = &[
            ("DateEquals", json!("2024-06-01T12:00:00Z"), true),
            ("DateEquals", json!("2024-06-01T14:00:00+02:00"), true),
            ("DateEquals", json!(1_717_243_200), true),
            ("DateEquals", json!("1717243200"), true),
            ("DateNotEquals", json!("2024-06-01T12:00:00Z"), false),
            ("DateLessThan", json!("2025-01-01"), true),
            ("DateLessThan", json!("2024-06-01"), false),
            ("DateLessThanEquals", json!("2024-06-01T12:00:00Z"), true),
            ("DateGreaterThan", json!("2024-06-01"), true),
            ("DateGreaterThan", json!("2024-06-01T12:00Z"), false),
            ("DateGreaterThanEquals", json!("2024-06-01T12:00:00"), true),
        ];
        for (op, v, want) in cases {
            assert_eq!(
                check(json!({ *op: { "aws:CurrentTime": v } }), &ctx),
                *want,
                "{op} {v}"
            );
        }
        // The W3C forms AWS names ("You must specify date/time values with
        // one of the W3C implementations of the ISO 8601 date formats or in
        // epoch (UNIX) time"), in the policy and in the request.
        let w3c: &[(&str, &str, bool)] = &[
            ("DateEquals", "2024-06-01T14:00+02:00", true),
            ("DateEquals", "2024-06-01T12:00Z", true),
            ("DateEquals", "2024-06-01T12:00:00.0Z", true),
            ("DateLessThan", "2024-07", true),
            ("DateGreaterThan", "2024-06", true),
        ];
        for (op, v, want) in w3c {
            assert_eq!(
                check(json!({ *op: { "aws:CurrentTime": v } }), &ctx),
                *want,
                "{op} {v}"
            );
        }
        assert!(check(
            json!({"DateEquals": {"aws:CurrentTime": "2024-06-01T00:00:00Z"}}),
            &ctx_with("aws:CurrentTime", "2024-06")
        ));
        assert!(check(
            json!({"DateEquals": {"aws:CurrentTime": "2024-06-01T12:00:00Z"}}),
            &ctx_with("aws:CurrentTime", "2024-06-01T13:00+01:00")
        ));
        assert_eq!(parse_date("2024-13"), None);
        assert_eq!(parse_date("24-06"), None);
        // Plain digits are epoch seconds, never a W3C year.
        assert_eq!(parse_date("2024"), Some(2024 * 1_000_000_000));
        let epoch = ctx_with("aws:EpochTime", "1717243200");
        assert!(check(
            json!({"DateGreaterThan": {"aws:EpochTime": "2024-01-01T00:00:00Z"}}),
            &epoch
        ));
    }

    #[test]
    fn bool_binary_ip_operators() {
        let mut ctx = Context::new();
        ctx.insert_bool("aws:SecureTransport", true)
            .insert("b", "AQID")
            .insert("aws:SourceIp", "203.0.113.7")
            .insert("v6", "2001:db8::1");
        let cases: &[(Value, bool)] = &[
            (json!({"Bool": {"aws:SecureTransport": "true"}}), true),
            (json!({"Bool": {"aws:SecureTransport": true}}), true),
            (json!({"Bool": {"aws:SecureTransport": "false"}}), false),
            (json!({"BinaryEquals": {"b": "AQID"}}), true),
            (json!({"BinaryEquals": {"b": "AQIE"}}), false),
            (
                json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
                true,
            ),
            (json!({"IpAddress": {"aws:SourceIp": "203.0.113.7"}}), true),
            (
                json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "0.0.0.0/0"]}}),
                true,
            ),
            (
                json!({"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}),
                false,
            ),
            (
                json!({"NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}}),
                true,
            ),
            (
                json!({"NotIpAddress": {"aws:SourceIp": "203.0.0.0/16"}}),
                false,
            ),
            (json!({"IpAddress": {"v6": "2001:db8::/32"}}), true),
            (json!({"IpAddress": {"v6": "2001:db9::/32"}}), false),
            (json!({"IpAddress": {"v6": "0.0.0.0/0"}}), false),
        ];
        for (c, want) in cases {
            assert_eq!(check(c.clone(), &ctx), *want, "{c}");
        }
    }

    #[test]
    fn arn_operators_match_per_part() {
        let ctx = ctx_with(
            "aws:PrincipalArn",
            "arn:aws:iam::111122223333:role/path/Admin",
        );
        let cases: &[(&str, &str, bool)] = &[
            (
                "ArnEquals",
                "arn:aws:iam::111122223333:role/path/Admin",
                true,
            ),
            ("ArnLike", "arn:aws:iam::111122223333:role/*", true),
            ("ArnLike", "arn:aws:iam::*:role/path/Admin", true),
            // A `*` in one part does not reach into the next.
            ("ArnLike", "arn:aws:*:role/path/Admin", false),
            ("ArnLike", "arn:aws:iam::444455556666:role/*", false),
            ("ArnEquals", "arn:aws:iam::111122223333:role/*", true),
            ("ArnNotEquals", "arn:aws:iam::111122223333:role/Other", true),
            ("ArnNotLike", "arn:aws:iam::111122223333:*", false),
            ("ArnLike", "*", true),
        ];
        for (op, v, want) in cases {
            assert_eq!(
                check(json!({ *op: { "aws:PrincipalArn": v } }), &ctx),
                *want,
                "{op} {v}"
            );
        }
        assert!(!check(
            json!({"ArnLike": {"k": "arn:aws:iam::*:*"}}),
            &ctx_with("k", "not-an-arn")
        ));
    }

    #[test]
    fn absent_keys() {
        let empty = Context::new();
        // (operator, holds when the key is absent)
        let cases: &[(&str, bool)] = &[
            ("StringEquals", false),
            ("StringNotEquals", true),
            ("StringNotEqualsIgnoreCase", true),
            ("StringLike", false),
            ("StringNotLike", true),
            ("NumericEquals", false),
            ("NumericNotEquals", true),
            ("NumericLessThan", false),
            ("DateEquals", false),
            ("DateNotEquals", true),
            ("Bool", false),
            ("BinaryEquals", false),
            ("IpAddress", false),
            ("NotIpAddress", true),
            ("ArnEquals", false),
            ("ArnLike", false),
            ("ArnNotEquals", true),
            ("ArnNotLike", true),
            ("StringEqualsIfExists", true),
            ("StringNotEqualsIfExists", true),
            ("NumericLessThanIfExists", true),
            ("ArnLikeIfExists", true),
            ("ForAnyValue:StringEquals", false),
            ("ForAnyValue:StringNotEquals", false),
            ("ForAllValues:StringEquals", true),
            ("ForAllValues:StringNotLike", true),
            ("ForAnyValue:StringEqualsIfExists", true),
        ];
        for (op, want) in cases {
            let value = match *op {
                o if o.contains("Numeric") => json!(1),
                o if o.contains("Date") => json!("2020-01-01"),
                o if o.contains("Ip") => json!("10.0.0.0/8"),
                o if o.contains("Arn") => json!("arn:aws:iam::111122223333:root"),
                o if o.contains("Binary") => json!("AQID"),
                o if o.starts_with("Bool") => json!(true),
                _ => json!("x"),
            };
            assert_eq!(
                check(json!({ *op: { "missing": value } }), &empty),
                *want,
                "{op}"
            );
        }
        // An empty multi-valued key counts as absent, except for Null.
        let mut ctx = Context::new();
        ctx.insert_many("aws:TagKeys", Vec::<&str>::new());
        assert!(check(
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": "a"}}),
            &ctx
        ));
        assert!(!check(
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}),
            &ctx
        ));
        assert!(!check(json!({"StringEquals": {"aws:TagKeys": "a"}}), &ctx));
    }

    #[test]
    fn null_operator() {
        let present = ctx_with("k", "v");
        let empty = Context::new();
        assert!(check(json!({"Null": {"k": "true"}}), &empty));
        assert!(!check(json!({"Null": {"k": "true"}}), &present));
        assert!(check(json!({"Null": {"k": false}}), &present));
        assert!(!check(json!({"Null": {"k": "false"}}), &empty));
        assert!(Condition::parse(&json!({"NullIfExists": {"k": "true"}}), true).is_err());
        assert!(Condition::parse(&json!({"Null": {"k": "maybe"}}), true).is_err());
    }

    #[test]
    fn set_qualifiers() {
        let mut ctx = Context::new();
        ctx.insert_many("aws:TagKeys", ["key1:legal", "key1:hr"]);
        let cases: &[(&str, Value, bool)] = &[
            ("ForAllValues:StringLike", json!("key1*"), true),
            (
                "ForAllValues:StringEquals",
                json!(["key1:legal", "key1:hr", "other"]),
                true,
            ),
            ("ForAllValues:StringEquals", json!("key1:legal"), false),
            ("ForAnyValue:StringEquals", json!("key1:legal"), true),
            ("ForAnyValue:StringEquals", json!("nope"), false),
            ("ForAllValues:StringNotLike", json!("key1*"), false),
            ("ForAnyValue:StringNotEquals", json!("key1:legal"), true),
            ("ForAllValues:StringNotEquals", json!("key1:legal"), false),
            // Plain operators on a multi-valued key: any value for positive,
            // none for negated.
            ("StringEquals", json!("key1:hr"), true),
            ("StringNotEquals", json!("key1:hr"), false),
            ("StringNotEquals", json!("zzz"), true),
        ];
        for (op, v, want) in cases {
            assert_eq!(
                check(json!({ *op: { "aws:TagKeys": v } }), &ctx),
                *want,
                "{op} {v}"
            );
        }
        // From the IAM examples: a request with a key outside the list.
        let mut other = Context::new();
        other.insert_many("aws:TagKeys", ["key2:audit"]);
        assert!(check(
            json!({"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}),
            &other
        ));
    }

    #[test]
    fn keys_and_operators_are_anded_values_ored() {
        let mut ctx = Context::new();
        ctx.insert("a", "1").insert("b", "2");
        assert!(check(
            json!({"StringEquals": {"a": "1", "b": ["9", "2"]}}),
            &ctx
        ));
        assert!(!check(json!({"StringEquals": {"a": "1", "b": "9"}}), &ctx));
        assert!(!check(
            json!({"StringEquals": {"a": "1"}, "NumericEquals": {"b": 3}}),
            &ctx
        ));
        assert!(
            check(json!({"StringEquals": {"A": "1"}}), &ctx),
            "keys are case-insensitive"
        );
    }

    #[test]
    fn variables_in_condition_values() {
        let mut ctx = Context::new();
        ctx.insert("aws:username", "alice")
            .insert("s3:prefix", "home/alice/docs")
            .insert("owner", "alice");
        assert!(check(
            json!({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}),
            &ctx
        ));
        assert!(check(
            json!({"StringEquals": {"owner": "${aws:username}"}}),
            &ctx
        ));
        // Unresolvable: the condition is false even for a negated operator.
        assert!(!check(
            json!({"StringNotEquals": {"owner": "${aws:PrincipalTag/x}"}}),
            &ctx
        ));
        assert!(check(
            json!({"StringEquals": {"owner": "${aws:PrincipalTag/x, 'alice'}"}}),
            &ctx
        ));
        // Version 2008: literal text.
        let literal = Condition::parse(
            &json!({"StringEquals": {"owner": "${aws:username}"}}),
            false,
        )
        .expect("valid");
        assert!(!literal.holds(&ctx));
        let mut raw = Context::new();
        raw.insert("owner", "${aws:username}");
        assert!(literal.holds(&raw));
    }

    #[test]
    fn arn_variables() {
        let mut ctx = Context::new();
        ctx.insert("aws:PrincipalAccount", "111122223333")
            .insert("k", "arn:aws:iam::111122223333:user/x");
        assert!(check(
            json!({"ArnLike": {"k": "arn:aws:iam::${aws:PrincipalAccount}:user/*"}}),
            &ctx
        ));
        assert!(!check(
            json!({"ArnLike": {"k": "arn:aws:iam::${aws:PrincipalAccount}:role/*"}}),
            &ctx
        ));
    }

    #[test]
    fn bad_values_are_refused() {
        let bad: &[(Value, bool)] = &[
            (json!({"StringEqualz": {"k": "v"}}), false),
            (json!({"ForSomeValues:StringEquals": {"k": "v"}}), false),
            (json!({"StringEquals": {"k": {"nested": 1}}}), false),
            (json!({"StringEquals": {"k": [null]}}), false),
            (json!({"StringEquals": "v"}), false),
            (json!({"NumericEquals": {"k": "ten"}}), false),
            (json!({"DateEquals": {"k": "yesterday"}}), true),
            (json!({"IpAddress": {"k": "10.0.0.0/33"}}), false),
            (json!({"BinaryEquals": {"k": "!!"}}), false),
        ];
        for (c, legacy) in bad {
            let err = Condition::parse(c, true).expect_err("refused");
            assert_eq!(
                matches!(err, PolicyError::LegacyParsing { .. }),
                *legacy,
                "{c}: {err:?}"
            );
        }
    }

    #[test]
    fn eq_ignore_case_is_unicode() {
        assert!(eq_ignore_case("ÉTÉ", "été"));
        assert!(!eq_ignore_case("ete", "été"));
    }
}
