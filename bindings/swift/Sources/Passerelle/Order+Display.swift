import Foundation

extension Money {
    /// `minorUnits` of `currency` in its own minor unit (ISO 4217, as the library counts them):
    /// cents for EUR, yen for JPY, fils for KWD.
    public init(minorUnits: Int64, currency: String) {
        self.init(minorUnits: minorUnits, currency: currency, exponent: currencyExponent(currency: currency))
    }

    /// The exact amount as a `Decimal`: `minorUnits` in the currency's minor unit
    /// (10^-``exponent``), so 3080 EUR is `30.80`, 1500 JPY is `1500` and 1250 KWD is `1.250`.
    /// Built from its digits, never through a floating-point number.
    public var amount: Decimal {
        Decimal(
            sign: minorUnits < 0 ? .minus : .plus, exponent: -Int(exponent),
            significand: Decimal(minorUnits.magnitude))
    }

    /// The same amount the other way (a discount shown as money off), in the same minor unit.
    public static prefix func - (money: Money) -> Money {
        Money(minorUnits: -money.minorUnits, currency: money.currency, exponent: money.exponent)
    }

    /// The amount formatted for `locale`, with its currency and as many decimals as the
    /// currency has: `30,80 €` in French, `€30.80` in British English, `¥1,500`, `KWD 1.250`.
    ///
    /// Formatting only; the amount itself is exact (never a floating-point number).
    public func formatted(locale: Locale) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .currency
        formatter.locale = locale
        formatter.currencyCode = currency
        formatter.minimumFractionDigits = Int(exponent)
        formatter.maximumFractionDigits = Int(exponent)
        return formatter.string(from: amount as NSDecimalNumber) ?? "\(amount) \(currency)"
    }

    /// The amount formatted for the staff in `language` (``PasserelleLanguage/locale``).
    public func formatted(in language: PasserelleLanguage = .preferred) -> String {
        formatted(locale: language.locale)
    }
}

extension OrderStatus {
    /// Every status HubRise defines, in the usual order of an order's life.
    public static let hubriseStatuses: [OrderStatus] = [
        .new, .received, .accepted, .inPreparation, .awaitingShipment, .awaitingCollection,
        .inDelivery, .completed, .rejected, .cancelled, .deliveryFailed,
    ]

    /// Whether the order still waits for the restaurant to accept or reject it.
    public var awaitsDecision: Bool {
        self == .new || self == .received
    }

    /// Whether the order's life is over (completed, rejected, cancelled, delivery failed).
    public var isFinal: Bool {
        switch self {
        case .completed, .rejected, .cancelled, .deliveryFailed: true
        default: false
        }
    }

    /// The status's name for the staff, in `language`.
    public func displayName(in language: PasserelleLanguage = .preferred) -> String {
        let names: (String, String) =
            switch self {
            case .new: ("Nouvelle", "New")
            case .received: ("Reçue", "Received")
            case .accepted: ("Acceptée", "Accepted")
            case .inPreparation: ("En préparation", "In preparation")
            case .awaitingShipment: ("Prête à livrer", "Awaiting shipment")
            case .awaitingCollection: ("Prête à retirer", "Awaiting collection")
            case .inDelivery: ("En livraison", "In delivery")
            case .completed: ("Terminée", "Completed")
            case .rejected: ("Refusée", "Rejected")
            case .cancelled: ("Annulée", "Cancelled")
            case .deliveryFailed: ("Livraison échouée", "Delivery failed")
            case .unknown: ("Statut inconnu", "Unknown status")
            }
        return language == .french ? names.0 : names.1
    }
}
