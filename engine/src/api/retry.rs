//! When to retry a failed ARM call and how long to wait: exponential backoff with full jitter,
//! `Retry-After` honoured, a bounded number of attempts. Pure (the caller sleeps and sends).
//!
//! | outcome | idempotent call (GET, PUT, PATCH, DELETE, poll, listKeys/listNodes) | other POST (start/stop/restart) |
//! |---|---|---|
//! | 429 | retry, waiting `Retry-After` when given | retry (a throttled request was not processed) |
//! | 500, 502, 503, 504, 408 | retry with backoff | fail |
//! | connection error, timeout, body cut off | retry with backoff | fail |
//! | anything else | fail | fail |
//!
//! PATCH counts as idempotent here because our PATCH bodies only set absolute values
//! (`scaleSettings`, workspace properties): sending one twice has the effect of sending it once.

use std::time::Duration;

/// How often and how long to retry transient failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// The largest backoff ceiling.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts, 500 ms doubling up to 30 s: rides out about a minute of throttling.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// The longest `Retry-After` we wait for; a larger value is clipped (a misbehaving server must
/// not park a run for hours).
pub const RETRY_AFTER_CEILING: Duration = Duration::from_secs(300);

/// Whether a call may be repeated after a failure of unknown effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Repeating it has the effect of doing it once: every transient failure is retried.
    Idempotent,
    /// A state-changing POST: only a 429 (not processed) is retried.
    NotIdempotent,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 = the first retry): `Retry-After` when the
    /// server sent one (clipped to [`RETRY_AFTER_CEILING`]), else a uniformly random duration in
    /// `[0, min(max_delay, base_delay * 2^(retry-1)))` ("full jitter"). `random` is a sample of
    /// `[0, 1)`, passed in so the computation is testable.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = engine::api::RetryPolicy { max_attempts: 5, base_delay: Duration::from_secs(1), max_delay: Duration::from_secs(8) };
    /// assert_eq!(policy.delay(3, None, 0.5), Duration::from_secs(2)); // half of 4 s
    /// assert_eq!(policy.delay(10, None, 0.5), Duration::from_secs(4)); // half of the 8 s cap
    /// assert_eq!(policy.delay(1, Some(Duration::from_secs(7)), 0.0), Duration::from_secs(7));
    /// ```
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, random: f64) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(RETRY_AFTER_CEILING);
        }
        let exponent = retry.saturating_sub(1).min(30);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        ceiling.mul_f64(random.clamp(0.0, 1.0))
    }

    /// Whether attempt number `attempt` (1-based) may be followed by another.
    pub fn may_retry(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }
}

/// Whether an HTTP status is worth another attempt for a call of this idempotency.
///
/// ```
/// use engine::api::retry::{retryable_status, Idempotency};
/// assert!(retryable_status(429, Idempotency::NotIdempotent));
/// assert!(retryable_status(503, Idempotency::Idempotent));
/// assert!(!retryable_status(503, Idempotency::NotIdempotent));
/// assert!(!retryable_status(409, Idempotency::Idempotent));
/// ```
pub fn retryable_status(status: u16, idempotency: Idempotency) -> bool {
    match status {
        429 => true,
        408 | 500 | 502 | 503 | 504 => idempotency == Idempotency::Idempotent,
        _ => false,
    }
}

/// The server's requested wait: `retry-after-ms` / `x-ms-retry-after-ms` (milliseconds) or
/// `Retry-After` (whole seconds). `lookup` returns a header's value by lower-case name.
/// A `Retry-After` of 0 counts as absent, as `azure-core` treats it.
///
/// ```
/// use std::time::Duration;
/// use engine::api::retry::retry_after;
/// let headers = |name: &str| (name == "retry-after").then(|| "3".to_owned());
/// assert_eq!(retry_after(headers), Some(Duration::from_secs(3)));
/// assert_eq!(retry_after(|_| None), None);
/// ```
pub fn retry_after(lookup: impl Fn(&str) -> Option<String>) -> Option<Duration> {
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(millis) = lookup(name).and_then(|value| value.trim().parse::<u64>().ok())
            && millis > 0
        {
            return Some(Duration::from_millis(millis));
        }
    }
    lookup("retry-after")
        .and_then(|value| value.trim().parse::<u64>().ok())
        .filter(|seconds| *seconds > 0)
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        }
    }

    #[test]
    fn jitter_stays_below_the_exponential_ceiling() {
        let policy = policy();
        for retry in 1..=12 {
            let ceiling = Duration::from_millis(100 * (1u64 << (retry - 1).min(20)))
                .min(Duration::from_secs(1));
            for sample in [0.0, 0.25, 0.5, 0.999_999] {
                let delay = policy.delay(retry, None, sample);
                assert!(delay < ceiling, "retry {retry}: {delay:?} vs {ceiling:?}");
            }
            assert_eq!(policy.delay(retry, None, 0.0), Duration::ZERO);
        }
        // Out-of-range samples are clamped, never above the ceiling.
        assert_eq!(policy.delay(1, None, 7.0), Duration::from_millis(100));
        assert_eq!(policy.delay(40, None, 1.0), Duration::from_secs(1));
    }

    #[test]
    fn retry_after_is_honoured_and_clipped() {
        let policy = policy();
        // Honoured even beyond max_delay: the server knows when it will accept us again.
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(5)), 0.9),
            Duration::from_secs(5)
        );
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(86_400)), 0.9),
            RETRY_AFTER_CEILING
        );
    }

    #[test]
    fn attempts_are_bounded() {
        let policy = policy();
        assert!(policy.may_retry(1));
        assert!(policy.may_retry(3));
        assert!(!policy.may_retry(4));
        let never = RetryPolicy {
            max_attempts: 1,
            ..policy
        };
        assert!(!never.may_retry(1));
    }

    #[test]
    fn retry_after_headers_are_parsed() {
        let headers = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        assert_eq!(
            retry_after(headers(&[("retry-after", " 2 ")])),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_after(headers(&[("retry-after", "0")])), None);
        assert_eq!(retry_after(headers(&[("retry-after", "soon")])), None);
        assert_eq!(
            retry_after(headers(&[("retry-after", "9"), ("retry-after-ms", "250")])),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(headers(&[("x-ms-retry-after-ms", "40")])),
            Some(Duration::from_millis(40))
        );
    }

    #[test]
    fn statuses_are_classified() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(
                retryable_status(status, Idempotency::Idempotent),
                "{status}"
            );
        }
        for status in [200, 201, 202, 400, 401, 403, 404, 409, 501] {
            assert!(
                !retryable_status(status, Idempotency::Idempotent),
                "{status}"
            );
        }
        assert!(retryable_status(429, Idempotency::NotIdempotent));
        assert!(!retryable_status(500, Idempotency::NotIdempotent));
    }
}
