// A stand-in for Apple's `os` module with the shapes of os.Logger that OSLogLogger uses, so that
// file type-checks on Linux (ios-demo/check-apple-sources.sh). Not a target; never linked.
public struct OSLogType: Sendable {
    public static let debug = OSLogType()
    public static let info = OSLogType()
    public static let `default` = OSLogType()
    public static let error = OSLogType()
}

/// Apple's `OSLogPrivacy` is a struct whose `.public`, `.private`... the compiler requires written
/// out at each interpolation ("argument must be a static method or property of 'OSLogPrivacy'"):
/// os reads them at compile time. Here an enum taken as a `_const` parameter gives the same
/// verdict on Linux: `privacy: .public` type-checks, `privacy: someVariable` does not.
public enum OSLogPrivacy: Sendable {
    case auto, `public`, `private`, sensitive
}

public struct OSLogInterpolation: StringInterpolationProtocol {
    public init(literalCapacity: Int, interpolationCount: Int) {}
    public mutating func appendLiteral(_ literal: String) {}
    public mutating func appendInterpolation(_ value: @autoclosure @escaping () -> String, privacy: _const OSLogPrivacy = .auto) {}
}

public struct OSLogMessage: ExpressibleByStringInterpolation {
    public init(stringInterpolation: OSLogInterpolation) {}
    public init(stringLiteral value: String) {}
}

public struct Logger: Sendable {
    public init(subsystem: String, category: String) {}
    public func log(level: OSLogType, _ message: OSLogMessage) {}
}
