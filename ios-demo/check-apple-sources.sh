#!/usr/bin/env bash
# Checks, on Linux, the Swift that only builds on Apple platforms (no Xcode here):
#   - the demo app's SwiftUI/UIKit sources and Passerelle's Keychain, file-protection and os_log
#     code parse (`swiftc -parse`: syntax only, no type checking);
#   - KeychainSecretStore type-checks in Swift 6 mode against a stand-in of the Security module
#     (bindings/swift/Tests/AppleStubs/Security.swift) and the generated SecretStore protocol.
#
#   ../shared/tools/with-swift ios-demo/check-apple-sources.sh      (from the project root)
set -euo pipefail
cd "$(dirname "$0")/.."

swiftc -parse -swift-version 6 ios-demo/PasserelleDemo/*.swift
swiftc -parse -swift-version 6 \
  bindings/swift/Sources/Passerelle/KeychainSecretStore.swift bindings/swift/Sources/Passerelle/DataDirectory.swift \
  bindings/swift/Sources/Passerelle/OSLogLogger.swift

work=target/apple-stubs
rm -rf "$work" && mkdir -p "$work"
swiftc -swift-version 5 -parse-as-library -emit-module -module-name Security \
  -o "$work/Security.swiftmodule" bindings/swift/Tests/AppleStubs/Security.swift
# The two declarations of the generated bindings the store relies on.
cat >"$work/Generated.swift" <<'SWIFT'
public protocol SecretStore: AnyObject, Sendable {
    func get(key: String) throws -> String?
    func set(key: String, value: String) throws
    func delete(key: String) throws
}
public enum SecretStoreError: Error { case Unavailable(reason: String) }
SWIFT
grep -q "public protocol SecretStore: AnyObject, Sendable" bindings/swift/Sources/Passerelle/Generated/passerelle_core.swift
grep -q "case Unavailable(reason: String" bindings/swift/Sources/Passerelle/Generated/passerelle_core.swift
swiftc -typecheck -swift-version 6 -parse-as-library -I "$work" \
  "$work/Generated.swift" bindings/swift/Sources/Passerelle/KeychainSecretStore.swift
echo "Apple-only sources: parse OK, KeychainSecretStore type-checks against the Security stand-in"
