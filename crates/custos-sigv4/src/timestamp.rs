//! The two date formats a SigV4 request may carry, and the one AWS prints.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 IMF-fixdate).
const IMF_FIXDATE: &[BorrowedFormatItem<'_>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// Parses the ISO 8601 basic format SigV4 uses, `20150830T123600Z`, and
/// nothing else: exactly sixteen characters, UTC.
pub(crate) fn parse_basic(text: &str) -> Option<OffsetDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes.get(8) != Some(&b'T') || bytes.get(15) != Some(&b'Z') {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u16> {
        bytes.get(from..to)?.iter().try_fold(0u16, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u16::from(c - b'0'))
        })
    };
    let year = number(0, 4)?;
    let month = Month::try_from(u8::try_from(number(4, 6)?).ok()?).ok()?;
    let day = u8::try_from(number(6, 8)?).ok()?;
    let hour = u8::try_from(number(9, 11)?).ok()?;
    let minute = u8::try_from(number(11, 13)?).ok()?;
    let second = u8::try_from(number(13, 15)?).ok()?;
    let date = Date::from_calendar_date(i32::from(year), month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// Parses an HTTP `Date` header in the IMF-fixdate form.
pub(crate) fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(text, IMF_FIXDATE)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// `20150830T123600Z`, in UTC.
pub(crate) fn format_basic(at: OffsetDateTime) -> String {
    let at = utc(at);
    format!(
        "{}T{:02}{:02}{:02}Z",
        format_date(at),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// `20150830`, in UTC: the date element of a credential scope.
pub(crate) fn format_date(at: OffsetDateTime) -> String {
    let at = utc(at);
    format!("{:04}{:02}{:02}", at.year(), u8::from(at.month()), at.day())
}

/// `at` in UTC; at the very edge of the representable range, where the
/// conversion would overflow, `at` as it is.
fn utc(at: OffsetDateTime) -> OffsetDateTime {
    at.checked_to_offset(UtcOffset::UTC).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn basic_format_round_trips() {
        let at = parse_basic("20150830T123600Z").expect("valid");
        assert_eq!(at, datetime!(2015-08-30 12:36:00 UTC));
        assert_eq!(format_basic(at), "20150830T123600Z");
        assert_eq!(format_date(at), "20150830");
        assert_eq!(
            format_basic(datetime!(2015-08-30 14:36:00 +02:00)),
            "20150830T123600Z"
        );
    }

    #[test]
    fn basic_format_is_strict() {
        for bad in [
            "",
            "20150830T123600",
            "20150830T123600z",
            "20150830 123600Z",
            "2015-08-30T12:36:00Z",
            "20150830T123600ZZ",
            "20151330T123600Z",
            "20150230T123600Z",
            "20150830T243600Z",
            "20150830T126000Z",
            "20150830T123660Z",
            "+0150830T123600Z",
            "2015083OT123600Z",
            "٢٠١٥0830T123600Z",
        ] {
            assert_eq!(parse_basic(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse_basic("00000101T000000Z"),
            Some(datetime!(0000-01-01 00:00:00 UTC))
        );
        assert_eq!(
            parse_basic("99991231T235959Z"),
            Some(datetime!(9999-12-31 23:59:59 UTC))
        );
    }

    #[test]
    fn http_date() {
        assert_eq!(
            parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"),
            Some(datetime!(2015-08-30 12:36:00 UTC))
        );
        assert_eq!(parse_http_date("Sunday, 30-Aug-15 12:36:00 GMT"), None);
        assert_eq!(parse_http_date("Sun Aug 30 12:36:00 2015"), None);
        assert_eq!(parse_http_date("20150830T123600Z"), None);
    }
}
