import Foundation
import HeraldCore
@testable import HeraldStore
import Testing

/// The `event.body` column: what is written reads back as the same event,
/// rows written before a key existed still read, and a damaged row is
/// refused naming the key instead of trapping.
struct StoredEventTests {
    @Test(arguments: [
        Event(id: "a", team: "ops", name: "HighCPU", level: .critical, status: .firing, objectID: "host-1",
              labels: ["a": "b", "8": "eight", "": "empty"], annotations: ["note": "ü \"quoted\" \\ \u{1F600}\n"],
              startsAt: Date(timeIntervalSince1970: 1_800_000_000.25)),
        Event(id: "hub:alertmanager:0123:2026-11-30T10:00:00.000Z:resolved", team: "dev", name: "Down", level: .info,
              status: .resolved, objectID: "x", labels: [:], annotations: [:], startsAt: Date(timeIntervalSince1970: 0),
              endsAt: Date(timeIntervalSince1970: 253_402_300_799), timeoutSeconds: 31_536_000, policyID: "p",
              source: "alertmanager"),
    ])
    func whatIsWrittenReadsBack(event: Event) throws {
        #expect(try Event(stored: event.storedJSON) == event)
    }

    @Test func olderAndNewerRowsRead() throws {
        // Before `source` was kept; and with a key a later version may add.
        let body = #"{"id":"e","team":"ops","name":"N","level":"Warning","status":"firing","object_id":"o","#
            + #""labels":{},"annotations":{},"starts_at":1000,"ends_at":null,"later":[1,{"x":true}]}"#
        let event = try Event(stored: Data(body.utf8))
        #expect(event.source == "native")
        #expect(event.endsAt == nil)
        #expect(event.startsAt == Date(timeIntervalSince1970: 1000))
    }

    @Test(arguments: [
        ("", "body"), ("[]", "body"), (#"{"id":"e"}"#, "level"),
        (#"{"id":"e","team":"t","name":"n","level":"Loud","status":"firing","object_id":"o","labels":{},"annotations":{},"starts_at":1}"#, "level"),
        (#"{"id":"e","team":"t","name":"n","level":"Info","status":"firing","object_id":"o","labels":{"a":1},"annotations":{},"starts_at":1}"#, "labels.a"),
        (#"{"id":"e","team":"t","name":"n","level":"Info","status":"firing","object_id":"o","labels":{},"annotations":{},"starts_at":1e400}"#, "starts_at"),
        (#"{"id":"e","team":"t","name":"n","level":"Info","status":"firing","object_id":"o","labels":{},"annotations":{},"starts_at":1,"timeout":1.5}"#, "timeout"),
        (#"{"id":"e","team":"t","name":"n","level":"Info","status":"firing","object_id":"o","labels":{},"annotations":{},"starts_at":1,"timeout":1e30}"#, "timeout"),
        (#"{"team":"t","name":"n","level":"Info","status":"firing","object_id":"o","labels":{},"annotations":{},"starts_at":1}"#, "id"),
    ])
    func damagedRowsAreRefusedNamingTheKey(body: String, field: String) {
        #expect(throws: StoredEventError.self) { try Event(stored: Data(body.utf8)) }
        do { _ = try Event(stored: Data(body.utf8)) } catch let error as StoredEventError {
            #expect(error.field == field)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
