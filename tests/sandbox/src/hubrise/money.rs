//! HubRise's monetary values ("8.90 EUR") and decimals ("-2.5"), parsed exactly.
//!
//! Amounts are held as integer cents and decimals as (mantissa, scale): never floating point,
//! as HubRise's documentation insists.

use std::fmt;

/// A monetary amount in cents with its ISO 4217 currency code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Money {
    pub cents: i128,
    pub currency: String,
}

impl Money {
    pub fn zero(currency: &str) -> Money {
        Money {
            cents: 0,
            currency: currency.to_owned(),
        }
    }

    /// Parses `"8.90 EUR"` / `"-0.05 GBP"`: two decimals, one space, three capital letters.
    pub fn parse(text: &str) -> Option<Money> {
        let (amount, currency) = text.split_once(' ')?;
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let (negative, digits) = match amount.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, amount),
        };
        let (units, fraction) = digits.split_once('.')?;
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(units) || fraction.len() != 2 || !all_digits(fraction) || units.len() > 15 {
            return None;
        }
        let cents = units.parse::<i128>().ok()? * 100 + fraction.parse::<i128>().ok()?;
        Some(Money {
            cents: if negative { -cents } else { cents },
            currency: currency.to_owned(),
        })
    }

    /// `self × quantity`, rounded half away from zero to the cent.
    pub fn times(&self, quantity: &Decimal) -> Money {
        let divisor = 10i128.pow(quantity.scale);
        let product = self.cents * quantity.mantissa;
        let half = divisor / 2;
        let rounded = if product >= 0 {
            (product + half) / divisor
        } else {
            (product - half) / divisor
        };
        Money {
            cents: rounded,
            currency: self.currency.clone(),
        }
    }

    pub fn plus(&self, other: &Money) -> Money {
        Money {
            cents: self.cents + other.cents,
            currency: self.currency.clone(),
        }
    }

    pub fn minus(&self, other: &Money) -> Money {
        Money {
            cents: self.cents - other.cents,
            currency: self.currency.clone(),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.cents < 0 { "-" } else { "" };
        let abs = self.cents.abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

/// A decimal value such as `"1"`, `"2.5"` or `"-0.125"`: `mantissa / 10^scale`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Decimal {
    pub mantissa: i128,
    pub scale: u32,
}

impl Decimal {
    pub fn from_int(n: i64) -> Decimal {
        Decimal {
            mantissa: i128::from(n),
            scale: 0,
        }
    }

    pub fn parse(text: &str) -> Option<Decimal> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (units, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if units.is_empty() || !ok(units) || !ok(fraction) || digits.ends_with('.') {
            return None;
        }
        if units.len() + fraction.len() > 30 {
            return None;
        }
        let mantissa: i128 = format!("{units}{fraction}").parse().ok()?;
        Some(Decimal {
            mantissa: if negative { -mantissa } else { mantissa },
            scale: u32::try_from(fraction.len()).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_format_is_strict() {
        assert_eq!(Money::parse("8.90 EUR").map(|m| m.cents), Some(890));
        assert_eq!(Money::parse("-0.05 GBP").map(|m| m.cents), Some(-5));
        for bad in [
            "8.9 EUR",
            "8.900 EUR",
            "8.90EUR",
            "8.90 eur",
            "8.90  EUR",
            "abc",
            "8 EUR",
            ".90 EUR",
            "8.90 EURO",
            "+8.90 EUR",
            "8,90 EUR",
        ] {
            assert!(Money::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Money::parse("-0.05 GBP").unwrap().to_string(), "-0.05 GBP");
    }

    #[test]
    fn decimals_and_products() {
        let q = Decimal::parse("2.5").unwrap();
        assert_eq!(
            Money::parse("3.33 EUR").unwrap().times(&q).to_string(),
            "8.33 EUR"
        );
        assert_eq!(
            Money::parse("-1.01 EUR").unwrap().times(&q).to_string(),
            "-2.53 EUR"
        );
        assert!(Decimal::parse("1.").is_none());
        assert!(Decimal::parse("x").is_none());
        assert_eq!(
            Decimal::parse("-2.5"),
            Some(Decimal {
                mantissa: -25,
                scale: 1
            })
        );
    }
}
