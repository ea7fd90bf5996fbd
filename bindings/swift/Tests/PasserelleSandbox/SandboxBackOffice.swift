import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Connections made off the iPad, as a restaurant makes them in a desktop browser.
public enum SandboxBackOffice {
    /// "Connect" from HubRise's back office: HubRise approves `locationId` and sends the browser to
    /// the POS backend's Connect URL, where nobody is signed in yet; the restaurant signs in with
    /// its POS credentials and the POS backend records the connection (origin
    /// `hubrise_back_office`). The iPad sees it, pending confirmation, after its next restart.
    public static func connectFromHubrise(
        admin: SandboxAdmin, locationId: String, posEmail: String, posPassword: String
    ) async throws {
        guard let connectURL = URL(string: try await admin.backOfficeConnectURL(locationId: locationId)) else {
            throw SandboxConsentPage.Unexpected(description: "the Connect URL is not a URL")
        }
        // The POS backend keeps the code in a session (cookie) and asks to sign in.
        let (_, connectResponse) = try await fetch(URLRequest(url: connectURL))
        guard connectResponse.statusCode == 303, let cookie = sessionCookie(connectResponse),
            let signIn = connectResponse.value(forHTTPHeaderField: "Location"),
            let signInURL = URL(string: signIn, relativeTo: connectURL)?.absoluteURL
        else {
            throw SandboxConsentPage.Unexpected(description: "the Connect URL answered \(connectResponse.statusCode)")
        }
        var request = URLRequest(url: signInURL)
        request.httpMethod = "POST"
        request.setValue("pos_session=\(cookie)", forHTTPHeaderField: "Cookie")
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        let form = [("email", posEmail), ("password", posPassword)].map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value)"
        }
        request.httpBody = Data(form.joined(separator: "&").utf8)
        let (body, response) = try await fetch(request)
        let location = response.value(forHTTPHeaderField: "Location") ?? ""
        guard response.statusCode == 303, location.contains("connected=\(locationId)") else {
            throw SandboxConsentPage.Unexpected(
                description: "the back office did not record the connection (\(response.statusCode)): \(body.prefix(300))")
        }
    }

    private static func fetch(_ request: URLRequest) async throws -> (String, HTTPURLResponse) {
        var request = request
        request.timeoutInterval = 10
        let session = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else {
            throw SandboxConsentPage.Unexpected(description: "not an HTTP answer")
        }
        return (String(decoding: data, as: UTF8.self), http)
    }

    private static func sessionCookie(_ response: HTTPURLResponse) -> String? {
        guard let header = response.value(forHTTPHeaderField: "Set-Cookie"),
            let range = header.range(of: "pos_session=")
        else { return nil }
        return String(header[range.upperBound...].prefix { $0 != ";" })
    }
}
