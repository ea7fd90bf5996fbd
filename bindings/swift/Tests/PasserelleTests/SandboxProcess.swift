import Foundation
import XCTest

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The sandbox (`passerelle-sandbox serve`) as a child process, with the URLs it printed.
///
/// Started from synchronous code (`setUp`), never from an async test: a child started from a Swift
/// concurrency thread inherits its blocked signals and outlives the test. It exits when its stdin
/// closes, so a test process that dies takes it along; `stop()` also kills it.
final class SandboxProcess: @unchecked Sendable {
    struct Info: Decodable {
        let hubriseOauthUrl: String
        let hubriseApiUrl: String
        let posUrl: String
        let adminUrl: String
        let clientId: String
        let hubriseUser: Credentials
        let posAccount: Credentials
        let seed: Seed
    }

    struct Credentials: Decodable {
        let email: String
        let password: String
    }

    struct Seed: Decodable {
        let accounts: [Account]
        let posClientId: String
        let scope: String
    }

    struct Account: Decodable {
        let locations: [Location]
    }

    struct Location: Decodable {
        let id: String
        let name: String
    }

    let info: Info
    private let process: Process
    private let stdin: Pipe

    /// The project root, from this file's path (Tests/PasserelleTests/ → ../../../..).
    static let projectRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("../../../..").standardized

    init() throws {
        let binary = Self.projectRoot.appendingPathComponent("target/debug/passerelle-sandbox")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("build the sandbox first: cargo build -p passerelle-sandbox (looked at \(binary.path))")
        }
        let portFile = Self.projectRoot.appendingPathComponent("target/swift-sandbox-\(UUID().uuidString).json")
        process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--port-file", portFile.path]
        stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        info = try Self.waitForPortFile(portFile, process: process)
        try? FileManager.default.removeItem(at: portFile)
    }

    private static func waitForPortFile(_ file: URL, process: Process) throws -> Info {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        for _ in 0..<200 {
            if let data = try? Data(contentsOf: file) {
                return try decoder.decode(Info.self, from: data)
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(process.processIdentifier, SIGKILL)
        throw NSError(domain: "SandboxProcess", code: 1, userInfo: [NSLocalizedDescriptionKey: "sandbox did not start"])
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// A Passerelle configuration for this sandbox in `dataDir` (1 s polls: allowed on loopback).
    func config(dataDir: String) -> PasserelleConfig {
        PasserelleConfig(
            dataDir: dataDir,
            posBaseUrl: info.posUrl,
            posClientId: info.seed.posClientId,
            hubriseOauthUrl: info.hubriseOauthUrl,
            hubriseApiUrl: info.hubriseApiUrl,
            clientId: info.clientId,
            redirectUri: "passerelle-demo://oauth/hubrise",
            deviceId: nil,
            tokenExchange: .broker,
            rateLimits: RateLimits(perMinute: 500, perHour: 2500, perDay: 10000, heavyPerMinute: 10, minuteMs: 60000),
            initialSettings: Settings(pollIntervalSecs: 1, applyMode: .onRestart, scope: info.seed.scope)
        )
    }

    var locations: [Location] { info.seed.accounts[0].locations }
}

@testable import Passerelle
