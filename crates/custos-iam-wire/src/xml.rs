//! The XML writer behind every response and error body.
//!
//! Responses are small and their shape is fixed by the service model, so a
//! hand-written writer is enough: it escapes text, formats timestamps as IAM
//! does and URL-encodes policy documents. It writes into a buffer that is
//! wiped when dropped *and* whenever it grows, because a response may carry
//! a secret access key and a plain `String` would leave copies of it behind
//! in every buffer it outgrew.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use time::{OffsetDateTime, UtcOffset, format_description::FormatItem, macros::format_description};
use zeroize::Zeroizing;

/// `2026-12-04T16:08:35Z`: IAM and STS send whole seconds in UTC.
const TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// Everything but RFC 3986's unreserved characters is percent-encoded, as
/// IAM encodes the policy documents it returns (`%7B%22Version%22…`).
const POLICY_DOCUMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A growing XML document in a buffer that never leaves an unwiped copy.
pub(crate) struct XmlWriter {
    buf: Zeroizing<String>,
}

impl XmlWriter {
    pub(crate) fn new() -> Self {
        Self {
            buf: Zeroizing::new(String::with_capacity(1024)),
        }
    }

    pub(crate) fn finish(self) -> Zeroizing<String> {
        self.buf
    }

    /// Appends `s` verbatim. Grows by moving into a fresh buffer and
    /// dropping (so wiping) the old one, instead of letting `String`
    /// reallocate behind our back.
    pub(crate) fn raw(&mut self, s: &str) {
        let needed = self.buf.len() + s.len();
        if needed > self.buf.capacity() {
            let mut bigger =
                Zeroizing::new(String::with_capacity(needed.max(self.buf.capacity() * 2)));
            bigger.push_str(&self.buf);
            self.buf = bigger;
        }
        self.buf.push_str(s);
    }

    /// Appends `text` with the five XML special characters escaped.
    pub(crate) fn text(&mut self, text: &str) {
        let mut rest = text;
        while let Some(at) =
            rest.find(|c: char| matches!(c, '&' | '<' | '>' | '"' | '\'' | '\r') || not_in_xml(c))
        {
            self.raw(&rest[..at]);
            let c = rest[at..].chars().next().unwrap_or('\u{fffd}');
            let escaped = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&apos;",
                // A raw CR would be normalised away by the client's parser.
                '\r' => "&#13;",
                // XML 1.0 has no way to carry these, escaped or not (an
                // echoed parameter may hold one): the replacement character
                // keeps the document well-formed.
                _ => "\u{fffd}",
            };
            self.raw(escaped);
            rest = &rest[at + c.len_utf8()..];
        }
        self.raw(rest);
    }

    pub(crate) fn open(&mut self, name: &str) {
        self.raw("<");
        self.raw(name);
        self.raw(">");
    }

    pub(crate) fn close(&mut self, name: &str) {
        self.raw("</");
        self.raw(name);
        self.raw(">");
    }

    /// The root element, with the service namespace.
    pub(crate) fn open_root(&mut self, name: &str, xmlns: &str) {
        self.raw("<");
        self.raw(name);
        self.raw(" xmlns=\"");
        self.text(xmlns);
        self.raw("\">");
    }

    pub(crate) fn element(&mut self, name: &str, text: &str) {
        self.open(name);
        self.text(text);
        self.close(name);
    }

    pub(crate) fn optional(&mut self, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.element(name, text);
        }
    }

    pub(crate) fn boolean(&mut self, name: &str, value: bool) {
        self.element(name, if value { "true" } else { "false" });
    }

    pub(crate) fn number(&mut self, name: &str, value: u64) {
        self.element(name, &value.to_string());
    }

    pub(crate) fn date(&mut self, name: &str, date: OffsetDateTime) {
        self.element(name, &format_timestamp(date));
    }

    /// A policy document, URL-encoded as IAM returns it.
    pub(crate) fn policy_document(&mut self, name: &str, document: &str) {
        self.open(name);
        // The encoded form contains only `%` and unreserved characters, so
        // it needs no XML escaping.
        for piece in utf8_percent_encode(document, POLICY_DOCUMENT) {
            self.raw(piece);
        }
        self.close(name);
    }

    /// A secret written as text. Secrets are ASCII (base64 alphabet) in
    /// practice; anything that is not UTF-8 is written as U+FFFD rather
    /// than copied into a temporary string.
    pub(crate) fn secret(&mut self, name: &str, secret: &[u8]) {
        self.open(name);
        for chunk in secret.utf8_chunks() {
            self.text(chunk.valid());
            if !chunk.invalid().is_empty() {
                self.raw("\u{FFFD}");
            }
        }
        self.close(name);
    }

    /// `<IsTruncated>` and, when there is one, `<Marker>`.
    pub(crate) fn page(&mut self, is_truncated: bool, marker: Option<&str>) {
        self.boolean("IsTruncated", is_truncated);
        self.optional("Marker", marker);
    }

    /// `<ResponseMetadata><RequestId>…</RequestId></ResponseMetadata>`.
    pub(crate) fn metadata(&mut self, request_id: &str) {
        self.open("ResponseMetadata");
        self.element("RequestId", request_id);
        self.close("ResponseMetadata");
    }
}

