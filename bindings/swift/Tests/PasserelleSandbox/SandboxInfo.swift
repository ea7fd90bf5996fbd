import Foundation
import Passerelle

/// What a running `passerelle-sandbox` serves: its URLs and its seed (clients, users, accounts).
///
/// Decoded from the `PASSERELLE_SANDBOX` line `serve` prints, from its `--port-file`, or from
/// `GET {admin}/seed` (``SandboxAdmin/info()``): the fields common to all three.
public struct SandboxInfo: Decodable, Sendable, Equatable {
    /// HubRise's OAuth server, `http://127.0.0.1:P1/oauth2/v1`.
    public let hubriseOauthUrl: String
    /// HubRise's API, `http://127.0.0.1:P2/v1`.
    public let hubriseApiUrl: String
    /// The POS backend, `http://127.0.0.1:P3`.
    public let posUrl: String
    /// The admin API, `http://127.0.0.1:P1/_sandbox`.
    public let adminUrl: String
    /// The token the admin API asks for (`serve --listen` beyond loopback, or `--admin-token`);
    /// only in what `serve` prints, never in `GET {admin}/seed`.
    public let adminToken: String?
    /// The fixed seed.
    public let seed: Seed

    /// The seed's fixed ids, names and credentials (tests/sandbox/README.md, "The seed").
    public struct Seed: Decodable, Sendable, Equatable {
        /// Passerelle's HubRise client id.
        public let clientId: String
        /// The POS app's public client id (`passerelle-ios`).
        public let posClientId: String
        /// The scope of Passerelle's client.
        public let scope: String
        /// HubRise accounts with their locations.
        public let accounts: [Account]
        /// HubRise users.
        public let users: [Credentials]
        /// POS accounts.
        public let posAccounts: [Credentials]
    }

    /// An e-mail and a password of the seed.
    public struct Credentials: Decodable, Sendable, Equatable {
        /// The e-mail.
        public let email: String
        /// The password.
        public let password: String
    }

    /// A HubRise account of the seed.
    public struct Account: Decodable, Sendable, Equatable {
        /// `3r4s3`.
        public let id: String
        /// "Bella Pizza".
        public let name: String
        /// Its locations.
        public let locations: [Location]
    }

    /// A HubRise location of the seed.
    public struct Location: Decodable, Sendable, Equatable {
        /// `3r4s3-1`.
        public let id: String
        /// "Paris".
        public let name: String
    }

    /// Passerelle's HubRise client id.
    public var clientId: String { seed.clientId }
    /// HubRise user 1 (`manager@bellapizza.fr`), who manages the first account.
    public var hubriseUser: Credentials { seed.users[0] }
    /// POS account 1 (`chef@bellapizza.fr`).
    public var posAccount: Credentials { seed.posAccounts[0] }
    /// The first account's locations (Paris, Lyon).
    public var locations: [Location] { seed.accounts[0].locations }

    /// Decodes the sandbox's snake_case JSON.
    public static func decode(_ data: Data) throws -> SandboxInfo {
        try SandboxJSON.decoder.decode(SandboxInfo.self, from: data)
    }

    /// A configuration of Passerelle for this sandbox, in `dataDir`.
    ///
    /// - Parameter pollIntervalSecs: how often sync polls; 1 s is fine on loopback.
    public func passerelleConfig(dataDir: String, pollIntervalSecs: UInt32 = 1) -> PasserelleConfig {
        PasserelleConfig(
            dataDir: dataDir,
            posBaseURL: posUrl,
            posClientId: seed.posClientId,
            hubriseOAuthURL: hubriseOauthUrl,
            hubriseAPIURL: hubriseApiUrl,
            clientId: clientId,
            redirectURI: "passerelle-demo://oauth/hubrise",
            deviceId: nil,
            tokenExchange: .broker,
            rateLimits: RateLimits(perMinute: 500, perHour: 2500, perDay: 10000, heavyPerMinute: 10, minuteMs: 60000),
            initialSettings: Settings(pollIntervalSecs: pollIntervalSecs, applyMode: .onRestart, scope: seed.scope)
        )
    }
}

enum SandboxJSON {
    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }
}
