// A stand-in for Apple's Network framework with the path monitor PasserelleNetworkMonitor uses, so
// it type-checks on Linux (ios-demo/check-apple-sources.sh). Not a target; never linked.
//
// As in the iOS 18.0 SDK: `NWPathMonitor` is `@unchecked Sendable` and calls its
// `@Sendable` update handler on the queue given to `start(queue:)`.
@_exported import Dispatch

public struct NWPath: Equatable, Sendable {
    public enum Status: Equatable, Sendable {
        case satisfied
        case unsatisfied
        case requiresConnection
    }

    public let status: NWPath.Status
}

final public class NWPathMonitor: @unchecked Sendable {
    public init() {}
    final public var pathUpdateHandler: (@Sendable (_ newPath: NWPath) -> Void)?
    final public func start(queue: DispatchQueue) {}
    final public func cancel() {}
}
