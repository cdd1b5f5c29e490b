import Foundation
import HeraldPluginKit
import HTTPSupport

/// Tencent Cloud Monitor's alarm callback body (metric alarm structure).
struct TencentAlarm: Encodable {
    struct ObjectInfo: Encodable {
        /// Absent for services that are not region-specific, as Tencent sends it.
        var region: String?
        var namespace: String
        var appId: String
        var uin: String
        var dimensions: [String: String]
    }

    struct PolicyInfo: Encodable {
        var policyId: String
        var policyType: String
        var policyName: String
        var policyTypeCName: String
        var conditions: [String: Condition]
    }

    /// A `conditions` value with the JSON type Tencent's sample gives it.
    enum Condition: Encodable, Equatable {
        case text(String)
        case integer(Int)

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let value): try container.encode(value)
            case .integer(let value): try container.encode(value)
            }
        }
    }

    var sessionId: String
    var alarmStatus: String
    var alarmType: String
    var alarmObjInfo: ObjectInfo
    var alarmPolicyInfo: PolicyInfo
    var firstOccurTime: String
    var durationTime: Int
    var recoverTime: String

    /// The condition fields sent as strings, `""` when the alert has no value for one.
    static let textConditions = ["metricName", "metricShowName", "currentValue", "historyValue", "unit", "period",
                                 "periodNum", "alarmNotifyType"]
    /// The threshold's fields: Tencent leaves them out for a metric without
    /// a threshold, so they are sent only when the alert has a value.
    static let thresholdConditions = ["calcType", "calcValue", "calcUnit"]

    init(event: Event, deliveryID: String, config: Config, now: Date) {
        func field(_ name: String) -> String { config.fields[name]?.value(in: event) ?? "" }
        let started = event.startDate ?? now
        let ended = event.isResolved ? (event.endDate ?? now) : nil
        sessionId = deliveryID
        alarmStatus = event.isResolved ? "0" : "1"
        alarmType = field("alarmType")
        // Labels named dimensions.KEY add to the object's dimensions.
        var dimensions = Dictionary(uniqueKeysWithValues: event.labels.filter { $0.key.hasPrefix("dimensions.") }
            .map { (String($0.key.dropFirst(11)), $0.value) })
        dimensions["objId"] = field("objId")
        dimensions["objName"] = field("objName")
        let region = field("region")
        alarmObjInfo = ObjectInfo(region: region.isEmpty ? nil : region, namespace: field("namespace"),
                                  appId: field("appId"), uin: field("uin"), dimensions: dimensions)
        var conditions = Dictionary(uniqueKeysWithValues: Self.textConditions.map { ($0, Condition.text(field($0))) })
        for name in Self.thresholdConditions {
            let value = field(name)
            if !value.isEmpty { conditions[name] = .text(value) }
        }
        // An integer in Tencent's sample (seconds between repeat notices); 0 when unknown.
        conditions["alarmNotifyPeriod"] = .integer(Int(field("alarmNotifyPeriod").trimmingCharacters(in: .whitespaces)) ?? 0)
        // Herald's addition: Tencent's callback has no severity.
        conditions["alarmLevel"] = .text(event.eventLevel.rawValue)
        alarmPolicyInfo = PolicyInfo(policyId: field("policyId"), policyType: field("policyType"),
                                     policyName: field("policyName"), policyTypeCName: field("policyTypeCName"),
                                     conditions: conditions)
        firstOccurTime = Self.format(started, config.timeZone)
        let duration = (ended ?? now).timeIntervalSince(started)
        durationTime = duration.isFinite ? Int(min(max(0, duration), Double(Int32.max))) : 0
        recoverTime = ended.map { Self.format($0, config.timeZone) } ?? "0"
    }

    /// `YYYY-MM-DD HH:MM:SS` in `zone`.
    static func format(_ date: Date, _ zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let p = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04ld-%02ld-%02ld %02ld:%02ld:%02ld", p.year ?? 0, p.month ?? 0, p.day ?? 0,
                      p.hour ?? 0, p.minute ?? 0, p.second ?? 0)
    }
}
