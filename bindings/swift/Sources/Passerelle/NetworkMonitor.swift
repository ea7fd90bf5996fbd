#if canImport(Network)
    import Foundation
    import Network

    /// Tells Passerelle when the network comes back, so orders sync at once instead of at the
    /// next attempt (``Client/networkAvailable()``).
    ///
    /// Keep one for as long as the ``Client`` instance:
    ///
    /// ```swift
    /// let monitor = PasserelleNetworkMonitor(app: app)
    /// ```
    public final class PasserelleNetworkMonitor: @unchecked Sendable {
        // NWPathMonitor calls its handler on `queue` only; `wasSatisfied` is touched there alone.
        private let monitor = NWPathMonitor()
        private var wasSatisfied = true

        /// Starts watching the device's network paths.
        public init(app: any PasserelleClient, queue: DispatchQueue = DispatchQueue(label: "passerelle.network")) {
            monitor.pathUpdateHandler = { [weak self] path in
                guard let self else { return }
                let satisfied = path.status == .satisfied
                if satisfied && !self.wasSatisfied {
                    try? app.networkAvailable()
                }
                self.wasSatisfied = satisfied
            }
            monitor.start(queue: queue)
        }

        deinit {
            monitor.cancel()
        }
    }
#endif