/// A timestamp as IAM and STS write it: UTC, whole seconds, `Z`.
pub fn format_timestamp(date: OffsetDateTime) -> String {
    let utc = date.to_offset(UtcOffset::UTC);
    // Only a year outside 0..=9999 can fail to format; no IAM entity is
    // created then, and an empty element is better than a panic.
    utc.format(TIMESTAMP).unwrap_or_default()
}

/// A policy document percent-encoded as IAM returns it (RFC 3986: all but
/// `A-Z a-z 0-9 - _ . ~`).
pub fn url_encode_policy(document: &str) -> String {
    utf8_percent_encode(document, POLICY_DOCUMENT).to_string()
}

/// `text` with the XML special characters escaped.
pub fn escape(text: &str) -> String {
    let mut w = XmlWriter::new();
    w.text(text);
    w.finish().to_string()
}

/// A tiny reader for tests: checks that `xml` is well formed (tags nest,
/// only the five entities and `&#13;` appear) and returns each text leaf
/// with its path (`Root/Child/Leaf`), unescaped.
/// Characters XML 1.0 does not allow in a document at all: C0 controls
/// other than tab, line feed and carriage return, and U+FFFE and U+FFFF.
fn not_in_xml(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}')
}

#[cfg(test)]
pub(crate) fn leaves(xml: &str) -> Vec<(String, String)> {
    let mut stack: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    let mut rest = xml;
    let mut text = String::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after
                .find('>')
                .unwrap_or_else(|| panic!("unclosed tag in {xml}"));
            let tag = &after[..end];
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().unwrap_or_else(|| panic!("stray </{name}>"));
                assert_eq!(open, name, "mismatched tags");
                if !text.is_empty() || xml[..xml.len() - rest.len()].ends_with(&format!("<{name}>"))
                {
                    out.push((
                        format!("{}/{name}", stack.join("/"))
                            .trim_start_matches('/')
                            .to_owned(),
                        std::mem::take(&mut text),
                    ));
                }
            } else {
                let name = tag.split(' ').next().unwrap_or_default();
                assert!(!name.is_empty() && text.trim().is_empty(), "mixed content");
                text.clear();
                stack.push(name);
            }
            rest = &after[end + 1..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let raw = &rest[..end];
            let mut s = raw;
            while let Some(amp) = s.find('&') {
                text.push_str(&s[..amp]);
                let semi = s[amp..]
                    .find(';')
                    .unwrap_or_else(|| panic!("bare & in {raw}"));
                text.push(match &s[amp..amp + semi + 1] {
                    "&amp;" => '&',
                    "&lt;" => '<',
                    "&gt;" => '>',
                    "&quot;" => '"',
                    "&apos;" => '\'',
                    "&#13;" => '\r',
                    other => panic!("unknown entity {other}"),
                });
                s = &s[amp + semi + 1..];
            }
            assert!(!s.contains('>') && !s.contains('<'));
            text.push_str(s);
            rest = &rest[end..];
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failure is a panic")]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_special_characters() {
        assert_eq!(escape("a<b>&\"c'\r"), "a&lt;b&gt;&amp;&quot;c&apos;&#13;");
        assert_eq!(escape("plain é"), "plain é");
        assert_eq!(escape(""), "");
        // Characters XML 1.0 cannot carry at all (an echoed `Action=%01`,
        // say) become U+FFFD; tab and line feed are allowed as they are.
        assert_eq!(
            escape("a\u{1}b\u{1f}\u{fffe}\t\n"),
            "a\u{fffd}b\u{fffd}\u{fffd}\t\n"
        );
    }

    #[test]
    fn policy_documents_are_percent_encoded_as_iam_does() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert_eq!(
            url_encode_policy(doc),
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C\
             %22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D"
        );
        assert_eq!(url_encode_policy("a b\n~_é<&"), "a%20b%0A~_%C3%A9%3C%26");
    }

    #[test]
    fn timestamps_are_utc_whole_seconds() {
        let t = time::macros::datetime!(2026-12-04 17:08:35.789 +01:00);
        assert_eq!(format_timestamp(t), "2026-12-04T16:08:35Z");
    }

    #[test]
    fn growing_keeps_content() {
        let mut w = XmlWriter::new();
        let chunk = "x".repeat(700);
        for _ in 0..10 {
            w.raw(&chunk);
        }
        w.secret("S", b"ab\xffc");
        let out = w.finish();
        assert_eq!(out.len(), 7000 + "<S>ab\u{FFFD}c</S>".len());
        assert!(out.ends_with("<S>ab\u{FFFD}c</S>"));
    }
}
