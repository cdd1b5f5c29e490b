import Foundation
import HeraldPluginKit
import HTTPSupport

/// Tencent Cloud Monitor's alarm callback body (metric alarm structure).
struct TencentAlarm: Encodable {
    struct ObjectInfo: Encodable {
        var region: String
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
        var conditions: [String: String]
    }

    var sessionId: String
    var alarmStatus: String
    var alarmType: String
    var alarmObjInfo: ObjectInfo
    var alarmPolicyInfo: PolicyInfo
    var firstOccurTime: String
    var durationTime: Int
    var recoverTime: String

    static let conditionFields = ["metricName", "metricShowName", "calcType", "calcValue", "calcUnit", "currentValue",
                                  "historyValue", "unit", "period", "periodNum", "alarmNotifyType", "alarmNotifyPeriod"]

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
        alarmObjInfo = ObjectInfo(region: field("region"), namespace: field("namespace"), appId: field("appId"),
                                  uin: field("uin"), dimensions: dimensions)
        var conditions = Dictionary(uniqueKeysWithValues: Self.conditionFields.map { ($0, field($0)) })
        // Herald's addition: Tencent's callback has no severity.
        conditions["alarmLevel"] = event.eventLevel.rawValue
        alarmPolicyInfo = PolicyInfo(policyId: field("policyId"), policyType: field("policyType"),
                                     policyName: field("policyName"), policyTypeCName: field("policyTypeCName"),
                                     conditions: conditions)
        firstOccurTime = Self.format(started, config.timeZone)
        durationTime = max(0, Int((ended ?? now).timeIntervalSince(started)))
        recoverTime = ended.map { Self.format($0, config.timeZone) } ?? "0"
    }

    /// `YYYY-MM-DD HH:MM:SS` in `zone`.
    static func format(_ date: Date, _ zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let p = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", p.year ?? 0, p.month ?? 0, p.day ?? 0,
                      p.hour ?? 0, p.minute ?? 0, p.second ?? 0)
    }
}
