//! ISO 8601 durations as the ARM API spells them (`PT5M`, `PT120S`, `P1DT12H`, `P3D`): parsed to
//! compare them with a catalogue's bounds. Years and months have no fixed length; for bounds
//! they count as 365 and 30 days, which is how the service's own range checks read them.

use std::fmt;

/// A parsed ISO 8601 duration: the text as written and its length in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct IsoDuration {
    text: String,
    seconds: f64,
}

impl IsoDuration {
    /// Parses `P[nY][nM][nW][nD][T[nH][nM][nS]]` (a fraction is allowed on the last number, with
    /// `.` or `,`); at least one part, and a `T` is followed by at least one time part.
    ///
    /// ```
    /// use model::schema::duration::IsoDuration;
    /// assert_eq!(IsoDuration::parse("PT5M").unwrap().seconds(), 300.0);
    /// assert_eq!(IsoDuration::parse("P1DT0.5S").unwrap().seconds(), 86_400.5);
    /// assert!(IsoDuration::parse("five minutes").is_err());
    /// assert!(IsoDuration::parse("PT").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<IsoDuration, DurationError> {
        let invalid = || DurationError(text.to_owned());
        let rest = text.strip_prefix('P').ok_or_else(invalid)?;
        let (date, time) = match rest.split_once('T') {
            Some((_, "")) => return Err(invalid()),
            Some((date, time)) => (date, Some(time)),
            None => (rest, None),
        };
        let mut seconds = 0.0;
        let mut parts = 0;
        let mut fraction_seen = false;
        for (section, units) in [
            (date, &DATE_UNITS[..]),
            (time.unwrap_or(""), &TIME_UNITS[..]),
        ] {
            let mut remaining = section;
            let mut next_unit = 0;
            while !remaining.is_empty() {
                if fraction_seen {
                    // Only the smallest part given may carry a fraction.
                    return Err(invalid());
                }
                let digits = remaining
                    .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
                    .ok_or_else(invalid)?;
                let (number, tail) = remaining.split_at(digits);
                let designator = tail.chars().next().ok_or_else(invalid)?;
                let position = units[next_unit..]
                    .iter()
                    .position(|(unit, _)| *unit == designator)
                    .ok_or_else(invalid)?;
                next_unit += position + 1;
                let number = number.replace(',', ".");
                if number.is_empty()
                    || number.starts_with('.')
                    || number.ends_with('.')
                    || number.len() > 20
                {
                    return Err(invalid());
                }
                fraction_seen = number.contains('.');
                let value: f64 = number.parse().map_err(|_| invalid())?;
                seconds += value * units[next_unit - 1].1;
                parts += 1;
                remaining = &tail[designator.len_utf8()..];
            }
        }
        if parts == 0 {
            return Err(invalid());
        }
        Ok(IsoDuration {
            text: text.to_owned(),
            seconds,
        })
    }

    /// The length in seconds (years as 365 days, months as 30).
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// The length in words, largest units first: `15 minutes`, `3 days`, `1 hour 30 minutes`.
    ///
    /// ```
    /// use model::schema::duration::IsoDuration;
    /// assert_eq!(IsoDuration::parse("PT90M").unwrap().in_words(), "1 hour 30 minutes");
    /// assert_eq!(IsoDuration::parse("P3D").unwrap().in_words(), "3 days");
    /// ```
    pub fn in_words(&self) -> String {
        let mut left = self.seconds.round() as u64;
        let mut words = Vec::new();
        for (name, length) in [
            ("day", 86_400),
            ("hour", 3_600),
            ("minute", 60),
            ("second", 1),
        ] {
            let count = left / length;
            left %= length;
            if count > 0 {
                words.push(format!(
                    "{count} {name}{}",
                    if count == 1 { "" } else { "s" }
                ));
            }
        }
        if words.is_empty() {
            "0 seconds".to_owned()
        } else {
            words.join(" ")
        }
    }
}

impl fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Text that is not an ISO 8601 duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ISO 8601 duration")]
pub struct DurationError(pub String);

const DAY: f64 = 86_400.0;
const DATE_UNITS: [(char, f64); 4] = [
    ('Y', 365.0 * DAY),
    ('M', 30.0 * DAY),
    ('W', 7.0 * DAY),
    ('D', DAY),
];
const TIME_UNITS: [(char, f64); 3] = [('H', 3_600.0), ('M', 60.0), ('S', 1.0)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_the_api_uses_parse() {
        for (text, seconds) in [
            ("PT120S", 120.0),
            ("PT5M", 300.0),
            ("PT15M", 900.0),
            ("P3D", 259_200.0),
            ("P1DT12H", 129_600.0),
            ("PT1H30M", 5_400.0),
            ("P1W", 604_800.0),
            ("PT0.5S", 0.5),
            ("PT1,5S", 1.5),
            ("P1Y", 31_536_000.0),
            ("PT0S", 0.0),
        ] {
            let parsed = IsoDuration::parse(text).unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(parsed.seconds(), seconds, "{text}");
            assert_eq!(parsed.to_string(), text);
        }
    }

    #[test]
    fn malformed_durations_are_refused() {
        for text in [
            "",
            "P",
            "PT",
            "5M",
            "five minutes",
            "PT5",
            "PTM",
            "P5H",
            "PT5D",
            "PT5M5H",
            "P1D1D",
            "PT1.5M30S",
            "PT.5S",
            "PT5.S",
            "pt5m",
            "PT-5M",
            "PT5M ",
            " PT5M",
            "P1DT",
            "PT5MX",
            "PT123456789012345678901S",
        ] {
            assert!(
                IsoDuration::parse(text).is_err(),
                "{text:?} should be refused"
            );
        }
    }
}
