//! HubRise's order statuses and their wire names.

/// HubRise's order statuses (no transition is enforced by HubRise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum OrderStatus {
    New,
    Received,
    Accepted,
    InPreparation,
    AwaitingShipment,
    AwaitingCollection,
    InDelivery,
    Completed,
    Rejected,
    Cancelled,
    DeliveryFailed,
    /// A status this version does not know; the raw JSON keeps it.
    Unknown,
}

const STATUSES: [(OrderStatus, &str); 11] = [
    (OrderStatus::New, "new"),
    (OrderStatus::Received, "received"),
    (OrderStatus::Accepted, "accepted"),
    (OrderStatus::InPreparation, "in_preparation"),
    (OrderStatus::AwaitingShipment, "awaiting_shipment"),
    (OrderStatus::AwaitingCollection, "awaiting_collection"),
    (OrderStatus::InDelivery, "in_delivery"),
    (OrderStatus::Completed, "completed"),
    (OrderStatus::Rejected, "rejected"),
    (OrderStatus::Cancelled, "cancelled"),
    (OrderStatus::DeliveryFailed, "delivery_failed"),
];

impl OrderStatus {
    pub fn parse(raw: &str) -> OrderStatus {
        STATUSES
            .iter()
            .find(|(_, name)| *name == raw)
            .map_or(OrderStatus::Unknown, |(s, _)| *s)
    }

    /// HubRise's name; `None` for `Unknown`, which can never be sent.
    pub fn as_str(self) -> Option<&'static str> {
        STATUSES
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, name)| *name)
    }

    /// An anomaly HubRise reports as final: a local change must not overwrite it (design D9).
    pub fn is_terminal_anomaly(self) -> bool {
        matches!(
            self,
            OrderStatus::Rejected | OrderStatus::Cancelled | OrderStatus::DeliveryFailed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_unknown_is_kept_apart() {
        for (status, name) in STATUSES {
            assert_eq!(OrderStatus::parse(name), status);
            assert_eq!(status.as_str(), Some(name));
        }
        assert_eq!(OrderStatus::parse("teleported"), OrderStatus::Unknown);
        assert!(OrderStatus::Unknown.as_str().is_none());
    }
}
