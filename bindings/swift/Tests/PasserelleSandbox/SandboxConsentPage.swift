import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Plays the restaurant on the sandbox's HubRise consent page with URLSession, as a browser
/// would: signs in, picks the location (and the first catalog and customer list), clicks Allow or
/// Deny. Follows the form sequence of tests/sandbox/README.md, "The consent pages".
public enum SandboxConsentPage {
    /// How the consent flow ended.
    public enum Outcome: Sendable, Equatable {
        /// HubRise redirected the browser to this URL (the app's callback, with `code` or `error`).
        case redirect(String)
        /// An out-of-band flow showed this code for the person to paste.
        case outOfBandCode(String)
        /// An out-of-band flow after "Deny".
        case outOfBandDenied
    }

    /// Something the page did not expect.
    public struct Unexpected: Error, CustomStringConvertible {
        /// What was found instead.
        public let description: String

        /// - Parameter description: what was found instead.
        public init(description: String) {
            self.description = description
        }
    }

    /// Clicks through the consent pages at `authorizeURL` and chooses Allow (or Deny).
    public static func run(
        authorizeURL: String, email: String, password: String, locationId: String, allow: Bool = true
    ) async throws -> Outcome {
        guard let start = URL(string: authorizeURL),
            let action = URL(string: "/oauth2/v1/authorize", relativeTo: start)?.absoluteURL
        else { throw Unexpected(description: "not a URL: \(authorizeURL)") }
        let delegate = NoRedirects()
        let session = URLSession(configuration: .ephemeral, delegate: delegate, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        var request = URLRequest(url: start)
        request.timeoutInterval = 10
        var (body, redirect) = try await fetch(session, request)
        for _ in 0..<5 {
            if let redirect { return .redirect(redirect) }
            if let code = element(body, id: "code") { return .outOfBandCode(code) }
            if element(body, id: "error") == "access_denied" { return .outOfBandDenied }
            guard let flow = inputValue(body, "flow"), let step = inputValue(body, "step") else {
                throw Unexpected(description: "no consent form in: \(body.prefix(300))")
            }
            var fields = ["flow": flow, "step": step]
            switch step {
            case "sign_in":
                fields["email"] = email
                fields["password"] = password
            case "location":
                fields["location_id"] = locationId
            case "resources":
                for name in ["catalog_id", "customer_list_id"] {
                    if let first = firstOption(body, name) { fields[name] = first }
                }
            case "decision":
                fields["decision"] = allow ? "allow" : "deny"
            default:
                throw Unexpected(description: "unknown step \(step)")
            }
            var post = URLRequest(url: action)
            post.httpMethod = "POST"
            post.timeoutInterval = 10
            post.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            post.httpBody = Data(formEncode(fields).utf8)
            (body, redirect) = try await fetch(session, post)
        }
        throw Unexpected(description: "the consent flow did not finish")
    }

    /// Allows access and returns the callback URL HubRise redirects to.
    public static func approve(authorizeURL: String, email: String, password: String, locationId: String) async throws -> String {
        let outcome = try await run(authorizeURL: authorizeURL, email: email, password: password, locationId: locationId)
        guard case .redirect(let url) = outcome else { throw Unexpected(description: "expected a redirect, got \(outcome)") }
        return url
    }

    /// Fetches `url` without following redirects; returns the page and the `Location` of a redirect.
    public static func fetchWithoutRedirect(_ url: URL) async throws -> (body: String, location: String?) {
        let session = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        var request = URLRequest(url: url)
        request.timeoutInterval = 10
        return try await fetch(session, request)
    }

    private static func fetch(_ session: URLSession, _ request: URLRequest) async throws -> (String, String?) {
        let (data, response) = try await session.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let location = (300..<400).contains(status) ? (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Location") : nil
        return (String(decoding: data, as: UTF8.self), location)
    }

    private static func inputValue(_ html: String, _ name: String) -> String? {
        guard let start = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let rest = html[start.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    private static func element(_ html: String, id: String) -> String? {
        guard let start = html.range(of: "id=\"\(id)\">") else { return nil }
        let rest = html[start.upperBound...]
        return rest.firstIndex(of: "<").map { String(rest[..<$0]) }
    }

    private static func firstOption(_ html: String, _ name: String) -> String? {
        guard let select = html.range(of: "<select id=\"\(name)\"") else { return nil }
        let rest = html[select.upperBound...]
        guard let option = rest.range(of: "<option value=\"") else { return nil }
        let value = rest[option.upperBound...]
        return value.firstIndex(of: "\"").map { String(value[..<$0]) }
    }

    private static func formEncode(_ fields: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
    }
}

/// Stops at the first redirect: the callback goes to a custom scheme no browser here can open.
final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
