//! Date and time functions over RFC 3339 timestamps: `formatdate plantimestamp timeadd timecmp
//! timestamp`. `timestamp()` is unknown while planning, as in Terraform (its value is taken
//! when the plan is applied); `plantimestamp()` is the time this run started, the same for
//! every call. Civil dates are computed with the proleptic Gregorian calendar.

use std::path::Path;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use engine::value::Value;

use super::string;

/// An instant with the UTC offset it was written in.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Timestamp {
    /// Seconds since the Unix epoch (UTC).
    seconds: i64,
    nanos: u32,
    /// The written offset from UTC, in seconds.
    offset: i32,
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses RFC 3339 as Go's `time.Parse(time.RFC3339, ...)` does (fractional seconds allowed).
fn parse(text: &str) -> Result<Timestamp, String> {
    let invalid = |detail: &str| format!("not a valid RFC3339 timestamp: {detail}");
    let bytes = text.as_bytes();
    let digits = |from: usize, count: usize| -> Option<u32> {
        let part = bytes.get(from..from + count)?;
        part.iter().all(u8::is_ascii_digit).then(|| {
            part.iter()
                .fold(0u32, |value, digit| value * 10 + u32::from(digit - b'0'))
        })
    };
    let expect = |at: usize, what: u8| bytes.get(at) == Some(&what);
    let year = digits(0, 4).ok_or_else(|| invalid("the year must be four digits"))?;
    if !expect(4, b'-') || !expect(7, b'-') {
        return Err(invalid("the date must be written YYYY-MM-DD"));
    }
    let month = digits(5, 2).ok_or_else(|| invalid("the month must be two digits"))?;
    let day = digits(8, 2).ok_or_else(|| invalid("the day must be two digits"))?;
    if !expect(10, b'T') {
        return Err(invalid("the date and the time must be separated by `T`"));
    }
    let hour = digits(11, 2).ok_or_else(|| invalid("the hour must be two digits"))?;
    let minute = expect(13, b':')
        .then(|| digits(14, 2))
        .flatten()
        .ok_or_else(|| invalid("the minute must be two digits after `:`"))?;
    let second = expect(16, b':')
        .then(|| digits(17, 2))
        .flatten()
        .ok_or_else(|| invalid("the second must be two digits after `:`"))?;
    let mut position = 19;
    let mut nanos = 0u32;
    if expect(position, b'.') {
        position += 1;
        let start = position;
        while bytes.get(position).is_some_and(u8::is_ascii_digit) {
            position += 1;
        }
        if position == start {
            return Err(invalid("a fraction of a second needs digits"));
        }
        let fraction = &text[start..position.min(start + 9)];
        nanos = fraction.parse::<u32>().unwrap_or(0) * 10u32.pow(9 - fraction.len() as u32);
    }
    let offset = match bytes.get(position) {
        Some(b'Z') => {
            position += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            let hours = digits(position + 1, 2);
            let minutes = expect(position + 3, b':')
                .then(|| digits(position + 4, 2))
                .flatten();
            let (Some(hours), Some(minutes)) = (hours, minutes) else {
                return Err(invalid("the UTC offset must be written ±hh:mm"));
            };
            if hours > 23 || minutes > 59 {
                return Err(invalid("the UTC offset is out of range"));
            }
            position += 6;
            let seconds = (hours * 3600 + minutes * 60) as i32;
            if *sign == b'-' { -seconds } else { seconds }
        }
        _ => return Err(invalid("the time must end with `Z` or a UTC offset")),
    };
    if position != bytes.len() {
        return Err(invalid("unexpected text after the UTC offset"));
    }
    let year = i64::from(year);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(invalid("the date does not exist"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(invalid("the time of day is out of range"));
    }
    let local =
        days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Ok(Timestamp {
        seconds: local - i64::from(offset),
        nanos,
        offset,
    })
}

/// The local date and time fields of a timestamp in its own offset.
struct Fields {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    weekday: usize,
}

fn fields(timestamp: &Timestamp) -> Fields {
    let local = timestamp.seconds + i64::from(timestamp.offset);
    let days = local.div_euclid(86_400);
    let seconds = local.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    Fields {
        year,
        month,
        day,
        hour: seconds / 3600,
        minute: seconds / 60 % 60,
        second: seconds % 60,
        // 1970-01-01 was a Thursday.
        weekday: (days + 4).rem_euclid(7) as usize,
    }
}

fn offset_text(offset: i32, colon: bool) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let minutes = offset.unsigned_abs() / 60;
    let separator = if colon { ":" } else { "" };
    format!("{sign}{:02}{separator}{:02}", minutes / 60, minutes % 60)
}

