import Foundation
import HeraldPluginKit

/// The Kafka channel's endpoint config. Each option appears once here and
/// once in `Config.schema`; README.md's table lists them.
struct Config: Decodable, Sendable {
    /// `host:port[,host:port...]`, checked by `validate`.
    var brokers: String
    var topic: String
    var tls: Bool
    var caFile: String?
    var saslMechanism: String?
    var saslUsername: String?
    var saslPassword: String?
    /// How long librdkafka keeps trying one message; below the endpoint's
    /// `timeout`, so a message is never still queued when the host retries it.
    var messageTimeoutMs: Int
    /// Further librdkafka settings, passed as they are.
    var properties: [String: String]

    static let saslMechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

    static let schema = """
        {"type":"object","additionalProperties":false,"required":["brokers","topic"],"properties":{
          "brokers":{"type":"string","minLength":1,"description":"Bootstrap brokers: host:port[,host:port...]."},
          "topic":{"type":"string","minLength":1,"maxLength":249,
                   "description":"Topic: 1-249 of a-z A-Z 0-9 . _ - (not . or ..), as Kafka accepts."},
          "key":{"type":"string","x-herald-template":true,
                 "description":"Message key; a template. Default: policy/object, so one object's alerts stay in order."},
          "value":{"type":"string","x-herald-template":true,
                   "description":"Message value; a template. Default: the event as JSON."},
          "tls":{"type":"boolean","default":false,"description":"Connect with TLS."},
          "ca_file":{"type":"string","description":"PEM file of CAs trusted for TLS."},
          "sasl_mechanism":{"type":"string","enum":["PLAIN","SCRAM-SHA-256","SCRAM-SHA-512"],
                            "description":"SASL authentication; needs sasl_username and sasl_password."},
          "sasl_username":{"type":"string"},
          "sasl_password":{"type":"string","x-herald-secret":true},
          "message_timeout_ms":{"type":"integer","minimum":100,"maximum":300000,"default":4000,
                                "description":"How long one attempt may wait for the broker; keep it below the endpoint's timeout."},
          "properties":{"type":"object","additionalProperties":{"type":"string"},
                        "description":"Further librdkafka producer settings (compression.type, linger.ms, ...)."}
        }}
        """

    static let defaultTemplates = #"{"key":"{{ policy }}/{{ object_id }}"}"#

    private enum Keys: String, CodingKey {
        case brokers, topic, tls, properties
        case caFile = "ca_file", saslMechanism = "sasl_mechanism", saslUsername = "sasl_username"
        case saslPassword = "sasl_password", messageTimeoutMs = "message_timeout_ms"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        brokers = try c.decode(String.self, forKey: .brokers)
        topic = try c.decode(String.self, forKey: .topic)
        tls = try c.decodeIfPresent(Bool.self, forKey: .tls) ?? false
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        saslMechanism = try c.decodeIfPresent(String.self, forKey: .saslMechanism)
        saslUsername = try c.decodeIfPresent(String.self, forKey: .saslUsername)
        saslPassword = try c.decodeIfPresent(String.self, forKey: .saslPassword)
        messageTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .messageTimeoutMs) ?? 4000
        properties = try c.decodeIfPresent([String: String].self, forKey: .properties) ?? [:]
    }

    func validate() throws(ConfigProblem) {
        for broker in brokers.split(separator: ",", omittingEmptySubsequences: false) {
            try Self.checkBroker(broker.trimmingCharacters(in: .whitespaces))
        }
        guard (1...249).contains(topic.count), topic != ".", topic != "..",
              topic.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                                                               || "._-".unicodeScalars.contains($0)) }) else {
            throw ConfigProblem(field: "topic", "1-249 characters of a-z A-Z 0-9 . _ - (not . or ..), found \"\(topic)\"")
        }
        if let saslMechanism {
            guard Self.saslMechanisms.contains(saslMechanism) else {
                throw ConfigProblem(field: "sasl_mechanism", "expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
            }
            if saslUsername == nil { throw ConfigProblem(field: "sasl_username", "required with sasl_mechanism") }
            if saslPassword == nil { throw ConfigProblem(field: "sasl_password", "required with sasl_mechanism") }
        } else if saslUsername != nil || saslPassword != nil {
            throw ConfigProblem(field: "sasl_mechanism", "required with sasl_username and sasl_password")
        }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ConfigProblem(field: "ca_file", "cannot read \(caFile)")
        }
    }

    private static func checkBroker(_ broker: String) throws(ConfigProblem) {
        guard let colon = broker.lastIndex(of: ":"), colon != broker.startIndex else {
            throw ConfigProblem(field: "brokers", "expected host:port, found \"\(broker)\"")
        }
        let host = broker[..<colon]
        guard !host.contains(where: { $0.isWhitespace || "/,@".contains($0) }) else {
            throw ConfigProblem(field: "brokers", "invalid host in \"\(broker)\"")
        }
        guard let port = Int(broker[broker.index(after: colon)...]), (1...65535).contains(port) else {
            throw ConfigProblem(field: "brokers", "port must be 1-65535 in \"\(broker)\"")
        }
    }

    /// The librdkafka settings this config stands for; `properties` last,
    /// except that idempotence and acks stay as delivery needs them.
    var librdkafkaSettings: [(name: String, value: String, field: String)] {
        var settings: [(String, String, String)] = [
            ("bootstrap.servers", brokers, "brokers"),
            ("message.timeout.ms", String(messageTimeoutMs), "message_timeout_ms"),
        ]
        settings += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value, "properties.\($0.key)") }
        switch (tls, saslMechanism) {
        case (false, nil): settings.append(("security.protocol", "plaintext", "tls"))
        case (true, nil): settings.append(("security.protocol", "ssl", "tls"))
        case (false, .some): settings.append(("security.protocol", "sasl_plaintext", "sasl_mechanism"))
        case (true, .some): settings.append(("security.protocol", "sasl_ssl", "sasl_mechanism"))
        }
        if let caFile { settings.append(("ssl.ca.location", caFile, "ca_file")) }
        if let saslMechanism, let saslUsername, let saslPassword {
            settings += [("sasl.mechanisms", saslMechanism, "sasl_mechanism"),
                         ("sasl.username", saslUsername, "sasl_username"),
                         ("sasl.password", saslPassword, "sasl_password")]
        }
        settings += [("enable.idempotence", "true", "properties.enable.idempotence"), ("acks", "all", "properties.acks")]
        return settings
    }
}
