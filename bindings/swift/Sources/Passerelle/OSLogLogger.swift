#if canImport(os)
    import os

    /// Routes Passerelle's logs to the unified logging system (`os.Logger`), one category per
    /// Rust module (`passerelle::sync`, `passerelle::connect`, ...).
    ///
    /// ```swift
    /// try setLogger(logger: OSLogLogger(subsystem: "com.example.pos"), level: .info)
    /// ```
    ///
    /// Each record's constant text and the fields the library declares safe are logged as public,
    /// so a sysdiagnose sent to support says what happened; every other value (order ids,
    /// location names, HubRise's answers) is private, shown only while a debugger is attached.
    /// Passerelle also redacts tokens, codes and passwords before a record leaves Rust.
    public final class OSLogLogger: PasserelleLogger, Sendable {
        /// The subsystem the records are filed under.
        public let subsystem: String
        /// One `os.Logger` per category, made on first use: the library logs from its own
        /// threads, often, to a handful of categories.
        private let loggers = Locked<[String: os.Logger]>([:])

        /// - Parameter subsystem: usually the app's bundle identifier.
        public init(subsystem: String) {
            self.subsystem = subsystem
        }

        /// Called by the library on the thread that logged.
        public func log(record: LogRecord) {
            let logger = logger(category: record.target)
            let line = OSLogLine(record)
            let type: OSLogType =
                switch record.level {
                case .trace, .debug: .debug
                case .info: .info
                case .warn: .default
                case .error: .error
                }
            // `privacy:` must be a literal for os to honour it: one call per shape.
            if line.privatePart.isEmpty {
                logger.log(level: type, "\(line.publicPart, privacy: .public)")
            } else {
                logger.log(level: type, "\(line.publicPart, privacy: .public) \(line.privatePart, privacy: .private)")
            }
        }

        private func logger(category: String) -> os.Logger {
            loggers.withLock { loggers in
                if let logger = loggers[category] { return logger }
                let logger = os.Logger(subsystem: subsystem, category: category)
                loggers[category] = logger
                return logger
            }
        }
    }
#endif
