import Foundation
import HeraldCore
@testable import HeraldIngest
import Testing

/// Native bodies are read from the scanner's tree, not with Foundation's
/// decoder; these hold the reader to the decoder's answers (the fuzz
/// target does it for arbitrary bodies).
struct NativeReaderTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let event = #""name":"N","level":"Info","object_id":"o""#

    @Test(arguments: [
        ("null", "body", "expected an object, found null"),
        ("[]", "body", "expected an object"),
        (#"{"events":null}"#, "events", "expected an array, found null"),
        (#"{"events":{}}"#, "events", "expected an array"),
        (#"{"events":[]}"#, "events", "must not be empty"),
        (#"{"events":[null]}"#, "events[0]", "expected an object, found null"),
        (#"{"events":[1]}"#, "events[0]", "expected an object"),
        ("{}", "name", "required"),
        (#"{"name":null}"#, "name", "expected a string, found null"),
        (#"{"name":1}"#, "name", "expected a string"),
        (#"{"name":""}"#, "name", "must not be empty"),
        (#"{"id":"","name":"N"}"#, "id", "must not be empty (leave it out for a new one)"),
        (#"{"id":7,"name":"N"}"#, "id", "expected a string"),
        (#"{"name":"N","level":"Loud"}"#, "level", #"unknown level "Loud" (use Critical, Error, Warning or Info; send status "resolved" to recover)"#),
        (#"{"name":"N","level":"Info","status":"done"}"#, "status", #"expected "firing" or "resolved", found "done""#),
        (#"{"name":"N","level":"Info"}"#, "object_id", "required"),
        ("{\(event),\"labels\":[]}", "labels", "expected an object"),
        ("{\(event),\"labels\":{\"a\":null}}", "labels.a", "expected a string, found null"),
        ("{\(event),\"annotations\":{\"\":1}}", #"annotations."""#, "expected a string"),
        ("{\(event),\"starts_at\":\"yesterday\"}", "starts_at", "expected an RFC 3339 time such as 2026-11-22T10:00:00Z"),
        ("{\(event),\"starts_at\":\"2026-01-02T00:00:00Z\",\"ends_at\":\"2026-01-01T00:00:00Z\"}", "ends_at", "must not be before starts_at"),
        ("{\(event),\"timeout\":\"1\"}", "timeout", "expected an integer"),
        ("{\(event),\"timeout\":1.5}", "timeout", "expected an integer"),
        ("{\(event),\"timeout\":1e400}", "timeout", "expected an integer in range"),
        ("{\(event),\"timeout\":-1}", "timeout", "must not be negative"),
        ("{\(event),\"policy\":[]}", "policy", "expected a string"),
        (#"{"events":[{"name":"A","level":"Info","object_id":"o"},{"name":"B","level":"Info"}]}"#, "events[1].object_id", "required"),
    ])
    func bodiesAreRefusedAsTheDecoderRefusesThem(body: String, field: String, message: String) {
        let expected = IngestError(field, message)
        #expect(throws: expected) { try NativeFormat.events(body: Array(body.utf8), team: "t", now: Self.now) }
        #expect(throws: expected) { try NativeFormat.decodedEvents(body: Array(body.utf8), team: "t", now: Self.now) }
    }

    @Test(arguments: [
        "{\(event),\"id\":\"e-1\",\"status\":\"resolved\",\"labels\":{\"8\":\"x\"},\"annotations\":{\"s\":\"\\u00e9\"},"
            + "\"starts_at\":\"2026-11-30T10:00:00Z\",\"ends_at\":\"2026-11-30T10:05:00.5Z\",\"timeout\":1e3,\"policy\":\"p\",\"extra\":[1,null]}",
        "{\"events\":[{\(event),\"id\":\"a\",\"timeout\":99999999999},{\(event),\"id\":\"b\",\"labels\":null,\"status\":null}]}",
    ])
    func bothReadersTakeTheSameEvents(body: String) throws {
        let read = try NativeFormat.events(body: Array(body.utf8), team: "t", now: Self.now)
        let decoded = try NativeFormat.decodedEvents(body: Array(body.utf8), team: "t", now: Self.now)
        #expect(read == decoded)
        #expect(!read.isEmpty)
    }
}
