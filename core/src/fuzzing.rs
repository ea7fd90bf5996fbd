//! Entry points for the fuzz targets (`fuzz/`, feature `fuzzing`): every parser that reads
//! untrusted input. Each must return, never panic, whatever the bytes; where a parser has a
//! round-trip property, it is asserted here so the fuzzer checks it too.

use serde_json::Value;
use url::Url;

use crate::clients::hubrise::api::EventRef;
use crate::clients::hubrise::oauth::parse_callback;
use crate::clients::hubrise::token::{HubriseErrorBody, HubriseTokenResponse};
use crate::model::money::Money;
use crate::model::order::{self, OrderHead, StoredOrder};

/// The OAuth callback URL parser and validator.
pub fn callback_url(input: &str) {
    if let Ok(redirect) = Url::parse("passerelle-demo://oauth/hubrise") {
        let _ = parse_callback(input, &redirect);
    }
}

/// HubRise's token response (read whatever its `Content-Type`: JSON or a form) and error bodies.
pub fn token_response(bytes: &[u8]) {
    if let Ok(token) = HubriseTokenResponse::from_json(bytes) {
        let _ = token.names();
    }
    if let Some(token) = HubriseTokenResponse::from_body(bytes) {
        let _ = token.names();
    }
    let _ = HubriseErrorBody::from_bytes(bytes).reason();
    let _ = HubriseErrorBody::from_bytes(bytes).is_refusal();
}

/// An order as HubRise sends it, and the typed view the host reads.
pub fn order_json(bytes: &[u8]) {
    let Ok(json) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    let _ = OrderHead::decode(&json);
    let _ = order::decode(&StoredOrder {
        connection_id: "c",
        location_id: "l",
        json: &json,
        pending_status: None,
        received_at: std::time::SystemTime::UNIX_EPOCH,
        updated_at: std::time::SystemTime::UNIX_EPOCH,
        seen: false,
    });
    if let Some(created) = json.get("created_at").and_then(Value::as_str) {
        let _ = crate::time::parse_iso8601_ms(created);
    }
}

/// A page of callback events, read entry by entry as the sync engine reads it.
pub fn event_page(bytes: &[u8]) {
    if let Ok(Value::Array(entries)) = serde_json::from_slice::<Value>(bytes) {
        for entry in &entries {
            let _ = EventRef::from_entry(entry);
        }
    }
}

/// Money: whatever parses formats back to a string that parses to the same amount.
pub fn money(input: &str) {
    if let Ok(amount) = Money::parse(input) {
        let canonical = amount.to_string();
        assert_eq!(
            Money::parse(&canonical).as_ref(),
            Ok(&amount),
            "{input:?} → {canonical:?}"
        );
    }
}
