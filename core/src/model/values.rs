//! Values that cross to the host as its platform's own types (design D35): a URL as `URL`, an
//! exact decimal as `Decimal`. Each keeps its text here, so Rust code reads it as a `&str`.

use std::fmt;
use std::ops::Deref;

/// An absolute URL (`URL` in Swift): an authorize URL, a callback the app was opened with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebUrl(String);

/// An exact decimal number as HubRise writes it (`"1"`, `"2.5"`; `Decimal` in Swift): a
/// quantity is never a float.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Quantity(String);

impl WebUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }
}

impl Quantity {
    /// `text` when it is a plain decimal (`-?digits(.digits)?`), else `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (all_digits(whole) && all_digits(fraction)).then(|| Self(text.to_owned()))
    }

    pub fn one() -> Self {
        Self("1".to_owned())
    }
}

macro_rules! text_value {
    ($type:ident) => {
        impl Deref for $type {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<&str> for $type {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

text_value!(WebUrl);
text_value!(Quantity);

// Lowered as text; the Swift side makes the platform type (`uniffi.toml`, `custom_types`).
#[cfg(feature = "uniffi")]
uniffi::custom_type!(WebUrl, String, {
    lower: |url| url.0,
    try_lift: |text| Ok(WebUrl(text)),
});

#[cfg(feature = "uniffi")]
uniffi::custom_type!(Quantity, String, {
    lower: |quantity| quantity.0,
    try_lift: |text| Quantity::parse(&text)
        .ok_or_else(|| uniffi::deps::anyhow::anyhow!("not a decimal: {text:?}")),
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantity_is_a_plain_decimal() {
        for ok in ["1", "2.5", "-1", "0.125", "10"] {
            assert_eq!(Quantity::parse(ok).as_deref(), Some(ok), "{ok}");
        }
        for bad in ["", "1.", ".5", "1e3", "un", "1,5", "--1"] {
            assert_eq!(Quantity::parse(bad), None, "{bad}");
        }
    }
}
