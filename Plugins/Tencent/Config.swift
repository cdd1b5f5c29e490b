import Foundation
import HeraldPluginKit
import HTTPSupport

/// The Tencent channel's endpoint config. Each option appears once here
/// and once in `Config.schema`; README.md's table lists them.
struct Config: Decodable, Sendable {
    /// The URL without its user:password, which go to `basicAuth`.
    var url: String
    var basicAuth: (user: String, password: String)?
    var timeZone: TimeZone
    var caFile: String?
    var tlsVerify: Bool
    var fields: [String: FieldSources]

    static let schema = """
        {"type":"object","additionalProperties":false,"required":["url"],"properties":{
          "url":{"type":"string","minLength":1,"x-herald-secret":true,
                 "description":"Callback URL; http://user:password@host/... sends HTTP Basic authentication."},
          "time_zone":{"type":"string","default":"Asia/Shanghai",
                       "description":"Zone of firstOccurTime and recoverTime (Tencent Cloud sends China Standard Time)."},
          "fields":{"type":"object","additionalProperties":{"type":["string","array"]},
                    "description":"Where each callback field comes from (see README)."},
          "ca_file":{"type":"string","description":"PEM file of CAs trusted for HTTPS."},
          "tls_verify":{"type":"boolean","default":true,"description":"Verify the server certificate and name."}
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
        let written = try c.decode(String.self, forKey: .url)
        (url, basicAuth) = Self.splittingCredentials(written)
        let zoneName = try c.decodeIfPresent(String.self, forKey: .timeZone) ?? "Asia/Shanghai"
        guard let zone = TimeZone(identifier: zoneName) ?? (zoneName == "Asia/Shanghai" ? TimeZone(secondsFromGMT: 8 * 3600) : nil)
        else { throw DecodingError.dataCorruptedError(forKey: .timeZone, in: c, debugDescription: "unknown time zone \"\(zoneName)\"") }
        timeZone = zone
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        tlsVerify = try c.decodeIfPresent(Bool.self, forKey: .tlsVerify) ?? true
        let mapping = try c.decodeIfPresent([String: SourceList].self, forKey: .fields)?.mapValues(\.sources) ?? [:]
        do throws(ConfigProblem) {
            fields = Self.defaultSources.merging(try FieldSources.parse(mapping, allowed: Self.defaultSources.keys.sorted())) { $1 }
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .fields, in: c, debugDescription: error.description)
        }
    }

    func validate() throws(ConfigProblem) {
        // The message never quotes the URL: it may hold a password.
        guard url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://") else {
            throw ConfigProblem(field: "url", "must start with http:// or https://")
        }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ConfigProblem(field: "ca_file", "cannot read \(caFile)")
        }
    }

    /// `http://user:pass@host/path` → (`http://host/path`, (user, pass)), percent-decoded.
    static func splittingCredentials(_ url: String) -> (String, (user: String, password: String)?) {
        guard let schemeEnd = url.range(of: "://") else { return (url, nil) }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { "/?#".contains($0) } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return (url, nil) }
        let userInfo = rest[..<at]
        let (user, password) = userInfo.firstIndex(of: ":").map { (userInfo[..<$0], userInfo[userInfo.index(after: $0)...]) }
            ?? (userInfo, "")
        let stripped = String(url[..<schemeEnd.upperBound]) + rest[rest.index(after: at)...]
        return (stripped, (String(user).removingPercentEncoding ?? String(user),
                           String(password).removingPercentEncoding ?? String(password)))
    }
}
