#if os(Linux) || os(macOS)
    import Foundation

    #if canImport(Glibc)
        import Glibc
    #endif

    /// `passerelle-sandbox serve` as a child process, with the URLs it wrote.
    ///
    /// **Start it from synchronous code** (`setUp()`/`setUpWithError()`), never from an `async` test:
    /// a child started from a Swift concurrency thread inherits that thread's blocked signals (see
    /// shared/design/swift-on-linux.md). The child also exits when its stdin closes, so a test process
    /// that dies takes it along; ``stop()`` (or `deinit`) closes stdin and kills it.
    public final class SandboxProcess: @unchecked Sendable {
        // @unchecked: every stored property is a constant; Process and Pipe are used from the
        // thread that calls stop() only.

        /// The sandbox's URLs and seed.
        public let info: SandboxInfo
        /// Its admin API.
        public let admin: SandboxAdmin
        private let process: Process
        private let stdin: Pipe

        /// Why the sandbox could not start.
        public enum StartError: Error, CustomStringConvertible {
            /// The binary is not built: run `cargo build -p passerelle-sandbox`.
            case binaryMissing(String)
            /// It did not write its port file in time.
            case didNotStart(String)

            /// What to do about it.
            public var description: String {
                switch self {
                case .binaryMissing(let path):
                    "build the sandbox first: cargo build -p passerelle-sandbox (looked at \(path))"
                case .didNotStart(let reason): "the sandbox did not start: \(reason)"
                }
            }
        }

        /// The repository's root, from this file's path (Tests/PasserelleSandbox/ → ../../../..).
        public static let projectRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().appendingPathComponent("../../../..").standardized

        /// Starts `target/debug/passerelle-sandbox serve` on free ports.
        ///
        /// - Parameters:
        ///   - binary: the sandbox binary; `target/debug/passerelle-sandbox` by default.
        ///   - arguments: extra `serve` options (`--lockout-after`, `--pos-ttl`, ...).
        public init(binary: URL? = nil, arguments: [String] = []) throws {
            let binary = binary ?? Self.projectRoot.appendingPathComponent("target/debug/passerelle-sandbox")
            guard FileManager.default.isExecutableFile(atPath: binary.path) else {
                throw StartError.binaryMissing(binary.path)
            }
            // Under the project, not /tmp: with-swift gives Swift its own /tmp.
            let portFile = Self.projectRoot.appendingPathComponent("target/swift-sandbox-\(UUID().uuidString).json")
            process = Process()
            process.executableURL = binary
            process.arguments = ["serve", "--port-file", portFile.path] + arguments
            stdin = Pipe()
            process.standardInput = stdin
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            info = try Self.waitForPortFile(portFile, process: process)
            try? FileManager.default.removeItem(at: portFile)
            guard let adminURL = URL(string: info.adminUrl) else {
                kill(process.processIdentifier, SIGKILL)
                throw StartError.didNotStart("bad admin URL \(info.adminUrl)")
            }
            admin = SandboxAdmin(adminURL: adminURL, token: info.adminToken)
        }

        deinit {
            stop()
        }

        private static func waitForPortFile(_ file: URL, process: Process) throws -> SandboxInfo {
            for _ in 0..<200 {
                if let data = try? Data(contentsOf: file) {
                    return try SandboxInfo.decode(data)
                }
                guard process.isRunning else { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            kill(process.processIdentifier, SIGKILL)
            throw StartError.didNotStart("no port file after 10 s")
        }

        /// Closes its stdin (it exits), kills it if it is still running, and waits for it.
        public func stop() {
            try? stdin.fileHandleForWriting.close()
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }
#endif
