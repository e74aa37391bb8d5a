//! `Money`: whole units of a guild's currency as a checked i64. Parsing user input lives here,
//! so every door (slash command, JSON, CLI) refuses the same bad amounts with the same words.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::DomainError;

/// The largest amount any single operation may move. Far below i64::MAX so that sums of a few
/// amounts cannot overflow before the checked arithmetic even runs.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// An amount of currency. Balances are never negative; ledger deltas can be.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
#[schema(value_type = i64)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn new(v: i64) -> Money {
        Money(v)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// Parses what a user typed: `1500`, `1,500`, `1_500`, `+1500`, `1.5k`, `2m`.
    /// Refuses empty, negative, zero and fractional amounts and anything above `max`.
    pub fn parse(input: &str, max: i64) -> Result<Money, DomainError> {
        let raw = input.trim();
        // The input is echoed back: a cut copy, so no reply grows past Discord's limits.
        let bad = || {
            let shown = super::embed::truncate_chars(raw, 40);
            DomainError::InvalidAmount(format!("`{shown}` is not a whole number of coins"))
        };
        if raw.is_empty() {
            return Err(DomainError::InvalidAmount("enter an amount".into()));
        }
        let cleaned: String = raw.chars().filter(|c| *c != ',' && *c != '_').collect();
        let cleaned = cleaned
            .strip_prefix('+')
            .unwrap_or(&cleaned)
            .to_ascii_lowercase();
        if cleaned.starts_with('-') {
            return Err(DomainError::InvalidAmount(
                "the amount must be more than 0".into(),
            ));
        }
        let (number, multiplier) = match cleaned.chars().last() {
            Some('k') => (&cleaned[..cleaned.len() - 1], 1_000i128),
            Some('m') => (&cleaned[..cleaned.len() - 1], 1_000_000i128),
            Some('b') => (&cleaned[..cleaned.len() - 1], 1_000_000_000i128),
            _ => (cleaned.as_str(), 1i128),
        };
        let value: i128 = match number.split_once('.') {
            None => number.parse::<i128>().map_err(|_| bad())? * multiplier,
            Some((whole, frac)) if multiplier > 1 && !frac.is_empty() && frac.len() <= 9 => {
                let whole: i128 = if whole.is_empty() {
                    0
                } else {
                    whole.parse().map_err(|_| bad())?
                };
                if !frac.chars().all(|c| c.is_ascii_digit()) {
                    return Err(bad());
                }
                let scale = 10i128.pow(frac.len() as u32);
                let frac: i128 = frac.parse().map_err(|_| bad())?;
                let total = whole * multiplier * scale + frac * multiplier;
                if total % scale != 0 {
                    return Err(bad());
                }
                total / scale
            }
            Some(_) => return Err(bad()),
        };
        Money::positive(i64::try_from(value).unwrap_or(i64::MAX), max)
    }

    /// The checked constructor for a number (a JSON integer, a Discord integer option): must be
    /// in `1..=max`, refused with the same words as `parse`.
    pub fn positive(value: i64, max: i64) -> Result<Money, DomainError> {
        if value <= 0 {
            return Err(DomainError::InvalidAmount(
                "the amount must be more than 0".into(),
            ));
        }
        if value > max {
            return Err(DomainError::InvalidAmount(format!(
                "the amount can be at most {}",
                group_thousands(max)
            )));
        }
        Ok(Money(value))
    }

    /// A number that may be zero (a balance to set, a starting balance): `0..=max`.
    pub fn non_negative(value: i64, max: i64) -> Result<Money, DomainError> {
        if value == 0 {
            Ok(Money(0))
        } else {
            Money::positive(value, max)
        }
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    pub fn checked_neg(self) -> Option<Money> {
        self.0.checked_neg().map(Money)
    }

    /// `percent`% of self, rounded down; exact for every i64 (computed in i128).
    pub fn percent(self, percent: u32) -> Money {
        let v = (self.0 as i128 * percent as i128) / 100;
        Money(v as i64)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&group_thousands(self.0))
    }
}

