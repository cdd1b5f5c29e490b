public import Foundation
public import HeraldCore

public enum TencentFormat {
    /// The event of a callback body, and its `sessionId` (which the answer repeats).
    public static func event(body: [UInt8], team: String, now: Date) throws(IngestError) -> (event: Event, sessionID: String) {
        let alarm = try decodeJSONBody(TencentAlarmBody.self, from: body)
        return (try alarm.event(team: team, now: now), alarm.sessionId ?? "")
    }
}

/// Tencent Cloud Monitor's JSON alarm callback, taken in.
///
/// | callback | event |
/// |---|---|
/// | `conditions.metricShowName`, else `conditions.metricName`, else `policyName` | `name` |
/// | `conditions.alarmLevel` (Herald's addition) | level; Warning when absent (Tencent's callback has no severity) |
/// | `alarmStatus` "0" | `resolved`; "1" fires |
/// | `dimensions.objId`, else `objName`, else `unInstanceId` | `object_id` |
/// | `conditions.currentValue`, `calcValue` | annotations `value`, `threshold`; the other conditions by name |
/// | `conditions.metricName` | label `metric` |
/// | `region`, `namespace`, `appId`, `uin`, `alarmType`, `policyId`, `policyType`, `policyName`, `policyTypeCName` | labels of the same name |
/// | each other dimension | label `dimensions.KEY` |
/// | `firstOccurTime`, `recoverTime` (China Standard Time) | `starts_at`, `ends_at` |
struct TencentAlarmBody: Decodable {
    struct ObjectInfo: Decodable {
        let region: String?
        let namespace: String?
        let appId: FlexibleString?
        let uin: FlexibleString?
        let dimensions: [String: FlexibleString]
    }

    struct PolicyInfo: Decodable {
        let policyId: String?
        let policyType: String?
        let policyName: String?
        let policyTypeCName: String?
        let conditions: [String: FlexibleString]?
    }

    let sessionId: String?
    let alarmStatus: FlexibleString
    let alarmType: String?
    let alarmObjInfo: ObjectInfo
    let alarmPolicyInfo: PolicyInfo
    let firstOccurTime: String
    let durationTime: FlexibleString?
    let recoverTime: FlexibleString?

    static let chinaStandardTime = TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 8 * 3600)!

    func event(team: String, now: Date) throws(IngestError) -> Event {
        guard ["0", "1"].contains(alarmStatus.value) else {
            throw .invalid("alarmStatus", "expected \"1\" (firing) or \"0\" (resolved), found \"\(alarmStatus.value)\"")
        }
        let resolved = alarmStatus.value == "0"
        let conditions = (alarmPolicyInfo.conditions ?? [:]).mapValues(\.value)
        var dimensions = alarmObjInfo.dimensions.mapValues(\.value)
        guard let object = [dimensions["objId"], dimensions["objName"], dimensions["unInstanceId"]]
            .compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            throw .invalid("alarmObjInfo.dimensions.objId", "required (or objName, or unInstanceId)")
        }
        guard let name = [conditions["metricShowName"], conditions["metricName"], alarmPolicyInfo.policyName]
            .compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            throw .invalid("alarmPolicyInfo.conditions.metricShowName", "required (or metricName, or policyName)")
        }
        var level = Level.warning
        if let levelName = conditions["alarmLevel"], !levelName.isEmpty {
            guard let named = Level(name: levelName), named != .recovery else {
                throw .invalid("alarmPolicyInfo.conditions.alarmLevel", "expected Critical, Error, Warning or Info")
            }
            level = named
        }
        guard let started = Self.time(firstOccurTime) else {
            throw .invalid("firstOccurTime", "expected YYYY-MM-DD HH:MM:SS")
        }
        guard EventLimits.contains(started) else { throw .invalid("firstOccurTime", EventLimits.rangeMessage) }
        var ended: Date?
        if resolved, let recover = recoverTime?.value, recover != "0", !recover.isEmpty {
            guard let time = Self.time(recover) else { throw .invalid("recoverTime", "expected YYYY-MM-DD HH:MM:SS or 0") }
            guard time >= started, time <= EventLimits.latest else {
                throw .invalid("recoverTime", "must not be before firstOccurTime")
            }
            ended = time
        }
        dimensions["objId"] = nil
        var labels = Dictionary(uniqueKeysWithValues: dimensions.map { ("dimensions.\($0.key)", $0.value) })
        let named: [(String, String?)] = [
            ("region", alarmObjInfo.region), ("namespace", alarmObjInfo.namespace), ("appId", alarmObjInfo.appId?.value),
            ("uin", alarmObjInfo.uin?.value), ("alarmType", alarmType), ("policyId", alarmPolicyInfo.policyId),
            ("policyType", alarmPolicyInfo.policyType), ("policyName", alarmPolicyInfo.policyName),
            ("policyTypeCName", alarmPolicyInfo.policyTypeCName), ("metric", conditions["metricName"]),
        ]
        for case let (key, value?) in named where !value.isEmpty { labels[key] = value }
        var annotations: [String: String] = [:]
        for (key, value) in conditions where !value.isEmpty && !["metricName", "alarmLevel"].contains(key) {
            annotations[key == "currentValue" ? "value" : key == "calcValue" ? "threshold" : key] = value
        }
        return Event(id: UUID().uuidString, team: team, name: name, level: level, status: resolved ? .resolved : .firing,
                     objectID: object, labels: labels, annotations: annotations, startsAt: started,
                     endsAt: resolved ? (ended ?? now) : nil, source: "tencent")
    }

    static func time(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = chinaStandardTime
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.date(from: text)
    }
}

/// A value senders write as a string or as a number ("1" or 1).
struct FlexibleString: Decodable {
    let value: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) { value = text }
        else if let number = try? container.decode(Int64.self) { value = String(number) }
        else if let number = try? container.decode(Double.self) { value = String(number) }
        else { throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                                                                   debugDescription: "expected a string or a number")) }
    }
}
