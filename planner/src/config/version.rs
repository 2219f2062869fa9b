//! Version constraints as Terraform reads them (`required_version`, a provider requirement's
//! `version`): a comma-separated list of `OP VERSION`, every one of which must hold. Pure.
//!
//! | operator      | holds when the version is                                            |
//! |---------------|----------------------------------------------------------------------|
//! | `=` (or none) | equal (missing segments are 0: `1.2` is `1.2.0`)                     |
//! | `!=`          | not equal                                                            |
//! | `>` `>=` `<` `<=` | greater, at least, less, at most                                 |
//! | `~>`          | at least, with every segment but the last one written equal (`~> 1.2` is `>= 1.2, < 2.0`; `~> 1.2.3` is `>= 1.2.3, < 1.3.0`) |
//!
//! A pre-release version (`1.12.0-beta1`) satisfies a constraint only when the constraint names
//! a pre-release of the same `major.minor.patch`, as in Terraform.

use std::cmp::Ordering;
use std::fmt;

/// The Terraform language version amlplan implements (a literal, for `concat!`): the one whose
/// rules it follows (write-only arguments, as 1.11), and that `required_version` is checked
/// against. Language features it does not support yet are refused by their own errors.
#[macro_export]
macro_rules! language_version {
    () => {
        "1.11.4"
    };
}

/// [`language_version!`] as a constant.
pub const LANGUAGE_VERSION: &str = language_version!();

/// The version of amlplan and of its built-in `azureml` provider.
pub const AMLPLAN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What `amlplan --version` prints after the name.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (Terraform language ",
    language_version!(),
    ")"
);

/// A version: `major.minor.patch` and an optional pre-release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    segments: [u64; 3],
    /// How many segments were written (1 to 3).
    written: usize,
    pre_release: Option<String>,
}

impl Version {
    /// Parses `1`, `1.2`, `1.2.3`, `1.2.3-beta1` (a `v` prefix and `+build` metadata are
    /// accepted and ignored, as Terraform does).
    pub fn parse(text: &str) -> Result<Version, String> {
        let text = text.trim();
        let trimmed = text;
        let trimmed = trimmed.strip_prefix('v').unwrap_or(trimmed);
        let trimmed = trimmed
            .split_once('+')
            .map_or(trimmed, |(version, _)| version);
        let (numbers, pre_release) = match trimmed.split_once('-') {
            Some((numbers, pre)) if !pre.is_empty() => (numbers, Some(pre.to_owned())),
            Some(_) => return Err(format!("`{text}` has an empty pre-release")),
            None => (trimmed, None),
        };
        let parts: Vec<&str> = numbers.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(format!(
                "`{text}` is not a version (write MAJOR.MINOR.PATCH, as `1.5.0`)"
            ));
        }
        let mut segments = [0u64; 3];
        for (index, part) in parts.iter().enumerate() {
            if part.is_empty() || !part.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(format!(
                    "`{text}` is not a version (write MAJOR.MINOR.PATCH, as `1.5.0`)"
                ));
            }
            segments[index] = part
                .parse()
                .map_err(|_| format!("`{text}` has a segment too large to be a version"))?;
        }
        Ok(Version {
            segments,
            written: parts.len(),
            pre_release,
        })
    }

    fn compare(&self, other: &Version) -> Ordering {
        self.segments.cmp(&other.segments).then_with(|| {
            match (&self.pre_release, &other.pre_release) {
                (None, None) => Ordering::Equal,
                // A pre-release comes before its release.
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(mine), Some(theirs)) => compare_pre_release(mine, theirs),
            }
        })
    }
}

/// Dot-separated identifiers: numeric ones by value and before alphanumeric ones (semver).
fn compare_pre_release(mine: &str, theirs: &str) -> Ordering {
    let mut left = mine.split('.');
    let mut right = theirs.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(a), Some(b)) => {
                let order = match (a.parse::<u64>(), b.parse::<u64>()) {
                    (Ok(a), Ok(b)) => a.cmp(&b),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => a.cmp(b),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [major, minor, patch] = self.segments;
        write!(f, "{major}.{minor}.{patch}")?;
        if let Some(pre) = &self.pre_release {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    Pessimistic,
}

/// One `OP VERSION`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Constraint {
    operator: Operator,
    version: Version,
}

impl Constraint {
    fn allows(&self, version: &Version) -> bool {
        // A pre-release is only compared with a pre-release constraint of the same release.
        if version.pre_release.is_some()
            && (self.version.pre_release.is_none() || self.version.segments != version.segments)
        {
            return false;
        }
        let order = version.compare(&self.version);
        match self.operator {
            Operator::Equal => order == Ordering::Equal,
            Operator::NotEqual => order != Ordering::Equal,
            Operator::Greater => order == Ordering::Greater,
            Operator::GreaterOrEqual => order != Ordering::Less,
            Operator::Less => order == Ordering::Less,
            Operator::LessOrEqual => order != Ordering::Greater,
            Operator::Pessimistic => {
                let fixed = self.version.written.saturating_sub(1).max(1);
                order != Ordering::Less
                    && version.segments[..fixed] == self.version.segments[..fixed]
            }
        }
    }
}

/// A whole constraint string: every part must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraints {
    parts: Vec<Constraint>,
}

