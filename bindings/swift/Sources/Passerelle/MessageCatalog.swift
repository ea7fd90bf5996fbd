import Foundation

/// Passerelle's texts for the restaurant, in French and English, from the String Catalog
/// `Resources/Localizable.xcstrings`: the one place they are written.
///
/// A message's three texts are under `<code>.title`, `<code>.message` and `<code>.next_step`
/// (`invalid_credentials.title`, `connection_revoked.blocked.next_step`, ...); the order statuses
/// under `order_status.<status>`, the health banner's words under `health.…`.
///
/// The catalog reaches the resource bundle in one of two forms:
/// - built by Xcode or by SwiftPM on macOS, compiled by `xcstringstool` into
///   `en.lproj/Localizable.strings` and `fr.lproj/Localizable.strings`, property lists of key and
///   text: those are read, so the tables the OS localizes from are the ones shown;
/// - built by SwiftPM on Linux, which has no `xcstringstool` and copies the catalog as it is:
///   its JSON is read.
///
/// Both languages are read explicitly (``PasserelleError/userMessage(in:)`` takes a language),
/// not through `Bundle.localizedString`, which would choose by the device's languages rather
/// than the app's.
struct MessageCatalog: Sendable {
    /// The parts of a message, as the keys' suffixes.
    enum Part: String, CaseIterable, Sendable {
        case title
        case message
        case nextStep = "next_step"
    }

    /// Text by key, per language.
    private let texts: [PasserelleLanguage: [String: String]]

    /// The catalog of the package's resource bundle, read once.
    static let shared = MessageCatalog(bundle: resourceBundle)

    /// A catalog of these texts (tests).
    init(texts: [PasserelleLanguage: [String: String]]) {
        self.texts = texts
    }

    /// Reads the catalog compiled into `bundle`, or the catalog itself when it was copied as is.
    /// A missing or unreadable catalog gives no texts: messages then fall back to their code
    /// rather than stopping the till (the tests read every text).
    init(bundle: Bundle) {
        var compiled: [PasserelleLanguage: [String: String]] = [:]
        for language in PasserelleLanguage.allCases {
            guard
                let url = bundle.url(
                    forResource: "Localizable", withExtension: "strings", subdirectory: nil,
                    localization: language.rawValue),
                let data = try? Data(contentsOf: url),
                let table = try? PropertyListSerialization.propertyList(from: data, format: nil) as? [String: String]
            else { continue }
            compiled[language] = table
        }
        if !compiled.isEmpty {
            texts = compiled
        } else if let url = bundle.url(forResource: "Localizable", withExtension: "xcstrings"),
            let data = try? Data(contentsOf: url),
            let catalog = try? Self.texts(ofCatalog: data)
        {
            texts = catalog
        } else {
            texts = [:]
        }
    }

    /// The texts of a String Catalog (an `.xcstrings` file's JSON), per language: each key's
    /// `stringUnit` value.
    static func texts(ofCatalog data: Data) throws -> [PasserelleLanguage: [String: String]] {
        struct Catalog: Decodable {
            let strings: [String: Entry]
        }
        struct Entry: Decodable {
            let localizations: [String: Localization]?
        }
        struct Localization: Decodable {
            let stringUnit: StringUnit?
        }
        struct StringUnit: Decodable {
            let value: String
        }
        let catalog = try JSONDecoder().decode(Catalog.self, from: data)
        var texts: [PasserelleLanguage: [String: String]] = [:]
        for (key, entry) in catalog.strings {
            for (identifier, localization) in entry.localizations ?? [:] {
                guard let language = PasserelleLanguage(rawValue: identifier),
                    let value = localization.stringUnit?.value
                else { continue }
                texts[language, default: [:]][key] = value
            }
        }
        return texts
    }

    /// The text of `part` of `code`'s message in `language`, or `nil` when it has none (or an
    /// empty one).
    func text(_ part: Part, of code: String, in language: PasserelleLanguage) -> String? {
        guard let text = texts[language]?["\(code).\(part.rawValue)"], !text.isEmpty else { return nil }
        return text
    }

    /// The text under `key` in `language` (an order status, the health banner's words), or the
    /// key itself when the catalog has none: a gap shows, and the tests read every key.
    func string(_ key: String, in language: PasserelleLanguage) -> String {
        guard let text = texts[language]?[key], !text.isEmpty else { return key }
        return text
    }

    /// The text under `key` in `language` with its `%@` / `%lld` placeholders filled in, as
    /// numbers are written in `language`.
    func string(_ key: String, in language: PasserelleLanguage, _ arguments: any CVarArg...) -> String {
        String(format: string(key, in: language), locale: language.locale, arguments: arguments)
    }

    /// Every code with at least one text, in either language.
    var codes: Set<String> {
        var codes = Set<String>()
        for key in texts.values.flatMap(\.keys) {
            for part in Part.allCases where key.hasSuffix(".\(part.rawValue)") {
                codes.insert(String(key.dropLast(part.rawValue.count + 1)))
            }
        }
        return codes
    }

    private static var resourceBundle: Bundle {
        #if SWIFT_PACKAGE
            Bundle.module
        #else
            // Compiled without SwiftPM (a framework target of an Xcode project, or
            // ios-demo/check-apple-sources.sh): the catalog is in the code's own bundle.
            Bundle(for: BundleMarker.self)
        #endif
    }
}

#if !SWIFT_PACKAGE
    /// A class of this module, to find its bundle.
    private final class BundleMarker {}
#endif
