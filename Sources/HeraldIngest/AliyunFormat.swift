public import Foundation
public import HeraldCore

/// Aliyun CloudMonitor's form alert callback, taken in.
///
/// | form field | event |
/// |---|---|
/// | `alertName` | `name` |
/// | `triggerLevel` CRITICAL / WARN / INFO | level Critical / Warning / Info |
/// | `alertState` OK | `resolved`; ALERT and INSUFFICIENT_DATA fire (the latter also as label `alertState`) |
/// | `instanceName`, else `dimensions`' `instanceId` | `object_id` |
/// | `curValue`, `expression`, `preTriggerLevel` | annotations `value`, `expression`, `preTriggerLevel` |
/// | `metricName` | label `metric` |
/// | `metricProject`, `namespace`, `ruleId`, `userId`, `instanceName`, `dimensions` | labels of the same name |
/// | each `k=v` of `dimensions` | label `dimensions.k` |
/// | `timestamp` (ms) | `starts_at` when firing, `ends_at` when OK |
public enum AliyunFormat {
    static let levels: [String: Level] = ["CRITICAL": .critical, "WARN": .warning, "INFO": .info]

    /// The event of a callback's form body.
    public static func event(body: [UInt8], team: String, now: Date) throws(IngestError) -> Event {
        try event(try FormBody(body), team: team, now: now)
    }

    static func event(_ form: FormBody, team: String, now: Date) throws(IngestError) -> Event {
        let name = try form.required("alertName")
        let levelName = try form.required("triggerLevel")
        guard let level = levels[levelName.uppercased()] else {
            throw .invalid("triggerLevel", "expected CRITICAL, WARN or INFO, found \"\(levelName)\"")
        }
        let state = try form.required("alertState")
        guard ["OK", "ALERT", "INSUFFICIENT_DATA"].contains(state) else {
            throw .invalid("alertState", "expected OK, ALERT or INSUFFICIENT_DATA, found \"\(state)\"")
        }
        let dimensions = try parseDimensions(form.values["dimensions"] ?? "")
        guard let object = [form.values["instanceName"], dimensions["instanceId"]].compactMap({ $0 }).first(where: { !$0.isEmpty })
        else { throw .invalid("instanceName", "required (or an instanceId in dimensions)") }
        var time: Date?
        if let stamp = form.values["timestamp"], !stamp.isEmpty {
            guard let milliseconds = Int64(stamp) else { throw .invalid("timestamp", "expected milliseconds since the epoch") }
            guard let date = EventLimits.date(milliseconds: milliseconds) else {
                throw .invalid("timestamp", "\(EventLimits.rangeMessage) (Unix milliseconds)")
            }
            time = date
        }
        var labels: [String: String] = [:]
        for key in ["metricProject", "namespace", "ruleId", "userId", "instanceName", "dimensions"] {
            if let value = form.values[key], !value.isEmpty { labels[key] = value }
        }
        if let metric = form.values["metricName"], !metric.isEmpty { labels["metric"] = metric }
        if state == "INSUFFICIENT_DATA" { labels["alertState"] = state }
        for (key, value) in dimensions { labels["dimensions.\(key)"] = value }
        var annotations: [String: String] = [:]
        for (field, key) in [("curValue", "value"), ("expression", "expression"), ("preTriggerLevel", "preTriggerLevel")] {
            if let value = form.values[field], !value.isEmpty { annotations[key] = value }
        }
        let resolved = state == "OK"
        return Event(id: UUID().uuidString, team: team, name: name, level: level, status: resolved ? .resolved : .firing,
                     objectID: object, labels: labels, annotations: annotations,
                     startsAt: time ?? now, endsAt: resolved ? (time ?? now) : nil, source: "aliyun")
    }

    /// `{userId=12345, instanceId=i-12345}` (the callback's style), or the
    /// older JSON list `[{"userId":"12345","instanceId":"i-12345"}]`.
    static func parseDimensions(_ text: String) throws(IngestError) -> [String: String] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return [:] }
        if trimmed.hasPrefix("["), let list = try? JSONDecoder().decode([[String: String]].self, from: Data(trimmed.utf8)) {
            return list.reduce(into: [:]) { $0.merge($1) { $1 } }
        }
        guard trimmed.hasPrefix("{"), trimmed.hasSuffix("}") else {
            throw .invalid("dimensions", "expected {key=value, ...}")
        }
        var dimensions: [String: String] = [:]
        for pair in trimmed.dropFirst().dropLast().split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw .invalid("dimensions", "expected key=value, found \"\(pair.trimmingCharacters(in: .whitespaces))\"") }
            dimensions[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return dimensions
    }
}
