import Foundation
import PasserelleBindings

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

    /// The status's name for the staff, in `language`, from the String Catalog
    /// (`order_status.<status>`).
    public func displayName(in language: PasserelleLanguage = .preferred) -> String {
        displayName(in: language, catalog: .shared)
    }

    func displayName(in language: PasserelleLanguage, catalog: MessageCatalog) -> String {
        catalog.string("order_status.\(catalogKey)", in: language)
    }

    /// The status's key in the catalog: HubRise's name of it.
    var catalogKey: String {
        switch self {
        case .new: "new"
        case .received: "received"
        case .accepted: "accepted"
        case .inPreparation: "in_preparation"
        case .awaitingShipment: "awaiting_shipment"
        case .awaitingCollection: "awaiting_collection"
        case .inDelivery: "in_delivery"
        case .completed: "completed"
        case .rejected: "rejected"
        case .cancelled: "cancelled"
        case .deliveryFailed: "delivery_failed"
        case .unknown: "unknown"
        }
    }
}
