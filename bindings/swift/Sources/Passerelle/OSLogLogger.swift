#if canImport(os)
    import os

    /// Routes Passerelle's logs to the unified logging system (`os.Logger`), one category per
    /// Rust module (`passerelle::sync`, `passerelle::connect`, ...).
    ///
    /// ```swift
    /// try setLogger(logger: OSLogLogger(subsystem: "com.example.pos"), level: .info)
    /// ```
    ///
    /// Passerelle redacts its records before they leave Rust (no tokens, codes, secrets or
    /// passwords), so they are logged as public by default and stay readable in a sysdiagnose
    /// sent to support; pass `publicMessages: false` to have the system redact them as well.
    public final class OSLogLogger: Logger, Sendable {
        /// The subsystem the records are filed under.
        public let subsystem: String
        private let publicMessages: Bool

        /// - Parameters:
        ///   - subsystem: usually the app's bundle identifier.
        ///   - publicMessages: whether the (already redacted) messages are shown outside a debugger.
        public init(subsystem: String, publicMessages: Bool = true) {
            self.subsystem = subsystem
            self.publicMessages = publicMessages
        }

        /// Called by the library on the thread that logged.
        public func log(record: LogRecord) {
            let logger = os.Logger(subsystem: subsystem, category: record.target)
            let type: OSLogType =
                switch record.level {
                case .trace, .debug: .debug
                case .info: .info
                case .warn: .default
                case .error: .error
                }
            if publicMessages {
                logger.log(level: type, "\(record.message, privacy: .public)")
            } else {
                logger.log(level: type, "\(record.message, privacy: .private)")
            }
        }
    }
#endif
