#!/usr/bin/env bash
# Type-checks, on Linux (no Xcode here), the Swift that only builds on Apple platforms, in Swift 6
# language mode with warnings as errors:
#   - Passerelle's Keychain store, os_log bridge and network monitor, compiled into the Passerelle
#     module as on iOS (`canImport(Security)`, `canImport(os)`, `canImport(Network)`);
#   - the demo app's SwiftUI, UIKit, AuthenticationServices and AudioToolbox sources, their
#     `#Preview`s included, against the Passerelle, PasserelleSandbox and PasserelleDemoKit modules
#     built here from source.
# Apple's frameworks are replaced by stand-ins (bindings/swift/Tests/AppleStubs/) that copy the
# iOS 18.0 SDK's signatures, isolation and @Sendable included. A self-test first proves the
# stand-ins catch what Xcode 16 does: a main-actor call without `await` in `.refreshable`, and an
# error in a `#Preview`'s body (Xcode's preview macro plugin is replaced by one that expands
# previews to nothing once the compiler has type-checked their bodies).
#
#   ../shared/tools/with-swift ios-demo/check-apple-sources.sh      (from the project root)
#
# Availability is inert on Linux: check-availability.pl refuses, above each floor (the package's
# iOS 16, the app's iOS 17), a use of what the stand-ins or Passerelle mark `@available(iOS X…)`
# outside `if #available`; a self-test plants one. The os stand-in refuses a computed `privacy:`.
#
# Names (bindings/swift/README.md, "Names"): a probe per generated spelling (`authorizeUrl`,
# `handleOpenUrl`, `signIn(…cancellation:)`, `.InvalidCredentials`...) must fail to type-check with
# `import Passerelle` alone, its Swift spelling must pass, and `Passerelle.Order` must name ours
# beside an app's own `Order`.
#
# What stays unchecked here: code under `#if os(iOS)` (file protection in DataDirectory.swift)
# is parsed, not type-checked; the stand-ins declare only what the sources use.
set -euo pipefail
cd "$(dirname "$0")/.."

work=target/apple-check
stubs=bindings/swift/Tests/AppleStubs
rm -rf "$work" && mkdir -p "$work"

