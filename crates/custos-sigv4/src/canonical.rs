//! The canonical request: the exact bytes a SigV4 signature covers.
//!
//! Everything here works on bytes as received. Nothing is decoded lossily,
//! so distinct requests canonicalise to distinct bytes, except where the
//! SigV4 rules themselves say two spellings are the same (the query string is
//! percent-decoded before it is re-encoded; the URI path has its dot segments
//! removed).

use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

/// Everything but the unreserved characters of RFC 3986 is encoded.
const QUERY_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// As [`QUERY_SET`], but the path keeps its slashes.
const PATH_SET: &AsciiSet = &QUERY_SET.remove(b'/');

/// The query parameter that carries the signature of a presigned request,
/// and is therefore left out of what it signs.
pub(crate) const X_AMZ_SIGNATURE: &[u8] = b"X-Amz-Signature";

/// The canonical URI: the path as received, optionally normalised, then
/// percent-encoded once more.
///
/// Encoding the received (already encoded) path again is the "double
/// encoding" that every AWS service but S3 uses: the client signs the
/// encoding of the path it puts on the wire.
pub(crate) fn canonical_uri(path: &str, normalize: bool) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    // A path that does not start with '/' (only an origin-form request
    // target does) is not normalised: it then never canonicalises like a
    // real path, so it cannot borrow a real path's signature.
    if normalize && path.starts_with('/') {
        percent_encode(normalize_path(path).as_bytes(), PATH_SET).to_string()
    } else {
        percent_encode(path.as_bytes(), PATH_SET).to_string()
    }
}

/// Removes `.` and `..` segments (RFC 3986 section 5.2.4) and empty segments
/// from an absolute path, keeping a trailing slash. `..` above the root
/// stays at the root.
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut normalized = String::with_capacity(path.len());
    for segment in &segments {
        normalized.push('/');
        normalized.push_str(segment);
    }
    // "/a/b/", "/a/b/." and "/a/b/c/.." all name a directory: keep the slash.
    let ends_in_directory = ["/", "/.", "/.."].iter().any(|end| path.ends_with(end));
    if normalized.is_empty() || ends_in_directory {
        normalized.push('/');
    }
    normalized
}

/// The query string's parameters, decoded as a form would be (`+` is a
/// space, `%XX` a byte, anything else itself), in their original order.
/// Empty parameters (`a&&b`) are dropped; a parameter without `=` has an
/// empty value.
pub(crate) fn query_parameters(query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    query
        .as_bytes()
        .split(|&b| b == b'&')
        .filter(|parameter| !parameter.is_empty())
        .map(|parameter| {
            let (name, value) = match parameter.iter().position(|&b| b == b'=') {
                Some(at) => (&parameter[..at], &parameter[at + 1..]),
                None => (parameter, &b""[..]),
            };
            (form_decode(name), form_decode(value))
        })
        .collect()
}

/// The canonical query string: every parameter (but `X-Amz-Signature` when
/// `presigned`) re-encoded with the unreserved set, sorted by encoded name
/// then encoded value, joined with `&`.
pub(crate) fn canonical_query(query: &str, presigned: bool) -> String {
    let mut parameters: Vec<(String, String)> = query_parameters(query)
        .into_iter()
        .filter(|(name, _)| !(presigned && name == X_AMZ_SIGNATURE))
        .map(|(name, value)| {
            (
                percent_encode(&name, QUERY_SET).to_string(),
                percent_encode(&value, QUERY_SET).to_string(),
            )
        })
        .collect();
    parameters.sort();
    let mut canonical = String::with_capacity(query.len() * 2);
    for (i, (name, value)) in parameters.iter().enumerate() {
        if i > 0 {
            canonical.push('&');
        }
        canonical.push_str(name);
        canonical.push('=');
        canonical.push_str(value);
    }
    canonical
}

