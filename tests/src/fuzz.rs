//! A small mutation fuzzer on stable Rust, for the targets in `tests/it/fuzz.rs`: inputs are
//! seeds (real files and bodies) mutated byte-wise and with a dictionary of the format's tokens;
//! each input runs under `catch_unwind`, so a panic is recorded (with the input, written to
//! `target/fuzz/<target>/`) instead of stopping the run. Deterministic for one seed, so a
//! failure found in CI repeats on any machine.
//!
//! `FUZZ_ITERATIONS` (default [`DEFAULT_ITERATIONS`]) and `FUZZ_SEED` set the run;
//! `scripts/fuzz` runs long ones in release mode.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Inputs per target in the test suite (a bounded run; `scripts/fuzz` runs more).
pub const DEFAULT_ITERATIONS: u64 = 1500;

/// Tokens that often matter to parsers: numbers at type limits, escapes, nesting.
const COMMON: &[&str] = &[
    "0",
    "-1",
    "1.5",
    "1e308",
    "-1e308",
    "1e-320",
    "NaN",
    "18446744073709551616",
    "9223372036854775808",
    "2147483648",
    "99999999999999999999999",
    "\"\"",
    "\\u0000",
    "\\\"",
    "\u{feff}",
    "é",
    "\u{1F600}",
    "\n",
    "\r\n",
    "\t",
    "null",
    "true",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
];

/// A xorshift64* generator: fast, deterministic, good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced, xorshift needs a non-zero state).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            0
        } else {
            (self.next_u64() % bound as u64) as usize
        }
    }
}

/// What one target's run found.
#[derive(Debug, Default)]
pub struct Report {
    /// Inputs run.
    pub inputs: u64,
    /// Inputs the target accepted (returned `true`).
    pub accepted: u64,
    /// Panics: the message and the file the input was written to.
    pub panics: Vec<(String, PathBuf)>,
    /// The longest time one input took.
    pub slowest: Duration,
    /// The whole run.
    pub elapsed: Duration,
}

impl Report {
    /// One line for the test output and the benchmark notes.
    pub fn summary(&self, target: &str) -> String {
        format!(
            "fuzz {target}: {} inputs ({} accepted), {} panics, slowest input {:.1} ms, {:.2} s in all",
            self.inputs,
            self.accepted,
            self.panics.len(),
            self.slowest.as_secs_f64() * 1000.0,
            self.elapsed.as_secs_f64()
        )
    }
}

/// Mutates seeds and runs `target` on each input (`target` returns whether the input was
/// accepted, for the report). Panics are caught and recorded; the first 20 inputs that panic
/// are written under `target/fuzz/<name>/`.
pub fn run(
    name: &str,
    seeds: &[Vec<u8>],
    dictionary: &[&str],
    mut target: impl FnMut(&[u8]) -> bool,
) -> Report {
    assert!(!seeds.is_empty(), "fuzz target `{name}` has no seeds");
    let iterations = std::env::var("FUZZ_ITERATIONS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_ITERATIONS);
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(0x5eed);
    let mut rng = Rng::new(
        seed ^ name
            .bytes()
            .fold(0u64, |h, b| h.rotate_left(5) ^ u64::from(b)),
    );
    let tokens: Vec<&[u8]> = dictionary
        .iter()
        .chain(COMMON)
        .map(|token| token.as_bytes())
        .collect();
    let started = Instant::now();
    let mut report = Report::default();
    for iteration in 0..iterations {
        let base = &seeds[rng.below(seeds.len())];
        // Every seed as it is first, then mutations of 1 to 8 steps.
        let input = if (iteration as usize) < seeds.len() {
            seeds[iteration as usize].clone()
        } else {
            let steps = 1 + rng.below(8);
            let mut input = base.clone();
            for _ in 0..steps {
                mutate(&mut input, &mut rng, &tokens, seeds);
            }
            input
        };
        let one = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| target(&input)));
        report.slowest = report.slowest.max(one.elapsed());
        report.inputs += 1;
        match outcome {
            Ok(true) => report.accepted += 1,
            Ok(false) => {}
            Err(payload) => {
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| {
                        payload
                            .downcast_ref::<&str>()
                            .map(|text| (*text).to_owned())
                    })
                    .unwrap_or_else(|| "a panic without a message".to_owned());
                let path = failure_path(name, report.panics.len());
                if report.panics.len() < 20 {
                    let _ = std::fs::create_dir_all(path.parent().expect("a folder"));
                    let _ = std::fs::write(&path, &input);
                }
                report.panics.push((message, path));
            }
        }
    }
    report.elapsed = started.elapsed();
    report
}

