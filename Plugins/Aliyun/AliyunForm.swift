import COpenSSL
import Foundation
import HeraldPluginKit
import HTTPSupport

/// Aliyun CloudMonitor's alert callback: an HTML form of string fields.
struct AliyunForm {
    /// Field names and values, in the order sent (alphabetical, signature last).
    var fields: [(String, String)]

    init(event: Event, config: Config) {
        func mapped(_ name: String) -> String { config.fields[name]?.value(in: event) ?? "" }
        let dataMissing = [event.labels["alertState"], event.annotations["alertState"]].contains("INSUFFICIENT_DATA")
        let time = event.isResolved ? (event.endDate ?? event.startDate) : event.startDate
        let userId = mapped("userId")
        var dimensions = mapped("dimensions")
        if dimensions.isEmpty {
            // The sample's {k=v, k2=v2}: labels named dimensions.KEY, else the user and the object.
            let labelled = event.labels.filter { $0.key.hasPrefix("dimensions.") }.map { ($0.key.dropFirst(11), $0.value) }
                .sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }
            dimensions = "{" + (labelled.isEmpty ? ["userId=\(userId)", "instanceId=\(event.objectID)"] : labelled)
                .joined(separator: ", ") + "}"
        }
        fields = [
            ("alertName", mapped("alertName")),
            ("alertState", event.isResolved ? "OK" : dataMissing ? "INSUFFICIENT_DATA" : "ALERT"),
            // Without a value, the alert's state as a number, as a 0/1 metric would give it.
            ("curValue", config.fields["curValue"]?.value(in: event) ?? (event.isResolved ? "0" : "1")),
            ("dimensions", dimensions),
            ("expression", mapped("expression")),
            ("instanceName", mapped("instanceName")),
            ("metricName", mapped("metricName")),
            ("metricProject", mapped("metricProject")),
            ("namespace", mapped("namespace")),
            ("preTriggerLevel", event.previousLevel.map(Self.triggerLevel) ?? ""),
            ("ruleId", mapped("ruleId")),
            ("timestamp", time.flatMap { Int64(exactly: ($0.timeIntervalSince1970 * 1000).rounded()) }.map(String.init) ?? ""),
            ("triggerLevel", Self.triggerLevel(event.eventLevel)),
            ("userId", userId),
        ]
    }

    /// CloudMonitor's three levels: Error has none of its own and goes as WARN.
    static func triggerLevel(_ level: Event.Level) -> String {
        switch level {
        case .critical: "CRITICAL"
        case .error, .warning: "WARN"
        case .info, .recovery: "INFO"
        }
    }

    /// `application/x-www-form-urlencoded` UTF-8; with a secret, `signature`
    /// last: lowercase hex HMAC-SHA256, keyed by the secret, of every byte
    /// before "&signature=".
    func body(secret: String?) -> String {
        let unsigned = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        guard let secret else { return unsigned }
        return unsigned + "&signature=" + Self.hmacSHA256(key: Array(secret.utf8), data: Array(unsigned.utf8))
    }

    /// The form encoding browsers use: unreserved bytes as they are, space as +, the rest %XX.
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "*"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "): out += "+"
            default: out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func hmacSHA256(key: [UInt8], data: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = HMAC(EVP_sha256(), key, Int32(key.count), data, data.count, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}
