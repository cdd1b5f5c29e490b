import Foundation
import HeraldPluginKit
import HTTPSupport

/// The Tencent channel's endpoint config. Each option appears once here
/// and once in `Config.schema`; README.md's table lists them.
struct Config: Decodable, Sendable {
    var target: CallbackTarget
    var timeZone: TimeZone
    var fields: [String: FieldSources]

    static let schema = """
        {"type":"object","additionalProperties":false,"required":["url"],"properties":{
          "url":{"type":"string","minLength":1,"x-herald-secret":true,
                 "description":"Callback URL; http://user:password@host/... sends HTTP Basic authentication."},
          "time_zone":{"type":"string","default":"Asia/Shanghai",
                       "description":"Zone of firstOccurTime and recoverTime (Tencent Cloud sends China Standard Time)."},
          "fields":{"type":"object","additionalProperties":{"type":["string","array"]},
                    "description":"Where each callback field comes from (see README)."},
        \(CallbackTarget.schemaProperties)
        }}
        """

    /// Where each field comes from unless `fields` says otherwise.
    static let defaultSources: [String: FieldSources] = [
        "alarmType": FieldSources(["labels.alarmType", "=metric"]),
        "region": FieldSources(["labels.region"]),
        "namespace": FieldSources(["labels.namespace"]),
        "appId": FieldSources(["labels.appId"]),
        "uin": FieldSources(["labels.uin"]),
        "objId": FieldSources(["labels.objId", "object_id"]),
        "objName": FieldSources(["labels.objName", "labels.instanceName", "object_id"]),
        "policyId": FieldSources(["labels.policyId", "policy"]),
        "policyType": FieldSources(["labels.policyType"]),
        "policyName": FieldSources(["labels.policyName", "policy"]),
        "policyTypeCName": FieldSources(["labels.policyTypeCName"]),
        "metricName": FieldSources(["labels.metric", "labels.metricName", "name"]),
        "metricShowName": FieldSources(["annotations.metricShowName", "name"]),
        "calcType": FieldSources(["annotations.calcType"]),
        "calcValue": FieldSources(["annotations.threshold", "annotations.calcValue"]),
        "calcUnit": FieldSources(["annotations.calcUnit", "annotations.unit"]),
        "currentValue": FieldSources(["annotations.value", "annotations.currentValue"]),
        "historyValue": FieldSources(["annotations.historyValue"]),
        "unit": FieldSources(["annotations.unit"]),
        "period": FieldSources(["annotations.period"]),
        "periodNum": FieldSources(["annotations.periodNum"]),
        "alarmNotifyType": FieldSources(["annotations.alarmNotifyType"]),
        "alarmNotifyPeriod": FieldSources(["annotations.alarmNotifyPeriod"]),
    ]

    private enum Keys: String, CodingKey {
        case url, fields, timeZone = "time_zone", caFile = "ca_file", tlsVerify = "tls_verify"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        target = CallbackTarget(url: try c.decode(String.self, forKey: .url),
                                caFile: try c.decodeIfPresent(String.self, forKey: .caFile),
                                tlsVerify: try c.decodeIfPresent(Bool.self, forKey: .tlsVerify))
        let zoneName = try c.decodeIfPresent(String.self, forKey: .timeZone) ?? "Asia/Shanghai"
        guard let zone = TimeZone(identifier: zoneName) ?? (zoneName == "Asia/Shanghai" ? TimeZone(secondsFromGMT: 8 * 3600) : nil)
        else { throw DecodingError.dataCorruptedError(forKey: .timeZone, in: c, debugDescription: "unknown time zone \"\(zoneName)\"") }
        timeZone = zone
        fields = try FieldSources.decode(c, forKey: .fields, over: Self.defaultSources)
    }

    func validate() throws(ConfigProblem) { try target.validate() }
}
