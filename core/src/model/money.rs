//! HubRise money (`"8.90 EUR"`, `"-0.05 GBP"`, `"1500.00 JPY"`), parsed exactly into the
//! currency's minor units: never a float.

use std::fmt;

/// An exact amount: `minor_units` of `currency` (ISO 4217), whose minor unit is
/// 10^-`exponent` of the major one: cents of a euro (2), yen (0), fils of a Kuwaiti dinar (3).
/// `minor_units / 10^exponent` is the amount: 890 EUR (exponent 2) is 8.90 €, 1500 JPY
/// (exponent 0) is ¥1,500, 1250 KWD (exponent 3) is 1.250 KD.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Money {
    pub minor_units: i64,
    pub currency: String,
    /// How many decimals the currency's minor unit has (ISO 4217): 2 for most, 0 for JPY, 3 for
    /// KWD. [`currency_exponent`] of `currency`.
    pub exponent: u8,
}

/// Currencies whose minor unit is not a hundredth (ISO 4217's list of minor unit digits).
const EXPONENTS: &[(&str, u8)] = &[
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("UYI", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
    ("CLF", 4),
    ("UYW", 4),
];

/// How many decimals `currency`'s minor unit has (ISO 4217): 0 for JPY, 3 for KWD, 2 for the
/// others (and for a code ISO 4217 does not list).
pub fn currency_exponent(currency: &str) -> u8 {
    EXPONENTS
        .iter()
        .find(|(code, _)| *code == currency)
        .map_or(2, |(_, exponent)| *exponent)
}

/// Why a money string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a HubRise amount: {0}")]
pub struct MoneyError(&'static str);

impl Money {
    /// `minor_units` of `currency`, with the currency's exponent.
    pub fn new(minor_units: i64, currency: impl Into<String>) -> Money {
        let currency = currency.into();
        Money {
            minor_units,
            exponent: currency_exponent(&currency),
            currency,
        }
    }

    /// Parses HubRise's form: an optional `-`, digits, an optional `.` with decimals, a single
    /// space and a three-letter upper-case currency code. HubRise writes two decimals whatever
    /// the currency (`"1500.00 JPY"`); decimals finer than the currency's minor unit must be
    /// zeros (never rounded), and a currency with three decimals (`"1.250 KWD"`) may use them.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let (amount, currency) = text.split_once(' ').ok_or(MoneyError("no currency"))?;
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(MoneyError("currency must be three upper-case letters"));
        }
        let exponent = currency_exponent(currency);
        let (negative, digits) = match amount.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, amount),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let most_decimals = usize::from(exponent.max(2));
        if whole.is_empty()
            || !all_digits(whole)
            || !all_digits(fraction)
            || fraction.len() > most_decimals
        {
            return Err(MoneyError(
                "amount must be digits with at most two decimals (three for a currency that has them)",
            ));
        }
        if digits.ends_with('.') {
            return Err(MoneyError("a decimal point needs digits after it"));
        }
        let kept = fraction.len().min(usize::from(exponent));
        if fraction.bytes().skip(kept).any(|b| b != b'0') {
            return Err(MoneyError("decimals finer than the currency's minor unit"));
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyError("amount too large"))?;
        let scale = 10i64.pow(u32::from(exponent));
        let minor: i64 = if exponent == 0 {
            0
        } else {
            format!(
                "{:0<width$}",
                &fraction[..kept],
                width = usize::from(exponent)
            )
            .parse()
            .map_err(|_| MoneyError("bad decimals"))?
        };
        let units = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(minor))
            .ok_or(MoneyError("amount too large"))?;
        let minor_units = if negative { -units } else { units };
        Ok(Money {
            minor_units,
            currency: currency.to_owned(),
            exponent,
        })
    }
}

impl fmt::Display for Money {
    /// HubRise's canonical form, two decimals (three for a currency that has them): `8.90 EUR`,
    /// `1500.00 JPY`, `1.250 KWD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let abs = self.minor_units.unsigned_abs();
        let scale = 10u64.pow(u32::from(self.exponent));
        let (whole, minor) = (abs / scale, abs % scale);
        let decimals = usize::from(self.exponent.max(2));
        let fraction = format!("{minor:0>width$}", width = usize::from(self.exponent));
        let fraction = format!("{fraction:0<decimals$}");
        write!(f, "{sign}{whole}.{fraction} {}", self.currency)
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
                currency: "EUR".into(),
                exponent: 2,
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
            let money = Money::new(units, currency);
            proptest::prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
        }

        #[test]
        fn canonical_strings_parse_then_format_unchanged(whole in 0u64..1_000_000_000, cents in 0u8..100, negative: bool, currency in "[A-Z]{3}") {
            let cents = if currency_exponent(&currency) == 0 { 0 } else { cents };
            let sign = if negative && (whole, cents) != (0, 0) { "-" } else { "" };
            let text = format!("{sign}{whole}.{cents:02} {currency}");
            // A currency with three or four decimals writes them all.
            let zeros = "0".repeat(usize::from(currency_exponent(&currency).saturating_sub(2)));
            let canonical = format!("{sign}{whole}.{cents:02}{zeros} {currency}");
            proptest::prop_assert_eq!(Money::parse(&text).map(|m| m.to_string()), Ok(canonical));
        }

        #[test]
        fn anything_else_is_refused_or_round_trips(text in "\\PC{0,20}") {
            if let Ok(money) = Money::parse(&text) {
                proptest::prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
            }
        }
    }

    #[test]
    fn each_currency_in_its_minor_units() {
        let yen = Money::parse("1500.00 JPY").unwrap();
        assert_eq!((yen.minor_units, yen.exponent), (1500, 0));
        assert_eq!(Money::parse("1500 JPY").unwrap(), yen);
        assert_eq!(yen.to_string(), "1500.00 JPY");
        assert!(
            Money::parse("1500.50 JPY").is_err(),
            "no sen: never rounded"
        );
        let dinars = Money::parse("1.250 KWD").unwrap();
        assert_eq!((dinars.minor_units, dinars.exponent), (1250, 3));
        assert_eq!(Money::parse("1.25 KWD").unwrap(), dinars);
        assert_eq!(dinars.to_string(), "1.250 KWD");
        assert_eq!(Money::parse("-0.005 KWD").unwrap().minor_units, -5);
        assert_eq!(Money::parse("8.90 EUR").unwrap().exponent, 2);
        assert_eq!(Money::new(1500, "JPY"), yen);
        assert_eq!(currency_exponent("XYZ"), 2);
    }

    #[test]
    fn refuses_what_hubrise_refuses() {
        for bad in [
            "8.90",
            "8.90 eur",
            "8.901 EUR",
            "8.9010 KWD",
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
