//! The AWS Query protocol's request encoding:
//! `application/x-www-form-urlencoded` bodies (or GET query strings) of
//! `Name=Value` pairs, with lists flattened as `Name.member.N` (1-based)
//! and structures in lists as `Name.member.N.Field`.

use std::collections::BTreeMap;

use percent_encoding::percent_decode;

/// Why a form body could not be decoded at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A `%` not followed by two hexadecimal digits.
    #[error("malformed percent-encoding in parameter {0:?}")]
    BadPercentEncoding(String),
    /// A name or value that is not UTF-8 once decoded.
    #[error("parameter is not UTF-8 once decoded")]
    NotUtf8,
    /// The same parameter twice: which one counts would be a guess, and
    /// guessing differently from the signature check is a vulnerability.
    #[error("duplicate parameter {0:?}")]
    DuplicateParameter(String),
    /// A pair with an empty name (`=x` or a stray `&`-separated `=`).
    #[error("parameter with an empty name")]
    EmptyName,
}

/// The decoded parameters of one request, unique by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    map: BTreeMap<String, String>,
}

impl Params {
    /// The `Action` parameter.
    pub fn action(&self) -> Option<&str> {
        self.get("Action")
    }

    /// The `Version` parameter.
    pub fn version(&self) -> Option<&str> {
        self.get("Version")
    }

    /// One parameter by its exact name (`UserName`, `Tags.member.1.Key`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// All parameters, ordered by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Adds a parameter; refuses a second one of the same name.
    pub fn insert(&mut self, name: String, value: String) -> Result<(), WireError> {
        use std::collections::btree_map::Entry;
        match self.map.entry(name) {
            Entry::Occupied(e) => Err(WireError::DuplicateParameter(e.key().clone())),
            Entry::Vacant(e) => {
                e.insert(value);
                Ok(())
            }
        }
    }

    /// Whether the list `name` was sent at all: either as members or, as
    /// botocore sends an empty list, as a bare `name=`.
    pub fn has_list(&self, name: &str) -> bool {
        self.map.contains_key(name) || !self.members(name).is_empty()
    }

    /// The members of the list `name`, ordered by index, with the rest of
    /// each parameter name after `name.member.N` (empty for a list of
    /// strings, `.Key` for a field of a structure). Parameters with an index
    /// that is not a positive integer are not members.
    pub fn members(&self, name: &str) -> Vec<(u32, &str, &str)> {
        let prefix = format!("{name}.member.");
        let mut found: Vec<(u32, &str, &str)> = self
            .map
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter_map(|(k, v)| {
                let rest = &k[prefix.len()..];
                let (index, field) = match rest.find('.') {
                    Some(dot) => (&rest[..dot], &rest[dot..]),
                    None => (rest, ""),
                };
                if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let index: u32 = index.parse().ok().filter(|&n| n > 0)?;
                Some((index, field, v.as_str()))
            })
            .collect();
        // Lexical order puts `10` before `2`; the list order is numeric.
        found.sort_by_key(|&(index, field, _)| (index, field));
        found
    }
}

/// Decodes an `application/x-www-form-urlencoded` body or a query string:
/// pairs split on `&`, name and value on the first `=`, `+` is a space,
/// then percent-decoding. Empty pairs (`a=1&&b=2`) are skipped; a name
/// without `=` has an empty value.
pub fn parse_form(body: &[u8]) -> Result<Params, WireError> {
    let mut params = Params::default();
    for pair in body.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &b""[..]),
        };
        let name = decode(name)?;
        if name.is_empty() {
            return Err(WireError::EmptyName);
        }
        let value = decode(value).map_err(|e| match e {
            WireError::BadPercentEncoding(_) => WireError::BadPercentEncoding(name.clone()),
            other => other,
        })?;
        params.insert(name, value)?;
    }
    Ok(params)
}

fn decode(raw: &[u8]) -> Result<String, WireError> {
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let ok = raw.len() > i + 2
                && raw[i + 1].is_ascii_hexdigit()
                && raw[i + 2].is_ascii_hexdigit();
            if !ok {
                return Err(WireError::BadPercentEncoding(
                    String::from_utf8_lossy(raw).into_owned(),
                ));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| WireError::NotUtf8)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failure is a panic")]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent() {
        let p = parse_form(b"Action=CreateUser&UserName=a+b%2Bc%20d&Path=%2F").unwrap();
        assert_eq!(p.action(), Some("CreateUser"));
        assert_eq!(p.get("UserName"), Some("a b+c d"));
        assert_eq!(p.get("Path"), Some("/"));
        assert_eq!(p.version(), None);
    }

    #[test]
    fn empty_pairs_and_bare_names() {
        let p = parse_form(b"&a=1&&b&c=&").unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), Some(""));
        assert_eq!(p.get("c"), Some(""));
        assert!(parse_form(b"").unwrap().is_empty());
    }

    #[test]
    fn value_keeps_later_equals_signs() {
        let p = parse_form(b"PolicyDocument=a%3Db=c").unwrap();
        assert_eq!(p.get("PolicyDocument"), Some("a=b=c"));
    }

    #[test]
    fn refuses_duplicates_even_when_encoded_differently() {
        assert_eq!(
            parse_form(b"UserName=a&UserName=b"),
            Err(WireError::DuplicateParameter("UserName".into()))
        );
        assert_eq!(
            parse_form(b"UserName=a&User%4Eame=a"),
            Err(WireError::DuplicateParameter("UserName".into()))
        );
    }

    #[test]
    fn refuses_bad_percent_encoding_and_non_utf8() {
        for body in [&b"a=%"[..], b"a=%4", b"a=%zz", b"a%=1"] {
            assert!(
                matches!(parse_form(body), Err(WireError::BadPercentEncoding(_))),
                "{body:?}"
            );
        }
        assert_eq!(parse_form(b"a=%FF"), Err(WireError::NotUtf8));
        assert_eq!(parse_form(b"=1"), Err(WireError::EmptyName));
        // Percent-encoded UTF-8 decodes.
        assert_eq!(parse_form(b"a=%C3%A9").unwrap().get("a"), Some("é"));
    }

    #[test]
    fn members_are_ordered_numerically() {
        let mut body = String::new();
        for i in [10, 2, 1] {
            body.push_str(&format!("TagKeys.member.{i}=k{i}&"));
        }
        body.push_str("TagKeys.member.0=zero&TagKeys.member.x=bad&TagKeysX.member.1=other");
        let p = parse_form(body.as_bytes()).unwrap();
        let keys: Vec<_> = p
            .members("TagKeys")
            .iter()
            .map(|&(i, _, v)| (i, v))
            .collect();
        assert_eq!(keys, [(1, "k1"), (2, "k2"), (10, "k10")]);
        assert!(p.has_list("TagKeys"));
        assert!(!p.has_list("Tags"));
        assert!(parse_form(b"Tags=").unwrap().has_list("Tags"));
    }
}
