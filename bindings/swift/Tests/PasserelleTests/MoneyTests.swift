import Foundation
import Passerelle
import XCTest

/// Amounts in each currency's own minor unit (ISO 4217): the exponent comes from the core, in
/// every `Money` it hands over and in ``Money/init(minorUnits:currency:)``.
final class MoneyTests: XCTestCase {
    private let french = PasserelleLanguage.french.locale
    private let english = PasserelleLanguage.english.locale

    func testYenHaveNoDecimals() {
        let total = Money(minorUnits: 1500, currency: "JPY")
        XCTAssertEqual(total.exponent, 0)
        XCTAssertEqual(total.amount, Decimal(1500))
        let shown = total.formatted(locale: english)
        XCTAssertTrue(shown.contains("1,500"), shown)
        XCTAssertFalse(shown.contains("."), "no decimals for yen: \(shown)")
        XCTAssertEqual(Money(minorUnits: -250, currency: "JPY").amount, Decimal(-250))
    }

    func testKuwaitiDinarsHaveThreeDecimals() {
        let total = Money(minorUnits: 1250, currency: "KWD")
        XCTAssertEqual(total.exponent, 3)
        XCTAssertEqual(total.amount, Decimal(string: "1.25"))
        XCTAssertEqual(Money(minorUnits: 5, currency: "KWD").amount, Decimal(string: "0.005"))
        let shown = total.formatted(locale: english)
        XCTAssertTrue(shown.contains("1.250"), shown)
        let inFrench = total.formatted(locale: french)
        XCTAssertTrue(inFrench.contains("1,250"), inFrench)
    }

    func testEurosKeepTwoDecimals() {
        let total = Money(minorUnits: 3080, currency: "EUR")
        XCTAssertEqual(total.exponent, 2)
        XCTAssertEqual(total.amount, Decimal(string: "30.8"))
        XCTAssertTrue(total.formatted(locale: french).hasPrefix("30,80"), total.formatted(locale: french))
    }

    /// What the core says wins: a `Money` carrying its exponent is shown with it.
    func testTheCarriedExponentIsUsed() {
        let threeDecimals = Money(minorUnits: 12_345, currency: "XYZ", exponent: 3)
        XCTAssertEqual(threeDecimals.amount, Decimal(string: "12.345"))
        XCTAssertTrue(threeDecimals.formatted(locale: english).contains("12.345"), threeDecimals.formatted(locale: english))
        XCTAssertEqual(Money(minorUnits: 12_345, currency: "XYZ").exponent, 2, "a code ISO 4217 does not list: 2")
        let off = -threeDecimals
        XCTAssertEqual(off.exponent, 3, "a discount keeps its minor unit")
        XCTAssertEqual(off.amount, Decimal(string: "-12.345"))
    }
}
