public import Foundation
public import HeraldCore

/// Alertmanager's alerts, taken in: its webhook (version 4) and its own
/// `POST /api/v2/alerts`, which Prometheus sends.
///
/// | Alertmanager | event |
/// |---|---|
/// | `labels.alertname` | `name` |
/// | `labels.severity` critical / error (major) / warning (warn, minor) / info (informational, none) | level; Warning when absent |
/// | `labels.object_id`, `instance`, `pod`, `host`, `job`, else the fingerprint | `object_id` |
/// | `status` resolved, or `endsAt` in the past (API v2) | `resolved` |
/// | `labels`, `annotations` | labels, annotations (`value` stays `value`) |
/// | `startsAt`, `endsAt` | `starts_at`, `ends_at` |
/// | `endsAt` in the future (API v2) | auto-clear then, unless a repeat moves it later: as Alertmanager resolves an alert Prometheus stopped sending |
///
/// Each alert's event id is `hub:alertmanager:<fingerprint>:<startsAt>` (and
/// `:resolved`), so the repeats Prometheus and Alertmanager send while an
/// alert goes on are recognised and stored once. An alert sent without
/// `startsAt` (amtool, scripts) continues its fingerprint's open alert, as
/// in Alertmanager, and starts now only when none is open (`Alert.open`).
public enum AlertmanagerFormat {
    /// An alert taken in: its event, and for one sent without `startsAt`
    /// how it continues its fingerprint's open alert.
    public struct Alert: Sendable {
        public let event: Event
        public let open: OpenAlert?
    }

    /// The alerts of an Alertmanager webhook body (version 4).
    public static func webhookAlerts(body: [UInt8], team: String, now: Date) throws(IngestError) -> [Alert] {
        try webhookAlerts(try AlertmanagerWebhookBody(parseJSONBody(body)), team: team, now: now)
    }

    /// The alerts of a `POST /api/v2/alerts` body (what Prometheus sends):
    /// an `endsAt` in the future arms auto-clear.
    public static func apiAlerts(body: [UInt8], team: String, now: Date) throws(IngestError) -> [Alert] {
        try apiAlerts(try AlertmanagerAlert.list(parseJSONBody(body), at: ""), team: team, now: now)
    }

    static func webhookAlerts(_ webhook: AlertmanagerWebhookBody, team: String, now: Date) throws(IngestError) -> [Alert] {
        guard webhook.version == "4" else { throw IngestError("version", "expected \"4\", found \"\(webhook.version)\"") }
        var alerts: [Alert] = []
        for (index, alert) in webhook.alerts.enumerated() {
            alerts.append(try alert.alert(team: team, now: now, at: "alerts[\(index)]"))
        }
        return alerts
    }

    static func apiAlerts(_ alerts: [AlertmanagerAlert], team: String, now: Date) throws(IngestError) -> [Alert] {
        var taken: [Alert] = []
        for (index, alert) in alerts.enumerated() {
            taken.append(try alert.alert(team: team, now: now, at: "[\(index)]", clearsAtEnd: true))
        }
        return taken
    }

    /// The same two readers through Foundation's decoder (the format's
    /// `Decodable` conformances): the reference the fuzz targets hold the
    /// tree readers above to, field for field and error for error.
    static func decodedWebhookAlerts(body: [UInt8], team: String, now: Date) throws(IngestError) -> [Alert] {
        try webhookAlerts(try decodeJSONBody(AlertmanagerWebhookBody.self, from: body), team: team, now: now)
    }

    static func decodedAPIAlerts(body: [UInt8], team: String, now: Date) throws(IngestError) -> [Alert] {
        try apiAlerts(try decodeJSONBody([AlertmanagerAlert].self, from: body), team: team, now: now)
    }

    /// The events of a webhook body, as `webhookAlerts` takes them.
    public static func webhookEvents(body: [UInt8], team: String, now: Date) throws(IngestError) -> [Event] {
        try webhookAlerts(body: body, team: team, now: now).map(\.event)
    }

    /// The events of a `POST /api/v2/alerts` body, as `apiAlerts` takes them.
    public static func apiEvents(body: [UInt8], team: String, now: Date) throws(IngestError) -> [Event] {
        try apiAlerts(body: body, team: team, now: now).map(\.event)
    }
}

struct AlertmanagerAlert: Decodable {
    let status: String?
    let labels: [String: String]
    let annotations: [String: String]?
    let startsAt: String?
    let endsAt: String?
    let fingerprint: String?

    static let levels: [String: Level] = [
        "critical": .critical, "error": .error, "major": .error, "warning": .warning, "warn": .warning,
        "minor": .warning, "info": .info, "informational": .info, "none": .info,
    ]

