//! Reading members out of [`Params`] and checking them against the
//! constraints of the service model, collecting every violation into one
//! `ValidationError` worded as IAM and STS word it:
//!
//! ```text
//! 1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+
//! 2 validation errors detected: Value '' at 'roleArn' failed to satisfy constraint: …; Value '' at 'roleArn' failed to satisfy constraint: …
//! ```
//!
//! Members are named in lower camel case, list members as
//! `tags.1.member.key`. For one member the pattern is reported before the
//! length, as AWS does. Lengths are counted in UTF-16 code units, as the
//! Java services count them. The regular expressions of the model are
//! implemented by hand (there are few, and all are character classes).

use crate::error::{IamError, IamErrorCode};
use crate::form::Params;
use crate::shapes::Tag;

/// The constraints of one string type of the service model.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    pub(crate) min: usize,
    pub(crate) max: Option<usize>,
    pub(crate) pattern: Option<Pattern>,
    /// Whether a violating value is echoed in the message. Policy
    /// documents are not: they can be 128 KiB long.
    pub(crate) shown: bool,
}

const fn spec(min: usize, max: usize, pattern: Pattern) -> Spec {
    Spec {
        min,
        max: Some(max),
        pattern: Some(pattern),
        shown: true,
    }
}

// IAM types (iam/2010-05-08/service-2.json).
pub(crate) const USER_NAME: Spec = spec(1, 64, Pattern::Name);
pub(crate) const EXISTING_USER_NAME: Spec = spec(1, 128, Pattern::Name);
pub(crate) const GROUP_NAME: Spec = spec(1, 128, Pattern::Name);
pub(crate) const ROLE_NAME: Spec = spec(1, 64, Pattern::Name);
pub(crate) const POLICY_NAME: Spec = spec(1, 128, Pattern::Name);
pub(crate) const PATH: Spec = spec(1, 512, Pattern::Path);
pub(crate) const PATH_PREFIX: Spec = spec(1, 512, Pattern::PathPrefix);
pub(crate) const POLICY_PATH: Spec = spec(1, 512, Pattern::PolicyPath);
pub(crate) const MARKER: Spec = spec(1, 320, Pattern::Marker);
pub(crate) const POLICY_DOCUMENT: Spec = Spec {
    shown: false,
    ..spec(1, 131_072, Pattern::PolicyDocument)
};
pub(crate) const ROLE_DESCRIPTION: Spec = spec(0, 1000, Pattern::RoleDescription);
pub(crate) const POLICY_DESCRIPTION: Spec = Spec {
    min: 0,
    max: Some(1000),
    pattern: None,
    shown: true,
};
pub(crate) const ARN: Spec = Spec {
    min: 20,
    max: Some(2048),
    pattern: None,
    shown: true,
};
pub(crate) const ACCESS_KEY_ID: Spec = spec(16, 128, Pattern::Word);
pub(crate) const VERSION_ID: Spec = Spec {
    min: 0,
    max: None,
    pattern: Some(Pattern::VersionId),
    shown: true,
};
pub(crate) const TAG_KEY: Spec = spec(1, 128, Pattern::TagKey);
pub(crate) const TAG_VALUE: Spec = spec(0, 256, Pattern::TagValue);
// STS types (sts/2011-06-15/service-2.json).
pub(crate) const STS_ARN: Spec = spec(20, 2048, Pattern::StsText);
pub(crate) const ROLE_SESSION_NAME: Spec = spec(2, 64, Pattern::NameOrEmpty);
pub(crate) const SOURCE_IDENTITY: Spec = spec(2, 64, Pattern::NameOrEmpty);
pub(crate) const EXTERNAL_ID: Spec = spec(2, 1224, Pattern::ExternalId);
pub(crate) const SERIAL_NUMBER: Spec = spec(9, 256, Pattern::SerialNumber);
pub(crate) const TOKEN_CODE: Spec = spec(6, 6, Pattern::Digits);
pub(crate) const SESSION_POLICY: Spec = Spec {
    min: 1,
    max: None,
    pattern: Some(Pattern::PolicyDocument),
    shown: false,
};

/// The regular expressions of the service models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    Name,
    NameOrEmpty,
    Path,
    PathPrefix,
    PolicyPath,
    Marker,
    PolicyDocument,
    RoleDescription,
    Word,
    VersionId,
    TagKey,
    TagValue,
    StsText,
    ExternalId,
    SerialNumber,
    Digits,
}

