/// What ``OSLogLogger`` writes for a record, split by privacy: the part shown in any log
/// (`.public`) and the part the system redacts outside a debugger (`.private`).
///
/// Public: the call site's constant ``LogRecord/text`` and the fields the library declares safe
/// (``LogField/isPublic``: a status, a count, a duration). Private: every other field's value
/// (order ids, location names, HubRise's error texts), already redacted of secrets in Rust
/// but still the restaurant's data. Compiled everywhere so the split is tested on Linux; `os`
/// needs each part's privacy written as a literal, so `OSLogLogger` branches on
/// ``privatePart`` being empty.
struct OSLogLine: Equatable, Sendable {
    /// `text` followed by the public fields, `name=value` each: `"order received status=new"`.
    let publicPart: String
    /// The other fields, `name=value` each; empty when every field is public.
    let privatePart: String

    init(_ record: LogRecord) {
        let pair = { (field: LogField) in "\(field.name)=\(field.value)" }
        publicPart = ([record.text] + record.fields.filter(\.isPublic).map(pair)).joined(separator: " ")
        privatePart = record.fields.filter { !$0.isPublic }.map(pair).joined(separator: " ")
    }
}
