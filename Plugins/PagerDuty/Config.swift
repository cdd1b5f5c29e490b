import Foundation
import HeraldPluginKit
import HTTPSupport

/// The PagerDuty channel's endpoint config. Each option appears once here
/// and once in `Config.schema`; README.md's table lists them.
struct Config: Decodable, Sendable {
    var routingKey: String
    var target: CallbackTarget
    var fields: [String: FieldSources]

    static let schema = """
        {"type":"object","additionalProperties":false,"required":["routing_key"],"properties":{
          "routing_key":{"type":"string","x-herald-secret":true,
                         "description":"The integration key of the PagerDuty service (32 characters)."},
          "url":{"type":"string","default":"https://events.pagerduty.com/v2/enqueue",
                 "description":"Events API v2 enqueue URL (override for tests and proxies)."},
          "summary":{"type":"string","x-herald-template":true,"description":"payload.summary; a template; cut to 1024 characters."},
          "fields":{"type":"object","additionalProperties":{"type":["string","array"]},
                    "description":"Where source, component, group and class come from (see README)."},
        \(CallbackTarget.schemaProperties)
        }}
        """

    static let defaultTemplates = #"""
        {"summary":"[{{ event_level }}] {{ name }} on {{ object_id }}{% if annotations.summary %}: {{ annotations.summary }}{% endif %}"}
        """#

    /// Where each payload field comes from unless `fields` says otherwise.
    static let defaultSources: [String: FieldSources] = [
        "source": FieldSources(["labels.source", "labels.instance", "object_id"]),
        "component": FieldSources(["labels.component", "labels.service", "labels.job"]),
        "group": FieldSources(["labels.group", "team"]),
        "class": FieldSources(["labels.class", "labels.alertname", "name"]),
    ]

    private enum Keys: String, CodingKey {
        case routingKey = "routing_key", url, fields, caFile = "ca_file", tlsVerify = "tls_verify"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        routingKey = try c.decode(String.self, forKey: .routingKey)
        target = CallbackTarget(url: try c.decodeIfPresent(String.self, forKey: .url) ?? "https://events.pagerduty.com/v2/enqueue",
                                caFile: try c.decodeIfPresent(String.self, forKey: .caFile),
                                tlsVerify: try c.decodeIfPresent(Bool.self, forKey: .tlsVerify))
        fields = try FieldSources.decode(c, forKey: .fields, over: Self.defaultSources)
    }

    func validate() throws(ConfigProblem) {
        // PagerDuty's integration keys are 32 characters of [a-z0-9].
        guard routingKey.count == 32, routingKey.unicodeScalars.allSatisfy({ $0.isASCII && CharacterSet.alphanumerics.contains($0) })
        else { throw ConfigProblem(field: "routing_key", "must be 32 letters and digits (the service's integration key)") }
        try target.validate()
    }
}
