import Foundation
import HeraldPluginKit

/// One alert as a syslog message: RFC 5424 or RFC 3164 text, and its
/// framing on the wire.
struct SyslogMessage {
    var config: Config
    var event: Event
    var msgid: String
    var text: String
    var time: Date
    var processID: Int32

    /// RFC 5424 severities for our levels.
    static func severity(_ level: Event.Level) -> Int {
        switch level {
        case .critical: 2  // crit
        case .error: 3     // err
        case .warning: 4   // warning
        case .recovery: 5  // notice
        case .info: 6      // info
        }
    }

    var priority: Int { config.facility * 8 + Self.severity(event.level) }

    /// The message without framing, cut to `max_message_bytes`.
    var bytes: [UInt8] {
        let header: [UInt8]
        var body = Array(text.utf8)
        switch config.format {
        case .rfc5424:
            header = Array(("<\(priority)>1 \(Self.rfc3339(time)) \(config.hostname) \(config.appName) \(processID) "
                + "\(Self.headerField(msgid, maxLength: 32)) \(structuredData)").utf8)
            // MSG-UTF8 starts with a BOM; pure ASCII text goes as MSG-ANY without one.
            if !body.isEmpty { body = (body.allSatisfy { $0 < 0x80 } ? [0x20] : [0x20, 0xEF, 0xBB, 0xBF]) + body }
        case .rfc3164:
            header = Array("<\(priority)>\(Self.bsdTime(time)) \(config.hostname) \(config.appName)[\(processID)]:".utf8)
            if !body.isEmpty { body = [0x20] + body }
        }
        return header + Self.prefix(of: body, fitting: max(0, config.maxMessageBytes - header.count))
    }

    /// RFC 6587 framing for TCP: `LEN SP MSG`, or the message and a newline.
    static func framed(_ message: [UInt8], _ framing: Config.Framing) -> [UInt8] {
        switch framing {
        case .octetCounting: Array("\(message.count) ".utf8) + message
        // A CR ends a line for many receivers too.
        case .newline: message.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 } + [0x0A]
        }
    }

    /// The alert's key fields as one SD-ELEMENT, values escaped per RFC 5424 §6.3.3.
    var structuredData: String {
        var parameters = [("id", event.id), ("name", event.name), ("level", event.level.rawValue),
                          ("status", event.status), ("object", event.objectID), ("policy", event.policy),
                          ("team", event.team), ("dedup_key", event.dedupKey), ("starts_at", event.startsAt)]
        if let endsAt = event.endsAt { parameters.append(("ends_at", endsAt)) }
        // Each value capped, so the header stays within a datagram whatever
        // the alert says, and control characters (CR, LF, NUL...) made
        // spaces: a receiver that writes a line per message must not see
        // a header split into lines of the sender's choosing.
        let text = parameters.map { name, value in
            let flat = Array(value.utf8).map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 }
            let capped = String(decoding: Self.prefix(of: flat, fitting: 128), as: UTF8.self)
            let escaped = capped.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "]", with: "\\]")
            return " \(name)=\"\(escaped)\""
        }
        return "[\(config.structuredDataID)\(text.joined())]"
    }

    /// Header fields are printable ASCII without spaces; "-" when empty.
    static func headerField(_ value: String, maxLength: Int) -> String {
        let kept = String(value.unicodeScalars.filter { (33...126).contains($0.value) }.prefix(maxLength))
        return kept.isEmpty ? "-" : kept
    }

    static func isHeaderName(_ value: String, maxLength: Int) -> Bool {
        !value.isEmpty && value.utf8.count <= maxLength && value.utf8.allSatisfy { (33...126).contains($0) }
    }

    /// The longest prefix of `bytes` within `limit` that ends on a UTF-8 character boundary.
    static func prefix(of bytes: [UInt8], fitting limit: Int) -> [UInt8] {
        guard bytes.count > limit else { return bytes }
        var end = limit
        while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }  // back off continuation bytes
        return Array(bytes[..<end])
    }

    static func rfc3339(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// `Mmm dd hh:mm:ss` in UTC, day padded with a space (RFC 3164 §4.1.2).
    static func bsdTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.month, .day, .hour, .minute, .second], from: date)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        let day = parts.day ?? 1
        return "\(months[(parts.month ?? 1) - 1]) \(day < 10 ? " " : "")\(day) \(two(parts.hour)):\(two(parts.minute)):\(two(parts.second))"
    }
}
