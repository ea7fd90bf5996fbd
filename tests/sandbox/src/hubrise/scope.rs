//! HubRise's OAuth scope syntax: `location[orders.write,catalog.read],profile`.
//!
//! An access level (`location` or `account`) with bracketed `resource.right` permissions, and/or
//! general permissions (`profile`, `profile_with_email`), comma separated; at least one.

use serde::{Deserialize, Serialize};

const RESOURCES: &[&str] = &[
    "orders",
    "customer_list",
    "catalog",
    "inventory",
    "all_customer_lists",
    "all_catalogs",
];

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Level {
    Location,
    Account,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Permission {
    pub resource: String,
    pub write: bool,
}

/// A parsed scope.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Scope {
    pub level: Option<Level>,
    pub permissions: Vec<Permission>,
    pub profile: bool,
    pub profile_with_email: bool,
}

impl Scope {
    pub fn parse(text: &str) -> Result<Scope, String> {
        let mut scope = Scope {
            level: None,
            permissions: Vec::new(),
            profile: false,
            profile_with_email: false,
        };
        for part in split_top_level(text)? {
            scope.add_part(part.trim())?;
        }
        if scope.level.is_none() && !scope.profile && !scope.profile_with_email {
            return Err("the scope is empty".into());
        }
        Ok(scope)
    }

    fn add_part(&mut self, part: &str) -> Result<(), String> {
        match part {
            "profile" => self.profile = true,
            "profile_with_email" => self.profile_with_email = true,
            _ => {
                let (level, inner) = parse_level(part)?;
                if self.level.is_some() {
                    return Err("only one access level may be given".into());
                }
                self.level = Some(level);
                for perm in inner.split(',') {
                    self.permissions.push(parse_permission(perm.trim())?);
                }
            }
        }
        Ok(())
    }

    /// Whether the scope grants `resource` (write implies read).
    pub fn allows(&self, resource: &str, write: bool) -> bool {
        self.permissions
            .iter()
            .any(|p| p.resource == resource && (p.write || !write))
    }

    fn mentions(&self, resource: &str) -> bool {
        self.permissions.iter().any(|p| p.resource == resource)
    }

    /// `catalog.*`: the user picks one catalog on the consent page.
    pub fn picks_catalog(&self) -> bool {
        self.mentions("catalog")
    }

    /// `customer_list.*`: the user picks one customer list on the consent page.
    pub fn picks_customer_list(&self) -> bool {
        self.mentions("customer_list")
    }

    /// Human-readable permissions for the consent page.
    pub fn describe(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .permissions
            .iter()
            .map(|p| {
                let right = if p.write { "read and write" } else { "read" };
                format!("{} ({right})", p.resource.replace('_', " "))
            })
            .collect();
        if self.profile_with_email {
            lines.push("your profile, including your email".into());
        } else if self.profile {
            lines.push("your profile".into());
        }
        lines
    }
}

/// Splits on commas outside brackets; unbalanced brackets are an error.
fn split_top_level(text: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Err("unbalanced brackets".into());
        }
    }
    if depth != 0 {
        return Err("unbalanced brackets".into());
    }
    parts.push(&text[start..]);
    Ok(parts)
}

fn parse_level(part: &str) -> Result<(Level, &str), String> {
    let (name, rest) = part
        .split_once('[')
        .ok_or_else(|| format!("unknown permission '{part}'"))?;
    let inner = rest
        .strip_suffix(']')
        .ok_or_else(|| format!("malformed access level '{part}'"))?;
    let level = match name {
        "location" => Level::Location,
        "account" => Level::Account,
        _ => return Err(format!("unknown access level '{name}'")),
    };
    Ok((level, inner))
}

fn parse_permission(perm: &str) -> Result<Permission, String> {
    let (resource, right) = perm
        .split_once('.')
        .ok_or_else(|| format!("malformed permission '{perm}'"))?;
    if !RESOURCES.contains(&resource) {
        return Err(format!("unknown resource '{resource}'"));
    }
    let write = match right {
        "read" => false,
        "write" => true,
        _ => return Err(format!("unknown access right '{right}'")),
    };
    Ok(Permission {
        resource: resource.into(),
        write,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_examples() {
        let s = Scope::parse("location[orders.write,customer_list.write,catalog.read]").unwrap();
        assert_eq!(s.level, Some(Level::Location));
        assert!(s.allows("orders", true) && s.allows("orders", false));
        assert!(s.allows("catalog", false) && !s.allows("catalog", true));
        assert!(s.picks_catalog() && s.picks_customer_list());

        let s = Scope::parse("account[customer_list.read],profile").unwrap();
        assert_eq!(s.level, Some(Level::Account));
        assert!(s.profile && !s.picks_catalog());

        assert!(Scope::parse("profile").is_ok());
    }

    #[test]
    fn rejects_malformed_scopes() {
        for bad in [
            "",
            "location[orders.write",
            "location[orders.delete]",
            "location[pizzas.read]",
            "shop[orders.read]",
            "location[orders]",
            "location[orders.read],account[orders.read]",
            "location[[orders.read]]",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}
