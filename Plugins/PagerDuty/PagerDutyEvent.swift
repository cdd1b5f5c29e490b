import Foundation
import HeraldPluginKit
import HTTPSupport

/// A body that custom details alone cannot bring under 512 KB.
struct TooLarge: Error, CustomStringConvertible {
    let bytes: Int
    var description: String { "\(bytes) bytes even with custom details cut: over PagerDuty's 512 KB" }
}

/// An Events API v2 event (developer.pagerduty.com, "Send an Alert Event").
struct PagerDutyEvent: Encodable {
    struct Payload: Encodable {
        var summary: String
        var source: String
        var severity: String
        var timestamp: String
        var component: String?
        var group: String?
        var `class`: String?
        var customDetails: [String: [String: String]]

        enum CodingKeys: String, CodingKey {
            case summary, source, severity, timestamp, component, group, `class`, customDetails = "custom_details"
        }
    }

    struct Link: Encodable { var href: String; var text: String }
    struct Image: Encodable { var src: String; var href: String?; var alt: String? }

    var routingKey: String
    var eventAction: String
    var dedupKey: String
    var payload: Payload
    var links: [Link]?
    var images: [Image]?
    var client = "Herald"

    enum CodingKeys: String, CodingKey {
        case routingKey = "routing_key", eventAction = "event_action", dedupKey = "dedup_key", payload, links, images, client
    }

    static let maxBodyBytes = 512 * 1024
    static let maxSummary = 1024

    init(event: Event, summary: String, config: Config) {
        routingKey = config.routingKey
        eventAction = event.isResolved ? "resolve" : "trigger"
        dedupKey = Self.dedupKey(event.dedupKey)
        func field(_ name: String) -> String? {
            config.fields[name]?.value(in: event).flatMap { $0.isEmpty ? nil : $0 }
        }
        payload = Payload(summary: String(summary.prefix(Self.maxSummary)), source: field("source") ?? event.objectID,
                          severity: Self.severity(event.eventLevel), timestamp: event.startsAt,
                          component: field("component"), group: field("group"), class: field("class"),
                          customDetails: ["labels": event.labels, "annotations": event.annotations])
        // Annotations named *_url become links; image_url an image.
        let urls = event.annotations.filter { $0.key.hasSuffix("_url") }.sorted { $0.key < $1.key }
        let linkList = urls.filter { $0.key != "image_url" }.map { Link(href: $0.value, text: $0.key) }
        links = linkList.isEmpty ? nil : linkList
        images = event.annotations["image_url"].map { [Image(src: $0, href: nil, alt: event.name)] }
    }

    /// PagerDuty's severities for our levels.
    static func severity(_ level: Event.Level) -> String {
        switch level {
        case .critical: "critical"
        case .error: "error"
        case .warning: "warning"
        case .info, .recovery: "info"
        }
    }

    /// PagerDuty takes dedup keys of up to 255 characters: a longer key is
    /// cut and finished with a hash of the whole, so it stays unique and stable.
    static func dedupKey(_ key: String) -> String {
        guard key.utf8.count > 255 else { return key }
        let hash = key.utf8.reduce(UInt64(14695981039346656037)) { ($0 ^ UInt64($1)) &* 1099511628211 }
        // Cut on bytes, at a character boundary: 200 characters can be 800 bytes.
        var kept = ""
        for character in key {
            guard kept.utf8.count + character.utf8.count <= 200 else { break }
            kept.append(character)
        }
        return kept + "#" + String(hash, radix: 16)
    }

    /// The body, within 512 KB: custom details are cut down (longest values
    /// first) rather than the event refused.
    func body() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var event = self
        var bytes = try encoder.encode(event)
        while bytes.count > Self.maxBodyBytes {
            let excess = bytes.count - Self.maxBodyBytes
            guard let (group, key, value) = event.payload.customDetails.flatMap({ group, values in
                values.map { (group, $0.key, $0.value) }
            }).max(by: { $0.2.utf8.count < $1.2.utf8.count }), value.utf8.count > 64 else { break }
            let keep = max(0, value.utf8.count - excess - 64)
            event.payload.customDetails[group]?[key] = String(decoding: Array(value.utf8.prefix(keep)), as: UTF8.self)
                + "… (cut by Herald: over PagerDuty's 512 KB)"
            let shorter = try encoder.encode(event)
            guard shorter.count < bytes.count else { break }  // no progress: give up rather than loop
            bytes = shorter
        }
        guard bytes.count <= Self.maxBodyBytes else { throw TooLarge(bytes: bytes.count) }
        return Array(bytes)
    }
}
