import Foundation
import HeraldCore
import HeraldIngest
import Testing

/// The PushEvents rules: string maps, integer times in range, ends_at not
/// before starts_at, and no number that can overflow.
struct HuaweiFormatTests {
    static let metadata = #""metadata":{"event_name":"E","event_severity":"Major","event_type":"alarm","resource_provider":"ECS","resource_type":"vm","resource_id":"vm-1"}"#
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func events(_ fields: String, clear: Bool = false) throws(IngestError) -> [Event] {
        let body = #"{"events":[{\#(fields.isEmpty ? "" : fields + ",")\#(metadata)}]}"#
        return try HuaweiFormat.events(body: Array(body.utf8), team: "ops", clear: clear, defaultTimeout: 600, now: now)
    }

    @Test(arguments: [
        (#""annotations":{"message":5}"#, "events[0].annotations.message"),
        (#""annotations":{"message":{"a":"b"}}"#, "events[0].annotations.message"),
        (#""attach_rule":{"policy_id":true}"#, "events[0].attach_rule.policy_id"),
        (#""starts_at":1700000000000.5"#, "events[0].starts_at"),
        (#""starts_at":"1700000000000""#, "events[0].starts_at"),
        (#""starts_at":-1"#, "events[0].starts_at"),
        (#""starts_at":9223372036854775807"#, "events[0].starts_at"),
        (#""starts_at":253402300800000"#, "events[0].starts_at"),
        (#""starts_at":92233720368547758070"#, "events[0].starts_at"),
        (#""starts_at":1700000000000,"ends_at":1699999999999"#, "events[0].ends_at"),
        (#""timeout":-1"#, "events[0].timeout"),
        (#""timeout":1.5"#, "events[0].timeout"),
        (#""timeout":"600000""#, "events[0].timeout"),
        (#""timeout":1e400"#, "events[0].timeout"),
        (#""id":"""#, "events[0].id"),
        (#""id":"a","id":"b""#, "events[0].id"),
    ])
    func outOfRangeAndMistypedFieldsAreRefused(fields: String, field: String) {
        let error = #expect(throws: IngestError.self) { try Self.events(fields) }
        #expect(error?.field == field, "\(error.map(\.description) ?? "")")
    }

    @Test func metadataValuesMustBeStrings() {
        let body = #"{"events":[{"metadata":{"event_name":"E","event_severity":"Major","event_type":"alarm","resource_provider":"ECS","resource_type":"vm","resource_id":7}}]}"#
        let error = #expect(throws: IngestError.self) {
            try HuaweiFormat.events(body: Array(body.utf8), team: "ops", clear: false, defaultTimeout: 600, now: Self.now)
        }
        #expect(error?.field == "events[0].metadata.resource_id")
    }

    /// The request that once killed the daemon: a huge but valid Long.
    @Test(arguments: ["9223372036854775807", "9223372036854774809", "9223372036854775808", "40000000000000", "1e300"])
    func aHugeTimeoutIsClampedToAYear(timeout: String) throws {
        let event = try #require(try Self.events(#""timeout":\#(timeout)"#).first)
        #expect(event.timeoutSeconds == EventLimits.maxTimeoutSeconds)
    }

    @Test func timeoutIsRoundedUpToWholeSeconds() throws {
        #expect(try Self.events(#""timeout":1001"#).first?.timeoutSeconds == 2)
        #expect(try Self.events(#""timeout":0"#).first?.timeoutSeconds == 0)
        #expect(try Self.events(#""timeout":6e5"#).first?.timeoutSeconds == 600, "a whole number however written")
        #expect(try Self.events("").first?.timeoutSeconds == 600, "the configured default")
    }

    @Test func endsAtZeroMeansNotCleared() throws {
        let event = try #require(try Self.events(#""starts_at":1700000000000,"ends_at":0"#, clear: true).first)
        #expect(event.endsAt == Self.now)
        #expect(event.startsAt == Date(timeIntervalSince1970: 1_700_000_000))
        let cleared = try #require(try Self.events(#""starts_at":1700000000000,"ends_at":1700000060000"#, clear: true).first)
        #expect(cleared.endsAt == Date(timeIntervalSince1970: 1_700_000_060))
        #expect(cleared.status == .resolved)
    }

    @Test func theLatestRepresentableTimeIsAccepted() throws {
        let event = try #require(try Self.events(#""starts_at":253402300799999"#).first)
        #expect(Timestamp.iso8601(event.startsAt).hasPrefix("9999-12-31T23:59:59."))
    }
}
