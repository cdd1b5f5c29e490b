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
        let webhook = try decodeJSONBody(AlertmanagerWebhookBody.self, from: body)
        guard webhook.version == "4" else { throw IngestError("version", "expected \"4\", found \"\(webhook.version)\"") }
        var alerts: [Alert] = []
        for (index, alert) in webhook.alerts.enumerated() {
            alerts.append(try alert.alert(team: team, now: now, at: "alerts[\(index)]"))
        }
        return alerts
    }

    /// The alerts of a `POST /api/v2/alerts` body (what Prometheus sends):
    /// an `endsAt` in the future arms auto-clear.
    public static func apiAlerts(body: [UInt8], team: String, now: Date) throws(IngestError) -> [Alert] {
        let alerts = try decodeJSONBody([AlertmanagerAlert].self, from: body)
        var taken: [Alert] = []
        for (index, alert) in alerts.enumerated() {
            taken.append(try alert.alert(team: team, now: now, at: "[\(index)]", clearsAtEnd: true))
        }
        return taken
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
    static func fingerprint(_ labels: [String: String]) -> String {
        let text = labels.sorted { $0.key < $1.key }.map { "\($0.key)\u{1F}\($0.value)" }.joined(separator: "\u{1E}")
        let hash = text.utf8.reduce(UInt64(14695981039346656037)) { ($0 ^ UInt64($1)) &* 1099511628211 }
        return String(format: "%016llx", hash)
    }
}

/// Alertmanager's webhook body (version 4): the alerts of one group.
struct AlertmanagerWebhookBody: Decodable {
    let version: String
    let status: String?
    let alerts: [AlertmanagerAlert]
}