/// RFC 3339 without fractional seconds, as Go's `time.RFC3339` layout writes it.
fn rfc3339(timestamp: &Timestamp) -> String {
    let fields = fields(timestamp);
    let zone = if timestamp.offset == 0 {
        "Z".to_owned()
    } else {
        offset_text(timestamp.offset, true)
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
        fields.year, fields.month, fields.day, fields.hour, fields.minute, fields.second
    )
}

/// The RFC 3339 text of a civil date and time written at `offset` seconds east of UTC, when the
/// fields name a real time (YAML timestamps are normalized this way).
pub(super) fn rfc3339_of(
    (year, month, day): (i64, u32, u32),
    (hour, minute, second): (u32, u32, u32),
    offset: i32,
) -> Option<String> {
    let valid = (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour < 24
        && minute < 60
        && second < 60;
    valid.then(|| {
        let local = days_from_civil(year, month, day) * 86_400
            + i64::from(hour * 3600 + minute * 60 + second);
        rfc3339(&Timestamp {
            seconds: local - i64::from(offset),
            nanos: 0,
            offset,
        })
    })
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

pub(super) fn formatdate(args: &[Value], _: &Path) -> Result<Value, String> {
    let (spec, text) = (string(&args[0], "format")?, string(&args[1], "time")?);
    let timestamp = parse(&text)?;
    let fields = fields(&timestamp);
    let characters: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut position = 0;
    while position < characters.len() {
        let character = characters[position];
        if character == '\'' {
            if characters.get(position + 1) == Some(&'\'') {
                out.push('\'');
                position += 2;
                continue;
            }
            // A quoted literal; `''` inside it is one quote.
            position += 1;
            loop {
                match (characters.get(position), characters.get(position + 1)) {
                    (None, _) => return Err("unterminated literal quote in the format".to_owned()),
                    (Some('\''), Some('\'')) => {
                        out.push('\'');
                        position += 2;
                    }
                    (Some('\''), _) => {
                        position += 1;
                        break;
                    }
                    (Some(other), _) => {
                        out.push(*other);
                        position += 1;
                    }
                }
            }
            continue;
        }
        if !character.is_ascii_alphabetic() {
            out.push(character);
            position += 1;
            continue;
        }
        let run = characters[position..]
            .iter()
            .take_while(|c| **c == character)
            .count();
        position += run;
        let twelve = if fields.hour.is_multiple_of(12) {
            12
        } else {
            fields.hour % 12
        };
        let piece = match (character, run) {
            ('Y', 4) => format!("{:04}", fields.year),
            ('Y', 2) => format!("{:02}", fields.year.rem_euclid(100)),
            ('M', 4) => MONTHS[fields.month as usize - 1].to_owned(),
            ('M', 3) => MONTHS[fields.month as usize - 1][..3].to_owned(),
            ('M', 2) => format!("{:02}", fields.month),
            ('M', 1) => fields.month.to_string(),
            ('D', 2) => format!("{:02}", fields.day),
            ('D', 1) => fields.day.to_string(),
            ('E', 4) => WEEKDAYS[fields.weekday].to_owned(),
            ('E', 3) => WEEKDAYS[fields.weekday][..3].to_owned(),
            ('h', 2) => format!("{:02}", fields.hour),
            ('h', 1) => fields.hour.to_string(),
            ('H', 2) => format!("{twelve:02}"),
            ('H', 1) => twelve.to_string(),
            ('A', 2) => (if fields.hour < 12 { "AM" } else { "PM" }).to_owned(),
            ('a', 2) => (if fields.hour < 12 { "am" } else { "pm" }).to_owned(),
            ('m', 2) => format!("{:02}", fields.minute),
            ('m', 1) => fields.minute.to_string(),
            ('s', 2) => format!("{:02}", fields.second),
            ('s', 1) => fields.second.to_string(),
            ('Z', 5) => offset_text(timestamp.offset, true),
            ('Z', 4) => offset_text(timestamp.offset, false),
            ('Z', 3) if timestamp.offset == 0 => "UTC".to_owned(),
            ('Z', 3) => offset_text(timestamp.offset, false),
            ('Z', 1) if timestamp.offset == 0 => "Z".to_owned(),
            ('Z', 1) => offset_text(timestamp.offset, true),
            _ => {
                return Err(format!(
                    "invalid date format verb `{}`: use one of YYYY YY MMMM MMM MM M DD D EEEE EEE hh h HH H AA aa mm m ss s ZZZZZ ZZZZ ZZZ Z, and quote literal letters",
                    character.to_string().repeat(run)
                ));
            }
        };
        out.push_str(&piece);
    }
    Ok(Value::String(out))
}

/// Go's `time.ParseDuration`, in nanoseconds.
fn parse_duration(text: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration \"{text}\"");
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let whole_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let whole = &rest[..whole_end];
        rest = &rest[whole_end..];
        let mut fraction = "";
        if let Some(after) = rest.strip_prefix('.') {
            let end = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            fraction = &after[..end];
            rest = &after[end..];
        }
        if whole.is_empty() && fraction.is_empty() {
            return Err(invalid());
        }
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let nanos: i128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(format!("time: missing unit in duration \"{text}\"")),
            other => {
                return Err(format!(
                    "time: unknown unit \"{other}\" in duration \"{text}\""
                ));
            }
        };
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| invalid())?
        };
        let mut value = whole.checked_mul(nanos).ok_or_else(invalid)?;
        let mut scale = nanos;
        for digit in fraction.bytes() {
            if scale < 10 {
                break;
            }
            scale /= 10;
            value += i128::from(digit - b'0') * scale;
        }
        total = total
            .checked_add(value)
            .filter(|total| *total <= i128::from(i64::MAX))
            .ok_or_else(invalid)?;
    }
    Ok(if negative { -total } else { total })
}