# Syntax of every Apple-only file, whatever its #if branches.
swiftc -parse -swift-version 6 ios-demo/PasserelleDemo/*.swift bindings/swift/Sources/Passerelle/*.swift

# The stand-in of Xcode's preview macro plugin, then the stand-ins of the frameworks, compiled like
# Apple's modules (Swift 5 mode, concurrency annotations).
swiftc -O "$stubs/PreviewsMacros.swift" -o "$work/PreviewsMacros"
previews=(-load-plugin-executable "$work/PreviewsMacros#PreviewsMacros")
for module in UIKit SwiftUI AuthenticationServices AudioToolbox Security os Network; do
  swiftc -swift-version 5 -parse-as-library -emit-module -module-name "$module" -I "$work" "${previews[@]}" \
    -o "$work/$module.swiftmodule" "$stubs/$module.swift"
done

strict=(-swift-version 6 -parse-as-library -warnings-as-errors -I "$work" -I bindings/swift/Sources/PasserelleFFI/include "${previews[@]}")

# Self-test: the class of error issue 16 found must fail here as it fails in Xcode 16.
cat >"$work/Probe.swift" <<'SWIFT'
import Observation
import SwiftUI

@MainActor @Observable final class ProbeModel {
    var count = 0
    func refresh() { count += 1 }
}

struct ProbeView: View {
    let model: ProbeModel
    var body: some View {
        Text("\(model.count)").refreshable { model.refresh() }
    }
}
SWIFT
if swiftc -typecheck "${strict[@]}" "$work/Probe.swift" >"$work/probe.log" 2>&1; then
  echo "self-test: the stand-ins accept .refreshable { model.refresh() }, which Xcode 16 refuses" >&2
  exit 1
fi
grep -q "refresh()" "$work/probe.log" || { cat "$work/probe.log" >&2; exit 1; }
sed -i 's/\.refreshable { model\.refresh() }/.refreshable { await model.refresh() }/' "$work/Probe.swift"
swiftc -typecheck "${strict[@]}" "$work/Probe.swift" \
  || { echo "self-test: the corrected probe should type-check" >&2; exit 1; }
echo "self-test: .refreshable { model.refresh() } refused, { await model.refresh() } accepted"

# Self-test: a preview's body is type-checked; a correct one passes.
printf 'import SwiftUI\n#Preview { Text(undefinedPreviewValue) }\n' >"$work/PreviewProbe.swift"
if swiftc -typecheck "${strict[@]}" "$work/PreviewProbe.swift" >"$work/preview-probe.log" 2>&1; then
  echo "self-test: a #Preview calling something undefined type-checks: previews are not checked" >&2
  exit 1
fi
grep -q "undefinedPreviewValue" "$work/preview-probe.log" || { cat "$work/preview-probe.log" >&2; exit 1; }
printf 'import SwiftUI\n#Preview { Text("Bonjour") }\n' >"$work/PreviewProbe.swift"
swiftc -typecheck "${strict[@]}" "$work/PreviewProbe.swift" \
  || { echo "self-test: a correct #Preview should type-check" >&2; exit 1; }
echo "self-test: a #Preview's body is type-checked"

# Self-test: os needs each `privacy:` written as a constant (Apple's compiler refuses a computed
# one: "argument must be a static method or property of 'OSLogPrivacy'"); so does the stand-in.
cat >"$work/PrivacyProbe.swift" <<'SWIFT'
import os

func probe(_ logger: Logger, _ value: String, secret: Bool) {
    let privacy: OSLogPrivacy = secret ? .private : .public
    logger.log(level: .info, "\(value, privacy: privacy)")
}
SWIFT
if swiftc -typecheck "${strict[@]}" "$work/PrivacyProbe.swift" >"$work/privacy-probe.log" 2>&1; then
  echo "self-test: the os stand-in accepts a computed privacy:, which Apple's compiler refuses" >&2
  exit 1
fi
grep -q "compile-time constant" "$work/privacy-probe.log" || { cat "$work/privacy-probe.log" >&2; exit 1; }
cat >"$work/PrivacyProbe.swift" <<'SWIFT'
import os

func probe(_ logger: Logger, _ value: String, secret: Bool) {
    if secret {
        logger.log(level: .info, "\(value, privacy: .private)")
    } else {
        logger.log(level: .info, "\(value, privacy: .public)")
    }
}
SWIFT
swiftc -typecheck "${strict[@]}" "$work/PrivacyProbe.swift" \
  || { echo "self-test: constant privacy: branches should type-check" >&2; exit 1; }
echo "self-test: a computed privacy: refused, constant branches accepted"

# Availability: `@available(iOS 17…)` is inert on Linux, so the type check alone accepts an iOS 17
# API called where iOS 16 runs. check-availability.pl reads what the stand-ins (and Passerelle's
# own sources) mark `@available(iOS X…)` and refuses each use above the floor outside
# `if #available` or an `@available` declaration. Self-test: a planted violation type-checks
# here (the compiler does not see it) and the lint names it.
symbols=("$stubs"/*.swift bindings/swift/Sources/Passerelle/*.swift)
cat >"$work/AvailabilityProbe.swift" <<'SWIFT'
import AuthenticationServices

@MainActor func probeSession(_ url: URL) -> ASWebAuthenticationSession {
    ASWebAuthenticationSession(url: url, callback: .customScheme("probe"), completionHandler: { _, _ in })
}
SWIFT
swiftc -typecheck "${strict[@]}" "$work/AvailabilityProbe.swift" \
  || { echo "self-test: the availability probe should type-check (availability is inert on Linux)" >&2; exit 1; }
if perl ios-demo/check-availability.pl --floor 16.0 --symbols "${symbols[@]}" --sources "$work/AvailabilityProbe.swift" \
  2>"$work/availability-probe.log"; then
  echo "self-test: the availability lint accepts an iOS 17.4 initializer used unguarded at an iOS 16 floor" >&2
  exit 1
fi
grep -q "AvailabilityProbe.swift:4: ASWebAuthenticationSession.init(url:callback:completionHandler:) needs iOS 17.4" \
  "$work/availability-probe.log" || { cat "$work/availability-probe.log" >&2; exit 1; }
echo "self-test: an unguarded iOS 17.4 initializer type-checks on Linux and the availability lint refuses it"
# The floors: the package's `.iOS(.vN)`, the app's deployment target.
package_floor=$(sed -n 's/.*platforms:.*\.iOS(\.v\([0-9]*\)).*/\1.0/p' bindings/swift/Package.swift | head -n 1)
app_floor=$(sed -n '/deploymentTarget:/,/iOS:/s/^ *iOS: "\([0-9.]*\)".*/\1/p' ios-demo/project.yml)
if [ -z "$package_floor" ] || [ -z "$app_floor" ]; then
  echo "floors not found: '$package_floor' '$app_floor'" >&2
  exit 1
