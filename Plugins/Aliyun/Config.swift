import Foundation
import HeraldPluginKit
import HTTPSupport

/// The Aliyun channel's endpoint config. Each option appears once here and
/// once in `Config.schema`; README.md's table lists them.
struct Config: Decodable, Sendable {
    var target: CallbackTarget
    var secret: String?
    var fields: [String: FieldSources]

    static let schema = """
        {"type":"object","additionalProperties":false,"required":["url"],"properties":{
          "url":{"type":"string","minLength":1,"description":"Callback URL, http:// or https://."},
          "secret":{"type":"string","minLength":1,"x-herald-secret":true,
                    "description":"Key of the signature field (HMAC-SHA256, see README); no signature without it."},
          "fields":{"type":"object","additionalProperties":{"type":["string","array"]},
                    "description":"Where each form field comes from (see README)."},
        \(CallbackTarget.schemaProperties)
        }}
        """

    /// Where each mapped field comes from unless `fields` says otherwise.
    static let defaultSources: [String: FieldSources] = [
        "alertName": FieldSources(["name"]),
        "curValue": FieldSources(["annotations.value", "annotations.curValue"]),
        "dimensions": FieldSources(["annotations.dimensions", "labels.dimensions"]),
        "expression": FieldSources(["annotations.expression", "policy_matchers"]),
        "instanceName": FieldSources(["labels.instanceName", "object_id"]),
        "metricName": FieldSources(["labels.metric", "labels.metricName", "name"]),
        "metricProject": FieldSources(["labels.metricProject", "team"]),
        "namespace": FieldSources(["labels.namespace", "team"]),
        "ruleId": FieldSources(["labels.ruleId", "policy"]),
        "userId": FieldSources(["labels.userId", "team"]),
    ]

    private enum Keys: String, CodingKey {
        case url, secret, fields, caFile = "ca_file", tlsVerify = "tls_verify"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        target = CallbackTarget(url: try c.decode(String.self, forKey: .url),
                                caFile: try c.decodeIfPresent(String.self, forKey: .caFile),
                                tlsVerify: try c.decodeIfPresent(Bool.self, forKey: .tlsVerify))
        secret = try c.decodeIfPresent(String.self, forKey: .secret)
        fields = try FieldSources.decode(c, forKey: .fields, over: Self.defaultSources)
    }

    func validate() throws(ConfigProblem) { try target.validate() }
}
