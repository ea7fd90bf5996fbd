#!/usr/bin/env bash
# Checks, on Linux, the Swift that only builds on Apple platforms (no Xcode here):
#   - the demo app's SwiftUI/UIKit sources and Passerelle's Keychain, file-protection and os_log
#     code parse (`swiftc -parse`: syntax only, no type checking);
#   - KeychainSecretStore and OSLogLogger type-check in Swift 6 mode against stand-ins of the
#     Security and os modules (bindings/swift/Tests/AppleStubs/) and the generated declarations
#     they rely on.
#
#   ../shared/tools/with-swift ios-demo/check-apple-sources.sh      (from the project root)
set -euo pipefail
cd "$(dirname "$0")/.."

swiftc -parse -swift-version 6 ios-demo/PasserelleDemo/*.swift
swiftc -parse -swift-version 6 \
  bindings/swift/Sources/Passerelle/KeychainSecretStore.swift bindings/swift/Sources/Passerelle/DataDirectory.swift \
  bindings/swift/Sources/Passerelle/OSLogLogger.swift bindings/swift/Sources/Passerelle/NetworkMonitor.swift

work=target/apple-stubs
rm -rf "$work" && mkdir -p "$work"
for module in Security os; do
  swiftc -swift-version 5 -parse-as-library -emit-module -module-name "$module" \
    -o "$work/$module.swiftmodule" "bindings/swift/Tests/AppleStubs/$module.swift"
done
# The declarations of the generated bindings the two files rely on.
cat >"$work/Generated.swift" <<'SWIFT'
public protocol SecretStore: AnyObject, Sendable {
    func get(key: String) throws -> String?
    func set(key: String, value: String) throws
    func delete(key: String) throws
}
public enum SecretStoreError: Error { case Unavailable(reason: String) }
public protocol Logger: AnyObject, Sendable { func log(record: LogRecord) }
public enum LogLevel: Sendable { case trace, debug, info, warn, error }
public struct LogRecord: Sendable { public var level: LogLevel; public var target: String; public var message: String }
SWIFT
generated=bindings/swift/Sources/Passerelle/Generated/passerelle_core.swift
for declaration in "public protocol SecretStore: AnyObject, Sendable" "case Unavailable(reason: String" \
  "public protocol Logger: AnyObject, Sendable" "public var target: String" "public var message: String"; do
  grep -qF "$declaration" "$generated" || { echo "the generated bindings changed: $declaration" >&2; exit 1; }
done
swiftc -typecheck -swift-version 6 -parse-as-library -I "$work" "$work/Generated.swift" \
  bindings/swift/Sources/Passerelle/KeychainSecretStore.swift bindings/swift/Sources/Passerelle/OSLogLogger.swift
echo "Apple-only sources parse; KeychainSecretStore and OSLogLogger type-check against the stand-ins"
