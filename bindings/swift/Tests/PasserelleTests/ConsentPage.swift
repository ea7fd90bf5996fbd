import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Plays the restaurant on the sandbox's HubRise consent page with URLSession: signs in, picks
/// the location (and the first catalog and customer list), clicks Allow, and returns the redirect
/// HubRise sends the browser to (the app's callback URL), without following it.
enum ConsentPage {
    static func approve(authorizeUrl: String, email: String, password: String, locationId: String) async throws -> String {
        let session = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)
        let action = URL(string: "/oauth2/v1/authorize", relativeTo: URL(string: authorizeUrl)!)!.absoluteURL
        var (body, redirect) = try await fetch(session, URLRequest(url: URL(string: authorizeUrl)!))
        for _ in 0..<4 {
            if let redirect { return redirect }
            guard let flow = inputValue(body, "flow"), let step = inputValue(body, "step") else {
                throw ConsentError.unexpected(body)
            }
            var fields = ["flow": flow, "step": step]
            switch step {
            case "sign_in": fields["email"] = email; fields["password"] = password
            case "location": fields["location_id"] = locationId
            case "resources":
                for name in ["catalog_id", "customer_list_id"] {
                    if let first = firstOption(body, name) { fields[name] = first }
                }
            case "decision": fields["decision"] = "allow"
            default: throw ConsentError.unexpected(step)
            }
            var request = URLRequest(url: action)
            request.httpMethod = "POST"
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(formEncode(fields).utf8)
            (body, redirect) = try await fetch(session, request)
        }
        guard let redirect else { throw ConsentError.unexpected("the consent flow did not finish") }
        return redirect
    }

    enum ConsentError: Error { case unexpected(String) }

    private static func fetch(_ session: URLSession, _ request: URLRequest) async throws -> (String, String?) {
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        let location = (300..<400).contains(http.statusCode) ? http.value(forHTTPHeaderField: "Location") : nil
        return (String(decoding: data, as: UTF8.self), location)
    }

    private static func inputValue(_ html: String, _ name: String) -> String? {
        guard let start = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let rest = html[start.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
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
private final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