impl Constraints {
    /// Parses `">= 1.3, < 2.0"`; the error says which part is wrong.
    ///
    /// ```
    /// use planner::config::version::{Constraints, Version};
    /// let constraints = Constraints::parse("~> 1.5").unwrap();
    /// assert!(constraints.allows(&Version::parse("1.11.4").unwrap()));
    /// assert!(!constraints.allows(&Version::parse("2.0.0").unwrap()));
    /// assert!(Constraints::parse(">= one").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Constraints, String> {
        let mut parts = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!(
                    "`{text}` has an empty constraint (write `>= 1.5` or `>= 1.5, < 2.0`)"
                ));
            }
            let (operator, rest) = [
                ("~>", Operator::Pessimistic),
                (">=", Operator::GreaterOrEqual),
                ("<=", Operator::LessOrEqual),
                ("!=", Operator::NotEqual),
                (">", Operator::Greater),
                ("<", Operator::Less),
                ("=", Operator::Equal),
            ]
            .into_iter()
            .find_map(|(symbol, operator)| part.strip_prefix(symbol).map(|rest| (operator, rest)))
            .unwrap_or((Operator::Equal, part));
            let version = Version::parse(rest).map_err(|reason| {
                format!("{reason}; operators are `=`, `!=`, `>`, `>=`, `<`, `<=` and `~>`")
            })?;
            parts.push(Constraint { operator, version });
        }
        Ok(Constraints { parts })
    }

    /// Whether `version` meets every part.
    pub fn allows(&self, version: &Version) -> bool {
        self.parts.iter().all(|part| part.allows(version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(constraint: &str, version: &str) -> bool {
        Constraints::parse(constraint)
            .unwrap_or_else(|error| panic!("{constraint}: {error}"))
            .allows(&Version::parse(version).expect("a version"))
    }

    #[test]
    fn operators_hold_as_terraform_reads_them() {
        let cases = [
            (">= 1.0", "1.11.4", true),
            (">= 99.0", "1.11.4", false),
            ("1.11.4", "1.11.4", true),
            ("= 1.11", "1.11.0", true),
            ("= 1.11", "1.11.4", false),
            ("!= 1.11.4", "1.11.4", false),
            ("> 1.11.4", "1.11.4", false),
            ("< 1.12", "1.11.4", true),
            ("<= 1.11.4", "1.11.4", true),
            (">= 1.3, < 2.0", "1.11.4", true),
            (">= 1.3, < 1.5", "1.11.4", false),
            ("~> 1.5", "1.11.4", true),
            ("~> 1.5", "2.0.0", false),
            ("~> 1.11.0", "1.11.4", true),
            ("~> 1.10.0", "1.11.4", false),
            ("~> 1", "1.11.4", true),
            ("~> 1", "2.0.0", false),
            ("~>1.2.3", "1.2.9", true),
            ("v1.11.4", "1.11.4", true),
            (">= 1.11.0-beta1", "1.11.0-rc1", true),
            (">= 1.0", "1.12.0-beta1", false),
            (">= 1.12.0-alpha1", "1.12.0-beta1", true),
            ("< 1.12.0", "1.12.0-beta1", false),
        ];
        for (constraint, version, expected) in cases {
            assert_eq!(
                allows(constraint, version),
                expected,
                "{constraint} / {version}"
            );
        }
    }

    #[test]
    fn malformed_constraints_say_what_is_wrong() {
        for (text, reason) in [
            (">= one", "`one` is not a version"),
            (">= 1.0,", "has an empty constraint"),
            ("1.2.3.4", "is not a version"),
            ("=> 1.0", "is not a version"),
            ("1.0-", "has an empty pre-release"),
            ("99999999999999999999999", "too large"),
        ] {
            let error = Constraints::parse(text).expect_err(text);
            assert!(error.contains(reason), "{text}: {error}");
        }
        Version::parse(LANGUAGE_VERSION).expect("the language version parses");
    }
}