/// `1234567` -> `1,234,567`.
pub fn group_thousands(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if v < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<i64, String> {
        Money::parse(s, MAX_AMOUNT)
            .map(Money::get)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn parse_accepts_plain_grouped_and_suffixed_numbers() {
        assert_eq!(p("1500"), Ok(1500));
        assert_eq!(p(" 1,500 "), Ok(1500));
        assert_eq!(p("1_500"), Ok(1500));
        assert_eq!(p("+7"), Ok(7));
        assert_eq!(p("2k"), Ok(2000));
        assert_eq!(p("1.5k"), Ok(1500));
        assert_eq!(p("2M"), Ok(2_000_000));
        assert_eq!(p("1b"), Ok(1_000_000_000));
    }

    #[test]
    fn parse_refuses_zero_negative_fractional_and_garbage() {
        assert!(p("0").unwrap_err().contains("more than 0"));
        assert!(p("-5").unwrap_err().contains("more than 0"));
        assert!(p("1.5").unwrap_err().contains("whole number"));
        assert!(p("1.0001k").unwrap_err().contains("whole number"));
        assert!(p("ten").unwrap_err().contains("whole number"));
        assert!(p("").unwrap_err().contains("enter an amount"));
        assert!(p("1e5").is_err());
    }

    #[test]
    fn parse_refuses_amounts_above_the_bound_and_huge_numbers() {
        assert!(p("1000000000001")
            .unwrap_err()
            .contains("at most 1,000,000,000,000"));
        assert!(p("99999999999999999999999999").is_err());
        assert!(p("9223372036854775807").unwrap_err().contains("at most"));
        assert_eq!(p("1000000000000"), Ok(MAX_AMOUNT));
    }

    #[test]
    fn positive_and_non_negative_bounds() {
        assert!(Money::positive(0, 10).is_err());
        assert!(Money::positive(-1, 10).is_err());
        assert!(Money::positive(11, 10).is_err());
        assert_eq!(Money::positive(10, 10).unwrap().get(), 10);
        assert_eq!(Money::non_negative(0, 10).unwrap().get(), 0);
        assert!(Money::non_negative(-1, 10).is_err());
    }

    #[test]
    fn integer_amounts_are_refused_with_the_words_parse_uses() {
        let pos = |v: i64| {
            Money::positive(v, MAX_AMOUNT)
                .map(Money::get)
                .map_err(|e| e.to_string())
        };
        let non_neg = |v: i64| {
            Money::non_negative(v, MAX_AMOUNT)
                .map(Money::get)
                .map_err(|e| e.to_string())
        };
        assert_eq!(pos(1), Ok(1));
        assert_eq!(pos(MAX_AMOUNT), Ok(MAX_AMOUNT));
        assert_eq!(non_neg(0), Ok(0));
        assert_eq!(non_neg(MAX_AMOUNT), Ok(MAX_AMOUNT));
        for v in [0, -1, i64::MIN] {
            assert_eq!(pos(v), p("0"), "{v}");
        }
        for v in [-1, i64::MIN] {
            assert_eq!(non_neg(v), p("-1"), "{v}");
        }
        for v in [MAX_AMOUNT + 1, i64::MAX] {
            assert_eq!(pos(v), p("1000000000001"), "{v}");
            assert_eq!(non_neg(v), p("1000000000001"), "{v}");
        }
    }

    #[test]
    fn checked_arithmetic_detects_overflow_at_i64_max() {
        assert_eq!(Money::new(i64::MAX).checked_add(Money::new(1)), None);
        assert_eq!(Money::new(i64::MIN).checked_sub(Money::new(1)), None);
        assert_eq!(Money::new(i64::MIN).checked_neg(), None);
        assert_eq!(Money::new(i64::MAX).percent(100).get(), i64::MAX);
        assert_eq!(Money::new(999).percent(5).get(), 49);
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(-1234567), "-1,234,567");
        assert_eq!(group_thousands(i64::MIN), "-9,223,372,036,854,775,808");
    }
}