pub(super) fn timeadd(args: &[Value], _: &Path) -> Result<Value, String> {
    let (text, duration) = (
        string(&args[0], "timestamp")?,
        string(&args[1], "duration")?,
    );
    let timestamp = parse(&text)?;
    let nanos = i128::from(timestamp.nanos) + parse_duration(&duration)?;
    let seconds = i128::from(timestamp.seconds) + nanos.div_euclid(1_000_000_000);
    let seconds =
        i64::try_from(seconds).map_err(|_| "the resulting time is out of range".to_owned())?;
    let result = Timestamp {
        seconds,
        nanos: nanos.rem_euclid(1_000_000_000) as u32,
        offset: timestamp.offset,
    };
    if !(0..=9999).contains(&fields(&result).year) {
        return Err("the resulting time is out of range".to_owned());
    }
    Ok(Value::String(rfc3339(&result)))
}

pub(super) fn timecmp(args: &[Value], _: &Path) -> Result<Value, String> {
    let left = parse(&string(&args[0], "timestamp_a")?)?;
    let right = parse(&string(&args[1], "timestamp_b")?)?;
    let ordering = (left.seconds, left.nanos).cmp(&(right.seconds, right.nanos));
    Ok(Value::from(ordering as i64))
}

/// Unknown while planning: Terraform takes the time when the plan is applied.
pub(super) fn timestamp(_: &[Value], _: &Path) -> Result<Value, String> {
    Ok(Value::Unknown)
}

pub(super) fn plantimestamp(_: &[Value], _: &Path) -> Result<Value, String> {
    static STARTED: OnceLock<String> = OnceLock::new();
    let text = STARTED.get_or_init(|| {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        rfc3339(&Timestamp {
            seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            nanos: since.subsec_nanos(),
            offset: 0,
        })
    });
    Ok(Value::String(text.clone()))
}

#[cfg(test)]
mod tests {
    use super::super::tests::run;
    use super::*;
    use pretty_assertions::assert_eq;

    #[track_caller]
    fn formatted(spec: &str, time: &str) -> String {
        match run("formatdate", vec![spec.into(), time.into()]) {
            Ok(Value::String(text)) => text,
            other => panic!("{spec}: {other:?}"),
        }
    }