impl Pattern {
    /// The pattern as the model (and so the message) writes it.
    pub(crate) fn source(self) -> &'static str {
        match self {
            Pattern::Name => r"[\w+=,.@-]+",
            Pattern::NameOrEmpty => r"[\w+=,.@-]*",
            Pattern::Path => r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
            Pattern::PathPrefix => r"\u002F[\u0021-\u007F]*",
            Pattern::PolicyPath => r"((/[A-Za-z0-9\.,\+@=_-]+)*)/",
            Pattern::Marker => r"[\u0020-\u00FF]+",
            Pattern::PolicyDocument => r"[\u0009\u000A\u000D\u0020-\u00FF]+",
            Pattern::RoleDescription => r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*",
            Pattern::Word => r"[\w]+",
            Pattern::VersionId => r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?",
            Pattern::TagKey => r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+",
            Pattern::TagValue => r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*",
            Pattern::StsText => {
                r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+"
            }
            Pattern::ExternalId => r"[\w+=,.@:\/-]*",
            Pattern::SerialNumber => r"[\w+=/:,.@-]*",
            Pattern::Digits => r"[\d]*",
        }
    }

    /// Whether the whole of `s` matches.
    pub(crate) fn matches(self, s: &str) -> bool {
        // `\w` is Java's ASCII word class unless a flag says otherwise.
        fn word(c: char) -> bool {
            c.is_ascii_alphanumeric() || c == '_'
        }
        fn name(c: char) -> bool {
            word(c) || "+=,.@-".contains(c)
        }
        fn tag(c: char) -> bool {
            // \p{L}, \p{Z} (space separators, not controls) and \p{N},
            // approximated by the standard library's Unicode classes.
            c.is_alphabetic()
                || c.is_numeric()
                || (c.is_whitespace() && !c.is_control())
                || "_.:/=+-@".contains(c)
        }
        let all = |f: fn(char) -> bool| s.chars().all(f);
        match self {
            Pattern::Name => !s.is_empty() && all(name),
            Pattern::NameOrEmpty => all(name),
            Pattern::Path => {
                s == "/"
                    || (s.len() >= 3
                        && s.starts_with('/')
                        && s.ends_with('/')
                        && all(|c| ('\u{21}'..='\u{7E}').contains(&c)))
            }
            Pattern::PathPrefix => {
                s.starts_with('/') && all(|c| ('\u{21}'..='\u{7F}').contains(&c))
            }
            Pattern::PolicyPath => {
                // "/" or "/seg/…/seg/" with non-empty segments.
                let Some(inner) = s.strip_suffix('/') else {
                    return false;
                };
                inner.is_empty()
                    || (inner.starts_with('/')
                        && inner[1..].split('/').all(|seg| {
                            !seg.is_empty()
                                && seg
                                    .chars()
                                    .all(|c| c.is_ascii_alphanumeric() || ".,+@=_-".contains(c))
                        }))
            }
            Pattern::Marker => !s.is_empty() && all(|c| ('\u{20}'..='\u{FF}').contains(&c)),
            Pattern::PolicyDocument => {
                !s.is_empty()
                    && all(|c| {
                        matches!(c, '\t' | '\n' | '\r') || ('\u{20}'..='\u{FF}').contains(&c)
                    })
            }
            Pattern::RoleDescription => all(|c| {
                matches!(c, '\t' | '\n' | '\r')
                    || ('\u{20}'..='\u{7E}').contains(&c)
                    || ('\u{A1}'..='\u{FF}').contains(&c)
            }),
            Pattern::Word => !s.is_empty() && all(word),
            Pattern::VersionId => {
                let Some(rest) = s.strip_prefix('v') else {
                    return false;
                };
                let (number, suffix) = match rest.find('.') {
                    Some(dot) => (&rest[..dot], Some(&rest[dot + 1..])),
                    None => (rest, None),
                };
                number.starts_with(|c: char| ('1'..='9').contains(&c))
                    && number.chars().all(|c| c.is_ascii_digit())
                    && suffix
                        .is_none_or(|x| x.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            }
            Pattern::TagKey => !s.is_empty() && all(tag),
            Pattern::TagValue => all(tag),
            Pattern::StsText => {
                !s.is_empty()
                    && all(|c| {
                        matches!(c, '\t' | '\n' | '\r' | '\u{85}')
                            || ('\u{20}'..='\u{7E}').contains(&c)
                            // Rust chars are never surrogates, so the rest
                            // of the class is everything from U+00A0 on
                            // but U+FFFE and U+FFFF.
                            || (c >= '\u{A0}' && c != '\u{FFFE}' && c != '\u{FFFF}')
                    })
            }
            Pattern::ExternalId => all(|c| word(c) || "+=,.@:/-".contains(c)),
            Pattern::SerialNumber => all(|c| word(c) || "+=/:,.@-".contains(c)),
            Pattern::Digits => all(|c| c.is_ascii_digit()),
        }
    }
}