    /// - Parameter clearsAtEnd: an `endsAt` in the future arms auto-clear (API v2).
    func alert(team: String, now: Date, at path: String, clearsAtEnd: Bool = false) throws(IngestError)
        -> AlertmanagerFormat.Alert {
        guard let name = labels["alertname"], !name.isEmpty else { throw IngestError("\(path).labels.alertname", "required") }
        var level = Level.warning
        if let severity = labels["severity"] {
            guard let named = Self.levels[severity.lowercased()] else {
                throw IngestError("\(path).labels.severity",
                                  "expected critical, error, warning or info (or major, minor, warn...), found \"\(severity)\"")
            }
            level = named
        }
        func date(_ text: String?, _ field: String) throws(IngestError) -> Date? {
            // Go's zero time is how Alertmanager writes "no end".
            guard let text, !text.isEmpty, !text.hasPrefix("0001-01-01") else { return nil }
            guard let date = Timestamp.parse(text) else { throw IngestError("\(path).\(field)", "expected an RFC 3339 time") }
            guard EventLimits.contains(date) else { throw IngestError("\(path).\(field)", EventLimits.rangeMessage) }
            return date
        }
        let started = try date(startsAt, "startsAt")
        let ended = try date(endsAt, "endsAt")
        if let started, let ended, ended < started {
            // As Alertmanager's own API refuses it.
            throw IngestError("\(path).endsAt", "must not be before startsAt")
        }
        if let status, !["firing", "resolved"].contains(status) {
            throw IngestError("\(path).status", "expected firing or resolved, found \"\(status)\"")
        }
        let resolved = status == "resolved" || (status == nil && ended.map { $0 <= now } == true)
        // An empty fingerprint (a hostile sender's) would leave the event without an object id.
        let fingerprint = self.fingerprint.flatMap { $0.isEmpty ? nil : $0 } ?? Self.fingerprint(labels)
        let object = ["object_id", "instance", "pod", "host", "job"].lazy.compactMap { labels[$0] }.first { !$0.isEmpty }
            ?? fingerprint
        let start = started ?? now
        let prefix = "\(Event.hubIDPrefix)alertmanager:\(fingerprint):"
        let event = Event(id: "\(prefix)\(Timestamp.iso8601(start))\(resolved ? Self.resolvedSuffix : "")",
                          team: team, name: name, level: level, status: resolved ? .resolved : .firing, objectID: object,
                          labels: labels, annotations: annotations ?? [:], startsAt: start,
                          endsAt: resolved ? (ended ?? now) : nil,
                          timeoutSeconds: clearsAtEnd && !resolved
                              ? ended.map { EventLimits.timeoutSeconds($0.timeIntervalSince(now)) } : nil,
                          source: "alertmanager")
        let open = started == nil ? OpenAlert(prefix: prefix, suffix: resolved ? Self.resolvedSuffix : "") : nil
        return AlertmanagerFormat.Alert(event: event, open: open)
    }

    /// What a resolved alert's event id ends with.
    static let resolvedSuffix = ":resolved"

    /// A stable hash of the label set, for senders that give no fingerprint (Prometheus).
    ///
    /// FNV-1a (64 bit) of `name US value` pairs sorted by name and joined
    /// by RS, as 16 hex digits. Stored event ids hold it: it must never change.
    /// Hashed pair by pair, not over one joined string, and written in hex
    /// by hand: it runs for every alert Prometheus sends.
    static func fingerprint(_ labels: [String: String]) -> String {
        var hash: UInt64 = 14695981039346656037
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
        for (index, label) in labels.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { mix(0x1E) }
            for byte in label.key.utf8 { mix(byte) }
            mix(0x1F)
            for byte in label.value.utf8 { mix(byte) }
        }
        return String(decoding: (0..<16).map { hexDigits[Int(hash >> (60 - 4 * UInt64($0)) & 0xF)] }, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

/// Alertmanager's webhook body (version 4): the alerts of one group.
struct AlertmanagerWebhookBody: Decodable {
    let version: String
    let status: String?
    let alerts: [AlertmanagerAlert]
}

// MARK: - Reading the checked tree
//
// Alertmanager's bodies are read from `JSONShape`'s tree rather than with
// `JSONDecoder`: in a profile of one alert per request
// (`PROFILE=burst1 ONLY=alertmanager scripts/benchmark.sh`) Foundation's
// decoder was 9 % of the daemon's CPU, the largest single cost of ingest.
// Each reader refuses what the synthesized `Decodable` conformance refuses,
// in the same order (declaration order), with the same field and message;
// the fuzz targets check both on every input.

extension AlertmanagerWebhookBody {
    init(_ value: JSONShape.Value) throws(IngestError) {
        let members = try TreeReader.members(of: value, at: "")
        version = try TreeReader.string(members, "version", at: "")
        status = try TreeReader.optional(members, "status", at: "", TreeReader.string(_:at:))
        let alerts = try TreeReader.required(members, "alerts", at: "", "an array")
        self.alerts = try AlertmanagerAlert.list(alerts, at: "alerts")
    }
}

extension AlertmanagerAlert {
    /// The alerts of an array at `path` ("" for the body itself).
    static func list(_ value: JSONShape.Value, at path: String) throws(IngestError) -> [AlertmanagerAlert] {
        let items = try TreeReader.items(value, at: path.isEmpty ? "body" : path)
        var alerts: [AlertmanagerAlert] = []
        alerts.reserveCapacity(items.count)
        for (index, item) in items.enumerated() { alerts.append(try AlertmanagerAlert(item, at: "\(path)[\(index)]")) }
        return alerts
    }

    init(_ value: JSONShape.Value, at path: String) throws(IngestError) {
        let members = try TreeReader.members(of: value, at: path)
        status = try TreeReader.optional(members, "status", at: path, TreeReader.string(_:at:))
        labels = try TreeReader.strings(TreeReader.required(members, "labels", at: path, "an object"),
                                        at: TreeReader.field(path, "labels"))
        annotations = try TreeReader.optional(members, "annotations", at: path, TreeReader.strings(_:at:))
        startsAt = try TreeReader.optional(members, "startsAt", at: path, TreeReader.string(_:at:))
        endsAt = try TreeReader.optional(members, "endsAt", at: path, TreeReader.string(_:at:))
        fingerprint = try TreeReader.optional(members, "fingerprint", at: path, TreeReader.string(_:at:))
    }
}