    #[test]
    fn documented_examples() {
        assert_eq!(
            formatted("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z"),
            "02 Jan 2018 23:12 UTC"
        );
        assert_eq!(
            formatted("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z"),
            "Tuesday, 02-Jan-18 23:12:01 UTC"
        );
        assert_eq!(
            formatted("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00"),
            "Tue, 02 Jan 2018 23:12:01 -0800"
        );
        assert_eq!(
            formatted("MMM DD, YYYY", "2018-01-02T23:12:01Z"),
            "Jan 02, 2018"
        );
        assert_eq!(formatted("HH:mmaa", "2018-01-02T23:12:01Z"), "11:12pm");
        assert_eq!(formatted("h'h'mm", "2018-01-02T23:12:01-08:00"), "23h12");
        assert_eq!(
            formatted("H 'o''clock'", "2018-01-02T23:12:01-08:00"),
            "11 o'clock"
        );
        assert_eq!(
            run("timeadd", vec!["2024-08-16T12:45:05Z".into(), "10m".into()]),
            Ok("2024-08-16T12:55:05Z".into())
        );
        assert_eq!(
            run(
                "timeadd",
                vec!["2024-08-16T12:45:05Z".into(), "-10m".into()]
            ),
            Ok("2024-08-16T12:35:05Z".into())
        );
        let compare = |a: &str, b: &str| run("timecmp", vec![a.into(), b.into()]);
        assert_eq!(
            compare("2017-11-22T00:00:00Z", "2017-11-22T00:00:00Z"),
            Ok(0.into())
        );
        assert_eq!(
            compare("2017-11-22T00:00:00Z", "2017-11-22T01:00:00Z"),
            Ok((-1).into())
        );
        assert_eq!(
            compare("2017-11-22T01:00:00Z", "2017-11-22T00:00:00Z"),
            Ok(1.into())
        );
        assert_eq!(
            compare("2017-11-22T01:00:00Z", "2017-11-22T00:00:00-01:00"),
            Ok(0.into())
        );
    }

    #[test]
    fn calendar_and_zones() {
        assert_eq!(
            formatted("YYYY-MM-DD EEEE", "2000-02-29T00:00:00Z"),
            "2000-02-29 Tuesday"
        );
        assert_eq!(
            formatted("YYYY-M-D h:m:s Z ZZZZZ", "1969-12-31T23:59:59+05:30"),
            "1969-12-31 23:59:59 +05:30 +05:30"
        );
        assert_eq!(
            formatted("Z|ZZZZ|AA|H", "2020-05-01T00:30:00.5Z"),
            "Z|+0000|AM|12"
        );
        assert_eq!(formatted("MMMM", "2020-09-01T00:00:00Z"), "September");
        assert!(
            run(
                "formatdate",
                vec!["YYY".into(), "2020-09-01T00:00:00Z".into()]
            )
            .is_err()
        );
        assert!(
            run(
                "formatdate",
                vec!["x".into(), "2020-02-30T00:00:00Z".into()]
            )
            .is_err()
        );
        assert!(
            run("formatdate", vec!["x".into(), "2020-01-01".into()])
                .expect_err("no time")
                .starts_with("not a valid RFC3339 timestamp")
        );
        assert!(
            run(
                "formatdate",
                vec!["x".into(), "2020-01-01T00:00:60Z".into()]
            )
            .is_err()
        );
        assert_eq!(
            run(
                "timeadd",
                vec!["2017-11-22T00:00:00-08:00".into(), "1.5h".into()]
            ),
            Ok("2017-11-22T01:30:00-08:00".into())
        );
        assert_eq!(
            run(
                "timeadd",
                vec!["2017-12-31T23:59:59.9Z".into(), "100ms".into()]
            ),
            Ok("2018-01-01T00:00:00Z".into())
        );
        assert_eq!(
            run("timeadd", vec!["2017-11-22T00:00:00Z".into(), "1d".into()]),
            Err("time: unknown unit \"d\" in duration \"1d\"".to_owned())
        );
        assert_eq!(
            run("timeadd", vec!["2017-11-22T00:00:00Z".into(), "1".into()]),
            Err("time: missing unit in duration \"1\"".to_owned())
        );
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration("-2h5m"), Ok(-7_500_000_000_000));
        assert_eq!(parse_duration("1.5µs"), Ok(1_500));
        assert_eq!(parse_duration("0"), Ok(0));
        assert!(parse_duration("").is_err());
        assert!(parse_duration(".s").is_err());
        for days in [-800_000, -1, 0, 1, 59, 11_016, 2_932_896] {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
        }
    }

    #[test]
    fn run_time_functions() {
        assert_eq!(run("timestamp", vec![]), Ok(Value::Unknown));
        let first = run("plantimestamp", vec![]).expect("time");
        assert_eq!(run("plantimestamp", vec![]), Ok(first.clone()));
        assert!(parse(first.as_str().expect("string")).is_ok());
    }
}