/// `UserName` → `userName`, as the messages name members.
fn camel(member: &str) -> String {
    let mut chars = member.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// Reads the members of one request and collects the violations.
pub(crate) struct Fields<'a> {
    params: &'a Params,
    violations: Vec<String>,
    /// A member that is there but unusable in a way no model constraint
    /// names (an integer that is not a number).
    malformed: Option<IamError>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(params: &'a Params) -> Self {
        Self {
            params,
            violations: Vec::new(),
            malformed: None,
        }
    }

    fn violation(&mut self, at: &str, value: Option<&str>, constraint: &str) {
        let shown = match value {
            Some(v) => format!("Value '{v}' at"),
            None => "Value at".to_owned(),
        };
        self.violations.push(format!(
            "{shown} '{at}' failed to satisfy constraint: {constraint}"
        ));
    }

    fn null(&mut self, at: &str) {
        self.violations.push(format!(
            "Value null at '{at}' failed to satisfy constraint: Member must not be null"
        ));
    }

    fn check(&mut self, at: &str, value: &str, spec: Spec) {
        let shown = spec.shown.then_some(value);
        if let Some(pattern) = spec.pattern
            && !pattern.matches(value)
        {
            let constraint = format!(
                "Member must satisfy regular expression pattern: {}",
                pattern.source()
            );
            self.violation(at, shown, &constraint);
        }
        let len = value.encode_utf16().count();
        if len < spec.min {
            let constraint = format!(
                "Member must have length greater than or equal to {}",
                spec.min
            );
            self.violation(at, shown, &constraint);
        } else if let Some(max) = spec.max.filter(|&max| len > max) {
            let constraint = format!("Member must have length less than or equal to {max}");
            self.violation(at, shown, &constraint);
        }
    }

    /// An optional string member.
    pub(crate) fn string(&mut self, member: &str, spec: Spec) -> Option<String> {
        let value = self.params.get(member)?;
        self.check(&camel(member), value, spec);
        Some(value.to_owned())
    }

    /// A required string member; empty when absent (the violation makes
    /// [`Fields::finish`] fail, so the placeholder is never used).
    pub(crate) fn required(&mut self, member: &str, spec: Spec) -> String {
        match self.string(member, spec) {
            Some(value) => value,
            None => {
                self.null(&camel(member));
                String::new()
            }
        }
    }

    /// An optional integer member within `min..=max`.
    pub(crate) fn integer(&mut self, member: &str, min: i64, max: i64) -> Option<u32> {
        let raw = self.params.get(member)?;
        let Ok(value) = raw.trim().parse::<i64>() else {
            self.malformed.get_or_insert_with(|| {
                IamError::new(
                    IamErrorCode::InvalidParameterValue,
                    format!("Invalid value for parameter {member}: '{raw}' is not an integer"),
                )
            });
            return None;
        };
        let at = camel(member);
        if value < min {
            self.violation(
                &at,
                Some(raw),
                &format!("Member must have value greater than or equal to {min}"),
            );
        } else if value > max {
            self.violation(
                &at,
                Some(raw),
                &format!("Member must have value less than or equal to {max}"),
            );
        }
        u32::try_from(value).ok()
    }

    /// `MaxItems`: 1..=1000.
    pub(crate) fn max_items(&mut self) -> Option<u32> {
        self.integer("MaxItems", 1, 1000)
    }

    /// `Marker`.
    pub(crate) fn marker(&mut self) -> Option<String> {
        self.string("Marker", MARKER)
    }

    /// An optional boolean member: `true` or `false`, in any case.
    pub(crate) fn boolean(&mut self, member: &str) -> Option<bool> {
        let raw = self.params.get(member)?;
        if raw.eq_ignore_ascii_case("true") {
            Some(true)
        } else if raw.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            self.malformed.get_or_insert_with(|| {
                IamError::new(
                    IamErrorCode::InvalidParameterValue,
                    format!("Invalid value for parameter {member}: '{raw}' is not a boolean"),
                )
            });
            None
        }
    }

    /// An optional member of an enumeration; the values are listed in the
    /// model's order.
    pub(crate) fn enumeration<T: Copy>(&mut self, member: &str, values: &[(&str, T)]) -> Option<T> {
        let raw = self.params.get(member)?;
        if let Some(&(_, value)) = values.iter().find(|(name, _)| *name == raw) {
            return Some(value);
        }
        let names: Vec<&str> = values.iter().map(|(name, _)| *name).collect();
        let constraint = format!("Member must satisfy enum value set: [{}]", names.join(", "));
        self.violation(&camel(member), Some(raw), &constraint);
        None
    }

    /// A required enumeration member.
    pub(crate) fn required_enumeration<T: Copy>(
        &mut self,
        member: &str,
        values: &[(&str, T)],
    ) -> Option<T> {
        if self.params.get(member).is_none() {
            self.null(&camel(member));
            return None;
        }
        self.enumeration(member, values)
    }

    fn list_length(&mut self, member: &str, len: usize, max: Option<usize>) {
        if let Some(max) = max.filter(|&max| len > max) {
            self.violation(
                &camel(member),
                None,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// A list of strings, `Member.member.N`.
    pub(crate) fn strings(&mut self, member: &str, spec: Spec, max: Option<usize>) -> Vec<String> {
        let params = self.params;
        let at = camel(member);
        let mut out = Vec::new();
        for (index, field, value) in params.members(member) {
            // Fields of a string member do not exist; ignore them as any
            // unknown parameter is ignored.
            if !field.is_empty() {
                continue;
            }
            self.check(&format!("{at}.{index}.member"), value, spec);
            out.push(value.to_owned());
        }
        self.list_length(member, out.len(), max);
        out
    }

    /// A required list of strings.
    pub(crate) fn required_strings(
        &mut self,
        member: &str,
        spec: Spec,
        max: Option<usize>,
    ) -> Vec<String> {
        if !self.params.has_list(member) {
            self.null(&camel(member));
        }
        self.strings(member, spec, max)
    }

    /// A list of `Tag`s, `Member.member.N.Key` and `.Value`, at most 50.
    pub(crate) fn tags(&mut self, member: &str) -> Vec<Tag> {
        let params = self.params;
        let at = camel(member);
        let mut indexes: Vec<u32> = params.members(member).iter().map(|&(i, _, _)| i).collect();
        indexes.dedup();
        let mut out = Vec::new();
        for index in indexes {
            let prefix = format!("{member}.member.{index}");
            let key = params.get(&format!("{prefix}.Key"));
            let value = params.get(&format!("{prefix}.Value"));
            let key_at = format!("{at}.{index}.member.key");
            let value_at = format!("{at}.{index}.member.value");
            match key {
                Some(key) => self.check(&key_at, key, TAG_KEY),
                None => self.null(&key_at),
            }
            match value {
                Some(value) => self.check(&value_at, value, TAG_VALUE),
                None => self.null(&value_at),
            }
            out.push(Tag {
                key: key.unwrap_or_default().to_owned(),
                value: value.unwrap_or_default().to_owned(),
            });
        }
        self.list_length(member, out.len(), Some(50));
        out
    }

    /// A required list of tags.
    pub(crate) fn required_tags(&mut self, member: &str) -> Vec<Tag> {
        if !self.params.has_list(member) {
            self.null(&camel(member));
        }
        self.tags(member)
    }

    /// A list of structures with one string field, `Member.member.N.field`
    /// (STS's `PolicyArns.member.N.arn`).
    pub(crate) fn field_list(&mut self, member: &str, field: &str, spec: Spec) -> Vec<String> {
        let params = self.params;
        let at = camel(member);
        let suffix = format!(".{field}");
        let mut out = Vec::new();
        for (index, f, value) in params.members(member) {
            if f != suffix {
                continue;
            }
            self.check(&format!("{at}.{index}.member.{field}"), value, spec);
            out.push(value.to_owned());
        }
        out
    }

    /// The collected violations as one `ValidationError`, if any.
    pub(crate) fn finish(self) -> Result<(), IamError> {
        if let Some(malformed) = self.malformed {
            return Err(malformed);
        }
        match self.violations.len() {
            0 => Ok(()),
            1 => Err(IamError::new(
                IamErrorCode::ValidationError,
                format!("1 validation error detected: {}", self.violations[0]),
            )),
            n => Err(IamError::new(
                IamErrorCode::ValidationError,
                format!(
                    "{n} validation errors detected: {}",
                    self.violations.join("; ")
                ),
            )),
        }
    }
}

impl Fields<'_> {
    /// An optional boolean, `false` when absent.
    pub(crate) fn flag(&mut self, member: &str) -> bool {
        self.boolean(member).unwrap_or(false)
    }

    /// A required access key status; the placeholder when absent is never
    /// used, since [`Fields::finish`] then fails.
    pub(crate) fn status(&mut self, member: &str) -> crate::shapes::StatusType {
        self.required_enumeration(member, crate::shapes::StatusType::VALUES)
            .unwrap_or(crate::shapes::StatusType::Active)
    }
}

/// Declares one request struct and how its members are read, in the
/// model's member order (which is the order violations are reported in).
macro_rules! request {
    ($(#[$doc:meta])* $name:ident { $($field:ident : $ty:ty = $method:ident ( $($arg:expr),* ) ),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name { $(pub $field: $ty,)* }

        impl $name {
            fn read(f: &mut Fields<'_>) -> Self {
                Self { $($field: f.$method($($arg),*),)* }
            }
        }
    };
}

pub(crate) use request;