fi
perl ios-demo/check-availability.pl --floor "$package_floor" --symbols "${symbols[@]}" \
  --sources bindings/swift/Sources/Passerelle/*.swift
perl ios-demo/check-availability.pl --floor "$app_floor" --symbols "${symbols[@]}" \
  --sources ios-demo/PasserelleDemo/*.swift ios-demo/PasserelleDemoKit/Sources/PasserelleDemoKit/*.swift
echo "availability: no API above iOS $package_floor (Passerelle) or iOS $app_floor (the demo) used unguarded"

# Passerelle as on iOS: the generated bindings in their module, then every source of Passerelle's,
# the Keychain store, os_log bridge and network monitor included.
swiftc -emit-module -module-name PasserelleBindings -package-name Passerelle "${strict[@]}" \
  -o "$work/PasserelleBindings.swiftmodule" bindings/swift/Sources/PasserelleBindings/*.swift
swiftc -emit-module -module-name Passerelle -package-name Passerelle "${strict[@]}" -o "$work/Passerelle.swiftmodule" \
  bindings/swift/Sources/Passerelle/*.swift

# One spelling of each call (bindings/swift/README.md, "Names"): what the generated bindings spell
# otherwise is out of an app's reach, since Passerelle does not re-export them. Each probe's first
# line, written as an app would with `import Passerelle` alone, must fail to type-check and name
# the generated spelling; its second line, the Swift spelling, must type-check.
probe_names() { # $1 generated spelling the compiler must name, $2 its use, $3 the Swift spelling's
  printf 'import Foundation\nimport Passerelle\n%s\n' "$2" >"$work/NameProbe.swift"
  if swiftc -typecheck "${strict[@]}" "$work/NameProbe.swift" >"$work/name-probe.log" 2>&1; then
    echo "self-test: an app reaches the generated spelling $1: $2" >&2
    exit 1
  fi
  grep -q "$1" "$work/name-probe.log" || { cat "$work/name-probe.log" >&2; exit 1; }
  printf 'import Foundation\nimport Passerelle\n%s\n' "$3" >"$work/NameProbe.swift"
  swiftc -typecheck "${strict[@]}" "$work/NameProbe.swift" \
    || { echo "self-test: the Swift spelling should type-check: $3" >&2; exit 1; }
}
probe_names authorizeUrl 'func p(_ a: HubriseAuthorization) -> URL { a.authorizeUrl }' \
  'func p(_ a: HubriseAuthorization) -> URL { a.authorizeURL }'
probe_names callbackUrlScheme 'func p(_ a: HubriseAuthorization) -> String? { a.callbackUrlScheme }' \
  'func p(_ a: HubriseAuthorization) -> String? { a.callbackURLScheme }'
probe_names handleOpenUrl 'func p(_ c: Client) { _ = c.handleOpenUrl }' \
  'func p(_ c: Client, _ u: URL) async throws -> OpenURLOutcome { try await c.handleOpenURL(u) }'
probe_names Cancellation 'func p(_ c: Client) async throws { _ = try await c.signIn(email: "", password: "", cancellation: Cancellation()) }' \
  'func p(_ c: Client) async throws { _ = try await c.signIn(email: "", password: "") }'
probe_names completeHubriseConnectionWithCode 'func p(_ c: Client) { _ = c.completeHubriseConnectionWithCode }' \
  'func p(_ c: Client) async throws { _ = try await c.completeHubriseConnection(code: "", state: "") }'
probe_names OpenUrlOutcome 'func p(_ o: OpenUrlOutcome) {}' 'func p(_ o: OpenURLOutcome) {}'
probe_names InvalidCredentials 'func p(_ e: PasserelleError) -> Bool { e == .InvalidCredentials }' \
  'func p(_ e: PasserelleError) -> Bool { e == .invalidCredentials }'
probe_names Unavailable 'func p() -> SecretStoreError { .Unavailable(reason: "") }' \
  'func p() -> SecretStoreError { .unavailable(reason: "") }'
probe_names stableCode 'func p(_ e: PasserelleError) -> String { e.stableCode() }' \
  'func p(_ e: PasserelleError) -> String { e.code }'
probe_names signInWithPosSession 'func p(_ c: Client) { _ = c.signInWithPosSession }' \
  'func p(_ c: Client) async throws -> POSAccount { try await c.signInWithPOSSession(accessToken: "") }'
probe_names PosAccount 'func p(_ a: PosAccount) {}' 'func p(_ a: POSAccount) {}'
probe_names hubriseApi 'func p(_ e: PasserelleError) -> Bool { if case .hubriseApi = e { true } else { false } }' \
  'func p(_ e: PasserelleError) -> Bool { if case .hubriseAPI = e { true } else { false } }'
probe_names hubriseApiUrl 'func p(_ c: PasserelleConfig) -> String { c.hubriseApiUrl }' \
  'func p(_ c: PasserelleConfig) -> String { c.hubriseAPIURL }'
probe_names PasserelleProtocol 'func p(_ c: any PasserelleProtocol) {}' 'func p(_ c: any PasserelleClient) {}'
probe_names PasserelleBindings 'func p(_ c: PasserelleBindings.Passerelle) {}' 'func p(_ c: Passerelle.Client) {}'
echo "self-test: the generated spellings are out of reach of \`import Passerelle\`; the Swift ones type-check"
# An app with an `Order`, `Money` and `Settings` of its own names ours through the module: no type
# of Passerelle's is named like the module (the class is `Client`).
cat >"$work/QualifiedNames.swift" <<'SWIFT'
import Passerelle

struct Order {}
struct Money {}
struct Settings {}

func qualified(_ mine: Order, _ order: Passerelle.Order, _ total: Passerelle.Money, _ settings: Passerelle.Settings,
               _ client: Passerelle.Client, _ error: Passerelle.PasserelleError) -> String { order.id }
SWIFT
swiftc -typecheck "${strict[@]}" "$work/QualifiedNames.swift" \
  || { echo "an app with its own Order cannot name Passerelle.Order" >&2; exit 1; }
echo "names: Passerelle.Order, Passerelle.Money, Passerelle.Settings and Passerelle.Client beside an app's own"
swiftc -emit-module -module-name PasserelleSandbox -package-name Passerelle "${strict[@]}" -o "$work/PasserelleSandbox.swiftmodule" \
  bindings/swift/Tests/PasserelleSandbox/*.swift
swiftc -emit-module -module-name PasserelleDemoKit "${strict[@]}" -o "$work/PasserelleDemoKit.swiftmodule" \
  ios-demo/PasserelleDemoKit/Sources/PasserelleDemoKit/*.swift

# The DocC articles' code, as an app would write it: every ```swift block of Passerelle.docc (but a
# Package.swift fragment marked `<!-- not compiled -->`) type-checks against Passerelle and the
# stand-ins, and uses nothing above iOS 17 unguarded (the articles' app uses PasserelleModel,
# iOS 17, as they say; the demo's floor). What the articles leave to the app (its root view) is
# in ios-demo/doc-snippets-support.swift.
awk -f ios-demo/doc-snippets.awk bindings/swift/Sources/Passerelle/Passerelle.docc/*.md >"$work/DocSnippets.swift"
# One spelling of each call: the Swift one (bindings/swift/README.md, "Names"), never the generated.
if grep -nE 'authorizeUrl|handleOpenUrl|callbackUrl|callbackHttps|cancellation:|OpenUrlOutcome|PasserelleBindings|PosSession|ViaPosBackend|PosAccount|\.hubriseApi\b|BaseUrl|OauthUrl|ApiUrl|redirectUri|\.(InvalidCredentials|Network|AccessDenied|Cancelled)\b' \
  "$work/DocSnippets.swift"; then
  echo "the DocC articles use a generated spelling (above): use the Swift one" >&2
  exit 1
fi
swiftc -typecheck "${strict[@]}" "$work/DocSnippets.swift" ios-demo/doc-snippets-support.swift
perl ios-demo/check-availability.pl --floor "$app_floor" --symbols "${symbols[@]}" --sources "$work/DocSnippets.swift"
echo "DocC: the articles' $(grep -c '^// .*\.md:' "$work/DocSnippets.swift") Swift blocks type-check and respect iOS $app_floor"

# The demo app.
swiftc -typecheck "${strict[@]}" ios-demo/PasserelleDemo/*.swift
echo "Apple-only sources type-check in Swift 6 mode: the demo app's views and previews, its web authentication, Keychain and os_log"
