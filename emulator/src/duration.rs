//! ISO 8601 durations as the service reads them: `PnW`, or `PnDTnHnMnS` with any of the
//! components left out (`PT5M`, `PT1H30M`, `P1DT2H`, `PT0.5S`). Components come in that order,
//! each at most once; only the last may carry a fraction; `T` must be followed by a time
//! component. Years and months are refused: they have no fixed length. A value too large for a
//! [`Duration`] is refused too, never saturated. Compute idle times and job limits use it.

use std::time::Duration;

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// Parses an ISO 8601 duration; `None` when it is malformed or does not fit a [`Duration`].
pub(crate) fn parse(text: &str) -> Option<Duration> {
    let rest = text.strip_prefix(['P', 'p'])?;
    let (date, time) = match rest.find(['T', 't']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let mut components = Vec::new();
    read_components(date, &[('W', 604_800), ('D', 86_400)], &mut components)?;
    if let Some(time) = time {
        if time.is_empty() {
            return None;
        }
        read_components(time, &[('H', 3_600), ('M', 60), ('S', 1)], &mut components)?;
    }
    let (last, earlier) = components.split_last()?;
    let weeks_with_others = components.len() > 1 && components.iter().any(|part| part.weeks);
    if weeks_with_others || earlier.iter().any(|part| part.fraction) {
        return None;
    }
    let nanos = earlier
        .iter()
        .try_fold(last.nanos, |total, part| total.checked_add(part.nanos))?;
    let seconds = u64::try_from(nanos / NANOS_PER_SECOND).ok()?;
    let rest = u32::try_from(nanos % NANOS_PER_SECOND).ok()?;
    Some(Duration::new(seconds, rest))
}

/// One `<number><unit>` of a duration.
struct Component {
    nanos: u128,
    fraction: bool,
    weeks: bool,
}

/// Reads `<number><unit>` pairs whose units come from `units` in its order, each at most once.
fn read_components(
    mut text: &str,
    units: &[(char, u128)],
    components: &mut Vec<Component>,
) -> Option<()> {
    let mut next = 0;
    while !text.is_empty() {
        let end = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (number, tail) = text.split_at(end);
        let unit = tail.chars().next()?.to_ascii_uppercase();
        let index = next + units[next..].iter().position(|(name, _)| *name == unit)?;
        next = index + 1;
        components.push(component(number, units[index].1, unit == 'W')?);
        text = &tail[unit.len_utf8()..];
    }
    Some(())
}

fn component(number: &str, seconds_per_unit: u128, weeks: bool) -> Option<Component> {
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|fraction| !digits(fraction)) {
        return None;
    }
    let unit_nanos = seconds_per_unit * NANOS_PER_SECOND;
    let mut nanos = whole.parse::<u128>().ok()?.checked_mul(unit_nanos)?;
    if let Some(fraction) = fraction {
        // Nanosecond precision: further digits cannot change a `Duration`.
        let kept = &fraction[..fraction.len().min(9)];
        let scale = 10u128.pow(u32::try_from(9 - kept.len()).ok()?);
        let billionths = kept.parse::<u128>().ok()? * scale;
        nanos = nanos.checked_add(billionths * seconds_per_unit)?;
    }
    Some(Component {
        nanos,
        fraction: fraction.is_some(),
        weeks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_to_their_length() {
        assert_eq!(parse("PT5M"), Some(Duration::from_secs(300)));
        assert_eq!(parse("PT1H30M"), Some(Duration::from_secs(5400)));
        assert_eq!(parse("P1DT2S"), Some(Duration::from_secs(86_402)));
        assert_eq!(parse("PT0.5S"), Some(Duration::from_millis(500)));
        assert_eq!(parse("PT1.5H"), Some(Duration::from_secs(5400)));
        assert_eq!(parse("P1W"), Some(Duration::from_secs(604_800)));
        assert_eq!(parse("P3D"), Some(Duration::from_secs(259_200)));
        assert_eq!(parse("pt120s"), Some(Duration::from_secs(120)));
        assert_eq!(parse("PT0S"), Some(Duration::ZERO));
    }

    #[test]
    fn malformed_durations_are_refused() {
        for bad in [
            "",
            "P",
            "PT",
            "P1DT",
            "5M",
            "PT5",
            "P5M",
            "P1Y",
            "five minutes",
            "PT5M3H",
            "PT1M1M",
            "PT1.5M30S",
            "P1W2D",
            "PT.5S",
            "PT5.S",
            "PT1.2.3S",
            "PT-5M",
            "PT5M ",
            "PT5é",
            "PT1e3S",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn durations_too_long_for_a_duration_are_refused_not_saturated() {
        assert_eq!(parse("PT99999999999999999999999999999H"), None);
        assert_eq!(parse(&format!("PT{}S", "9".repeat(100))), None);
        assert_eq!(
            parse("PT18446744073709551615S"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(parse("PT18446744073709551616S"), None);
    }
}