fn failure_path(name: &str, index: usize) -> PathBuf {
    crate::workspace_root()
        .join("target/fuzz")
        .join(name)
        .join(format!("panic-{index}"))
}

/// One mutation step.
fn mutate(input: &mut Vec<u8>, rng: &mut Rng, tokens: &[&[u8]], seeds: &[Vec<u8>]) {
    let length = input.len();
    match rng.below(9) {
        0 if length > 0 => {
            let at = rng.below(length);
            input[at] ^= 1 << rng.below(8);
        }
        1 if length > 0 => {
            let at = rng.below(length);
            input[at] = [0, 0x7f, 0x80, 0xff, b'"', b'\\', b'{', b'$'][rng.below(8)];
        }
        2 if length > 0 => {
            let start = rng.below(length);
            let end = (start + 1 + rng.below(32)).min(length);
            input.drain(start..end);
        }
        3 if length > 0 => {
            // Repeat a slice: deep nesting and long values.
            let start = rng.below(length);
            let end = (start + 1 + rng.below(64)).min(length);
            let slice = input[start..end].to_vec();
            let most = if rng.below(8) == 0 { 200 } else { 4 };
            let times = 1 + rng.below(most);
            for _ in 0..times {
                input.splice(end..end, slice.iter().copied());
            }
        }
        4 | 5 => {
            let at = rng.below(length + 1);
            let token = tokens[rng.below(tokens.len())];
            input.splice(at..at, token.iter().copied());
        }
        6 if length > 0 => {
            // Replace a run of digits with another number.
            let at = rng.below(length);
            let start = (0..=at)
                .rev()
                .take_while(|&index| input[index].is_ascii_digit())
                .last()
                .unwrap_or(at);
            let end = (at..length)
                .take_while(|&index| input[index].is_ascii_digit())
                .last()
                .map_or(at, |index| index + 1);
            let token = COMMON[rng.below(12)].as_bytes();
            input.splice(start..end.max(start), token.iter().copied());
        }
        7 => {
            // Splice in part of another seed.
            let other = &seeds[rng.below(seeds.len())];
            if !other.is_empty() {
                let start = rng.below(other.len());
                let end = (start + 1 + rng.below(128)).min(other.len());
                let at = rng.below(length + 1);
                input.splice(at..at, other[start..end].iter().copied());
            }
        }
        _ => {
            let keep = rng.below(length + 1);
            input.truncate(keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_deterministic_and_panics_are_caught() {
        let seeds = vec![b"{\"a\": [1, 2]}".to_vec()];
        let mut first = Vec::new();
        let report = run("self-test", &seeds, &["\"b\""], |input| {
            first.push(input.to_vec());
            true
        });
        let mut second = Vec::new();
        run("self-test", &seeds, &["\"b\""], |input| {
            second.push(input.to_vec());
            true
        });
        assert_eq!(first, second);
        assert_eq!(report.inputs, report.accepted);
        assert!(
            first.iter().any(|input| input != &seeds[0]),
            "inputs are mutated"
        );

        let report = run("self-test-panics", &seeds, &[], |input| {
            assert!(input.len() != seeds[0].len() - 1, "a planted bug");
            false
        });
        assert!(!report.panics.is_empty(), "a planted panic is found");
        assert!(report.panics[0].0.contains("a planted bug"));
    }
}
