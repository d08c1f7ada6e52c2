//! `ValidationException` messages, worded as AWS words them:
//!
//! ```text
//! 1 validation error detected: Value 'x' at 'keyId' failed to satisfy constraint: Member must have length less than or equal to 2048
//! 2 validation errors detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null; Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096
//! ```
//!
//! Members are named in lower camel case. The values of sensitive members
//! (plaintexts) are never repeated: AWS writes `Value at 'plaintext'`, and
//! so do we.

use std::fmt;

/// One violated constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    member: &'static str,
    shown: Shown,
    constraint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Shown {
    Value(String),
    Null,
    Redacted,
}

/// The violations found in one request, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<Violation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `Ok(())` when nothing was violated.
    pub fn into_result(self) -> Result<(), Violations> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    fn push(&mut self, member: &'static str, shown: Shown, constraint: String) {
        self.0.push(Violation {
            member,
            shown,
            constraint,
        });
    }

    /// A required member is absent.
    pub fn required<T>(&mut self, member: &'static str, value: &Option<T>) {
        if value.is_none() {
            self.push(member, Shown::Null, "Member must not be null".into());
        }
    }

    /// Length bounds of a string member, counted in characters as AWS counts.
    pub fn length(&mut self, member: &'static str, value: Option<&str>, min: usize, max: usize) {
        let Some(value) = value else { return };
        let len = value.chars().count();
        if len < min {
            self.push(
                member,
                Shown::Value(value.to_owned()),
                format!("Member must have length greater than or equal to {min}"),
            );
        } else if len > max {
            self.push(
                member,
                Shown::Value(value.to_owned()),
                format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// Length bounds of a blob member; the value is never shown for a
    /// sensitive member, and shown as AWS's Java runtime shows a buffer for
    /// any other.
    pub fn blob_length(
        &mut self,
        member: &'static str,
        len: Option<usize>,
        min: usize,
        max: usize,
        sensitive: bool,
    ) {
        let Some(len) = len else { return };
        let shown = if sensitive {
            Shown::Redacted
        } else {
            Shown::Value(format!(
                "java.nio.HeapByteBuffer[pos=0 lim={len} cap={len}]"
            ))
        };
        if len < min {
            self.push(
                member,
                shown,
                format!("Member must have length greater than or equal to {min}"),
            );
        } else if len > max {
            self.push(
                member,
                shown,
                format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// Numeric range of an integer member.
    pub fn range(&mut self, member: &'static str, value: Option<i64>, min: i64, max: i64) {
        let Some(value) = value else { return };
        if value < min {
            self.push(
                member,
                Shown::Value(value.to_string()),
                format!("Member must have value greater than or equal to {min}"),
            );
        } else if value > max {
            self.push(
                member,
                Shown::Value(value.to_string()),
                format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    /// Membership of a string enum.
    pub fn one_of(&mut self, member: &'static str, value: Option<&str>, allowed: &[&str]) {
        let Some(value) = value else { return };
        if !allowed.contains(&value) {
            self.push(
                member,
                Shown::Value(value.to_owned()),
                format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// A pattern constraint, checked by the caller's predicate; `pattern` is
    /// the model's regular expression, quoted in the message.
    pub fn pattern(
        &mut self,
        member: &'static str,
        value: Option<&str>,
        matches: impl Fn(&str) -> bool,
        pattern: &str,
    ) {
        let Some(value) = value else { return };
        if !matches(value) {
            self.push(
                member,
                Shown::Value(value.to_owned()),
                format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
    }

    /// Number of items of a list or map member.
    pub fn count(&mut self, member: &'static str, len: Option<usize>, min: usize, max: usize) {
        let Some(len) = len else { return };
        if len < min {
            self.push(
                member,
                Shown::Redacted,
                format!("Member must have length greater than or equal to {min}"),
            );
        } else if len > max {
            self.push(
                member,
                Shown::Redacted,
                format!("Member must have length less than or equal to {max}"),
            );
        }
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} validation error{} detected: ",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            match &v.shown {
                Shown::Value(value) => write!(f, "Value '{value}' at '{}'", v.member)?,
                Shown::Null => write!(f, "Value null at '{}'", v.member)?,
                Shown::Redacted => write!(f, "Value at '{}'", v.member)?,
            }
            write!(f, " failed to satisfy constraint: {}", v.constraint)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_violation() {
        let mut v = Violations::new();
        v.length("keyId", Some(""), 1, 2048);
        assert_eq!(
            v.to_string(),
            "1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: \
             Member must have length greater than or equal to 1"
        );
    }

    #[test]
    fn several_and_sensitive() {
        let mut v = Violations::new();
        v.required::<String>("keyId", &None);
        v.blob_length("plaintext", Some(4097), 1, 4096, true);
        v.one_of("keySpec", Some("AES_512"), &["AES_256", "AES_128"]);
        v.range("numberOfBytes", Some(0), 1, 1024);
        assert_eq!(
            v.to_string(),
            "4 validation errors detected: \
             Value null at 'keyId' failed to satisfy constraint: Member must not be null; \
             Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096; \
             Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]; \
             Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
    }

    #[test]
    fn nothing_violated_is_ok() {
        let mut v = Violations::new();
        v.length("keyId", Some("abc"), 1, 2048);
        v.length("keyId", None, 1, 2048);
        v.range("limit", Some(1000), 1, 1000);
        assert!(v.into_result().is_ok());
    }
}