/// Appends one `name:value\n` line per signed header present in `headers`.
///
/// Values are trimmed of spaces, inner runs of spaces are collapsed, and
/// repeated headers are joined with `,` in the order received. A signed
/// header that is absent gets no line (the signature then cannot match).
/// `signed_headers` has been validated: sorted, distinct, lowercase.
pub(crate) fn write_canonical_headers(
    out: &mut Vec<u8>,
    headers: &HeaderMap,
    signed_headers: &str,
) {
    for name in signed_headers.split(';') {
        let mut values = headers.get_all(name).iter().peekable();
        if values.peek().is_none() {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (i, value) in values.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_trimmed(out, value.as_bytes());
        }
        out.push(b'\n');
    }
}

/// Appends `value` with leading and trailing spaces removed and each inner
/// run of spaces reduced to one. Only spaces: a tab is kept, as the AWS
/// signers keep it.
fn push_trimmed(out: &mut Vec<u8>, value: &[u8]) {
    let mut pending_space = false;
    let mut started = false;
    for &b in value {
        if b == b' ' {
            pending_space = started;
        } else {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(b);
            started = true;
        }
    }
}

/// Decodes one `application/x-www-form-urlencoded` name or value. An
/// incomplete or invalid escape stays as it is, like the AWS signers' form
/// decoding leaves it.
fn form_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = input.get(i + 1).and_then(|&c| hex_value(c));
                let lo = input.get(i + 2).and_then(|&c| hex_value(c));
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi << 4) | lo);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            other => out.push(other),
        }
        i += 1;
    }
    out
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn uri_normalisation() {
        let cases = [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("///", "/"),
            ("/./", "/"),
            ("/.", "/"),
            ("/..", "/"),
            ("/../..", "/"),
            ("/../a", "/a"),
            ("/a/..", "/"),
            ("/a/../", "/"),
            ("/a/b/../..", "/"),
            ("/a/b/..", "/a/"),
            ("/a/b/../c", "/a/c"),
            ("/./a", "/a"),
            ("/a/./b", "/a/b"),
            ("/a/b/.", "/a/b/"),
            ("//a//", "/a/"),
            ("/a//b", "/a/b"),
            ("/a/b", "/a/b"),
            ("/a/b/", "/a/b/"),
            ("/...", "/..."),
            ("/.a/..b/", "/.a/..b/"),
            // Dot segments are recognised only literally, never encoded.
            ("/%2E/a", "/%252E/a"),
            ("/a/%2e%2e", "/a/%252e%252e"),
        ];
        for (path, canonical) in cases {
            assert_eq!(canonical_uri(path, true), canonical, "{path:?}");
        }
    }

    #[test]
    fn uri_without_normalisation() {
        let cases = [
            ("", "/"),
            ("//", "//"),
            ("/./", "/./"),
            ("/a/..", "/a/.."),
            ("//a//", "//a//"),
        ];
        for (path, canonical) in cases {
            assert_eq!(canonical_uri(path, false), canonical, "{path:?}");
        }
    }

    #[test]
    fn uri_is_encoded_once_more() {
        let cases = [
            // Already-encoded bytes are encoded again: the double encoding.
            ("/a%3Ab", "/a%253Ab"),
            ("/a%2Fb", "/a%252Fb"),
            ("/example%20space/", "/example%2520space/"),
            // Raw bytes (not valid on the wire, but possible here) once.
            ("/example space/", "/example%20space/"),
            ("/\u{1234}", "/%E1%88%B4"),
            ("/@:+!$&'()*,;=", "/%40%3A%2B%21%24%26%27%28%29%2A%2C%3B%3D"),
            (
                "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            ),
            ("/%", "/%25"),
            ("/a\u{0}b", "/a%00b"),
        ];
        for (path, canonical) in cases {
            assert_eq!(canonical_uri(path, true), canonical, "{path:?}");
        }
    }

    #[test]
    fn non_absolute_paths_never_look_like_absolute_ones() {
        assert_eq!(canonical_uri(".", true), ".");
        assert_eq!(canonical_uri("a/../", true), "a/../");
        assert_eq!(canonical_uri("*", true), "%2A");
        assert_ne!(canonical_uri(".", true), canonical_uri("/", true));
    }

    #[test]
    fn query_canonicalisation() {
        let cases = [
            ("", ""),
            ("a=1", "a=1"),
            ("b=2&a=1", "a=1&b=2"),
            // Sorted by encoded name, then value; repeated names are kept.
            ("a=2&a=1&a=10", "a=1&a=10&a=2"),
            ("Param-3=x&Param=y", "Param=y&Param-3=x"),
            ("B=1&a=1", "B=1&a=1"),
            // A parameter without '=' has an empty value; empty ones vanish.
            ("flag", "flag="),
            ("flag=", "flag="),
            ("=v", "=v"),
            ("a=1&&b=2&", "a=1&b=2"),
            ("&", ""),
            // Only the first '=' separates.
            ("a=b=c", "a=b%3Dc"),
            // Decoded, then re-encoded with the unreserved set.
            ("a=%2f", "a=%2F"),
            ("a=/", "a=%2F"),
            ("a=%7E", "a=~"),
            ("%E1%88%B4=bar", "%E1%88%B4=bar"),
            ("\u{1234}=bar", "%E1%88%B4=bar"),
            ("a=b+c", "a=b%20c"),
            ("a=b%20c", "a=b%20c"),
            ("a=b%2Bc", "a=b%2Bc"),
            // Invalid escapes stay literal.
            ("a=%", "a=%25"),
            ("a=%4", "a=%254"),
            ("a=%zz", "a=%25zz"),
            ("a=%%41", "a=%25A"),
            // Bytes that are not UTF-8 survive as themselves.
            ("a=%FF%FE", "a=%FF%FE"),
            (
                "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~",
                "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~",
            ),
        ];
        for (query, canonical) in cases {
            assert_eq!(canonical_query(query, false), canonical, "{query:?}");
        }
    }

    #[test]
    fn presigned_query_leaves_out_only_the_signature() {
        assert_eq!(
            canonical_query("X-Amz-Signature=abc&b=2&X-Amz-Date=1", true),
            "X-Amz-Date=1&b=2"
        );
        // Encoded names are decoded before the comparison.
        assert_eq!(canonical_query("X-Amz-%53ignature=abc&b=2", true), "b=2");
        // Case matters: only the exact parameter name is the signature.
        assert_eq!(
            canonical_query("x-amz-signature=abc", true),
            "x-amz-signature=abc"
        );
        // In the header form, it is a parameter like any other.
        assert_eq!(
            canonical_query("X-Amz-Signature=abc", false),
            "X-Amz-Signature=abc"
        );
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        let mut headers = HeaderMap::new();
        let mut add = |name: &'static str, value: &[u8]| {
            headers.append(name, HeaderValue::from_bytes(value).expect("valid value"));
        };
        add("host", b"example.com:8443");
        add("my-header", b"  a   b  c  ");
        add("my-header", b"second");
        add("other", b"\"a \t b\"");
        add("empty", b"");
        add("latin1", b"caf\xe9");
        add("unsigned", b"ignored");
        let mut out = Vec::new();
        write_canonical_headers(
            &mut out,
            &headers,
            "empty;host;latin1;missing;my-header;other",
        );
        assert_eq!(
            out,
            b"empty:\nhost:example.com:8443\nlatin1:caf\xe9\nmy-header:a b c,second\nother:\"a \t b\"\n"
        );
    }

    #[test]
    fn trimming() {
        let cases: [(&[u8], &[u8]); 7] = [
            (b"", b""),
            (b"   ", b""),
            (b"a", b"a"),
            (b" a ", b"a"),
            (b"a  b", b"a b"),
            (b"  Some  example   text  ", b"Some example text"),
            (b"\ta\t", b"\ta\t"),
        ];
        for (value, trimmed) in cases {
            let mut out = Vec::new();
            push_trimmed(&mut out, value);
            assert_eq!(out, trimmed);
        }
    }
}
