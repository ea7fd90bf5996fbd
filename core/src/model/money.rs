//! HubRise money (`"8.90 EUR"`, `"-0.05 GBP"`), parsed exactly into minor units: never a float.

use std::fmt;

/// An exact amount: `minor_units` hundredths of `currency` (ISO 4217).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Money {
    pub minor_units: i64,
    pub currency: String,
}

/// Why a money string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a HubRise amount: {0}")]
pub struct MoneyError(&'static str);

impl Money {
    /// Parses HubRise's form: an optional `-`, digits, an optional `.` with one or two digits, a
    /// single space and a three-letter upper-case currency code.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let (amount, currency) = text.split_once(' ').ok_or(MoneyError("no currency"))?;
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(MoneyError("currency must be three upper-case letters"));
        }
        let (negative, digits) = match amount.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, amount),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > 2 {
            return Err(MoneyError(
                "amount must be digits with at most two decimals",
            ));
        }
        if digits.ends_with('.') {
            return Err(MoneyError("a decimal point needs digits after it"));
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyError("amount too large"))?;
        let cents: i64 = format!("{fraction:0<2}")
            .parse()
            .map_err(|_| MoneyError("bad decimals"))?;
        let units = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(cents))
            .ok_or(MoneyError("amount too large"))?;
        let minor_units = if negative { -units } else { units };
        Ok(Money {
            minor_units,
            currency: currency.to_owned(),
        })
    }
}

impl fmt::Display for Money {
    /// HubRise's canonical form, two decimals: `8.90 EUR`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let abs = self.minor_units.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hubrise_amounts_exactly() {
        assert_eq!(
            Money::parse("8.90 EUR").unwrap(),
            Money {
                minor_units: 890,
                currency: "EUR".into()
            }
        );
        assert_eq!(Money::parse("-0.05 GBP").unwrap().minor_units, -5);
        assert_eq!(Money::parse("12 EUR").unwrap().minor_units, 1200);
        assert_eq!(Money::parse("0.1 EUR").unwrap().minor_units, 10);
        assert_eq!(Money::parse("8.90 EUR").unwrap().to_string(), "8.90 EUR");
        assert_eq!(Money::parse("-0.05 GBP").unwrap().to_string(), "-0.05 GBP");
    }

    proptest::proptest! {
        #[test]
        fn formatting_then_parsing_gives_the_same_amount(units in i64::MIN / 2..i64::MAX / 2, currency in "[A-Z]{3}") {
            let money = Money { minor_units: units, currency };
            proptest::prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
        }

        #[test]
        fn canonical_strings_parse_then_format_unchanged(whole in 0u64..1_000_000_000, cents in 0u8..100, negative: bool, currency in "[A-Z]{3}") {
            let sign = if negative && (whole, cents) != (0, 0) { "-" } else { "" };
            let text = format!("{sign}{whole}.{cents:02} {currency}");
            proptest::prop_assert_eq!(Money::parse(&text).map(|m| m.to_string()), Ok(text));
        }

        #[test]
        fn anything_else_is_refused_or_round_trips(text in "\\PC{0,20}") {
            if let Ok(money) = Money::parse(&text) {
                proptest::prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
            }
        }
    }

    #[test]
    fn refuses_what_hubrise_refuses() {
        for bad in [
            "8.90",
            "8.90 eur",
            "8.901 EUR",
            "abc EUR",
            "8,90 EUR",
            "8.90  EUR",
            ". EUR",
            "1. EUR",
            "-",
            "--1 EUR",
            "99999999999999999999 EUR",
            "8.90 EURO",
            "",
        ] {
            assert!(Money::parse(bad).is_err(), "{bad}");
        }
    }
}
