//! Fault injection for reliability tests: with rate `r`, each ARM request is answered, before it
//! does anything, with 429 (`Retry-After: 1`), 500 or 503 (`Retry-After: 1`), chosen evenly.
//! `latency` delays every ARM request. A seed makes the sequence reproducible.

use std::sync::Mutex;

use axum::http::{StatusCode, header};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::FaultConfig;
use crate::arm::ArmError;

/// The fault generator.
pub(crate) struct Faults {
    config: FaultConfig,
    random: Mutex<StdRng>,
}

impl Faults {
    pub(crate) fn new(config: FaultConfig) -> Faults {
        let random = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        Faults {
            config,
            random: Mutex::new(random),
        }
    }

    /// Waits the configured latency, then decides whether this request fails.
    pub(crate) async fn next(&self) -> Option<ArmError> {
        if let Some(latency) = self.config.latency {
            tokio::time::sleep(latency).await;
        }
        self.draw()
    }

    fn draw(&self) -> Option<ArmError> {
        if self.config.rate <= 0.0 {
            return None;
        }
        let mut random = self.random.lock().ok()?;
        if random.random::<f64>() >= self.config.rate {
            return None;
        }
        Some(match random.random_range(0..3) {
            0 => ArmError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "injected fault: too many requests, retry later",
            )
            .with_header(header::RETRY_AFTER, "1"),
            1 => ArmError::internal("injected fault: internal server error"),
            _ => ArmError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "injected fault: service unavailable, retry later",
            )
            .with_header(header::RETRY_AFTER, "1"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(seed: u64) -> Vec<Option<u16>> {
        let faults = Faults::new(FaultConfig {
            rate: 0.5,
            latency: None,
            seed: Some(seed),
        });
        (0..50)
            .map(|_| faults.draw().map(|error| error.status.as_u16()))
            .collect()
    }

    #[test]
    fn a_seed_makes_faults_reproducible() {
        assert_eq!(outcomes(7), outcomes(7));
        let failed = outcomes(7)
            .iter()
            .filter(|outcome| outcome.is_some())
            .count();
        assert!((10..=40).contains(&failed), "{failed} of 50 at rate 0.5");
    }

    #[test]
    fn rate_zero_never_fails() {
        let faults = Faults::new(FaultConfig::default());
        assert!((0..100).all(|_| faults.draw().is_none()));
    }
}
