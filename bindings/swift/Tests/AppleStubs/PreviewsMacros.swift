// A stand-in for Xcode's `PreviewsMacros` compiler plugin, so the demo's `#Preview`s type-check on
// Linux (ios-demo/check-apple-sources.sh builds it and passes it to swiftc with
// `-load-plugin-executable`). Not a target; never linked.
//
// It expands every `#Preview` to nothing: the compiler type-checks a macro's arguments (the
// preview's body) before asking for its expansion, so the body is checked all the same. It speaks
// the compiler's plugin protocol on stdin and stdout: each message is an 8-byte little-endian
// length followed by that many bytes of JSON.
import Foundation

func readMessage() -> [String: Any]? {
    let header = FileHandle.standardInput.readData(ofLength: 8)
    guard header.count == 8 else { return nil }
    let length = header.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian
    let body = FileHandle.standardInput.readData(ofLength: Int(length))
    return (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
}

func write(_ message: [String: Any]) {
    guard let body = try? JSONSerialization.data(withJSONObject: message) else { return }
    var length = UInt64(body.count).littleEndian
    FileHandle.standardOutput.write(Data(bytes: &length, count: 8) + body)
}

while let message = readMessage() {
    if let capability = message["getCapability"] as? [String: Any] {
        // Speaks the compiler's own protocol version: only the two messages below are used.
        let version = ((capability["capability"] as? [String: Any])?["protocolVersion"] as? Int) ?? 1
        write(["getCapabilityResult": ["capability": ["protocolVersion": version]]])
    } else if message["expandFreestandingMacro"] != nil {
        write(["expandMacroResult": ["expandedSource": "", "diagnostics": [Any]()]])
    } else {
        FileHandle.standardError.write(Data("PreviewsMacros stand-in: unexpected message \(message.keys.sorted())\n".utf8))
        exit(1)
    }
}
