import Foundation
@testable import HeraldIngest
import HeraldCore
import Testing

struct JSONShapeTests {
    @Test(arguments: [
        #"{"a":1,"b":[true,false,null],"c":{"d":"e\"\\\/\b\f\n\r\t\u00e9"}}"#,
        #"[]"#, #"{}"#, #" 0 "#, #"-0.5e+10"#, #""\ud83d\ude00""#, #"[{"a":1},{"a":1}]"#,
        #"{"a":{"x":1},"b":{"x":1}}"#,
    ])
    func wellFormedJSONPasses(text: String) throws {
        try JSONShape.check(Array(text.utf8))
        // Foundation agrees that it is JSON.
        _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    @Test(arguments: [
        #"[1 2]"#, #"{"a" 1}"#, #"01"#, #"1."#, #".5"#, #"-"#, #"tru"#, #""\x""#, #""\u12""#,
        "\"a\u{01}b\"", #"{"a":1}x"#, "", #"{"#, #"["#, #"""#, #"{1:2}"#, "NaN", "+1",
    ])
    func malformedJSONIsRefused(text: String) {
        #expect(throws: JSONShape.Problem.self) { try JSONShape.check(Array(text.utf8)) }
        #expect(throws: (any Error).self) {
            try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        }
    }

    /// Foundation's decoder takes a trailing comma; RFC 8259 has none.
    @Test func trailingCommasAreRefused() {
        #expect(throws: JSONShape.Problem.malformed(offset: 7)) { try JSONShape.check(Array(#"{"a":1,}"#.utf8)) }
        #expect(throws: JSONShape.Problem.malformed(offset: 3)) { try JSONShape.check(Array(#"[1,]"#.utf8)) }
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "", "a"),
        (#"{"events":[{"x":1},{"metadata":{"k":"1","k":"2"}}]}"#, "events[1].metadata", "k"),
        // The same name written two ways is the same key.
        (#"{"é":1,"\u00e9":2}"#, "", "é"),
        (#"{"\ud83d\ude00":1,"😀":2}"#, "", "😀"),
        // Past the linear search, the set finds it.
        ("{" + (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"k7\":0}", "", "k7"),
    ])
    func repeatedKeysAreFoundWithTheirPath(text: String, path: String, key: String) {
        #expect(throws: JSONShape.Problem.duplicate(path: path, key: key)) { try JSONShape.check(Array(text.utf8)) }
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONShape.Problem.tooDeep) { try JSONShape.check(Array(deep.utf8)) }
        let fine = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try JSONShape.check(Array(fine.utf8)) }
    }

    /// An escaped surrogate without its pair is no character: Foundation's
    /// decoder refuses it, and so does the scanner, pointing at the escape.
    @Test(arguments: [
        (#""\ud800""#, 1), (#"{"a":"x\udc00"}"#, 7), (#"["\ud83d\u0041"]"#, 2), (#"{"\uda1a":""}"#, 2),
    ])
    func loneSurrogatesAreRefused(text: String, offset: Int) {
        #expect(throws: JSONShape.Problem.malformed(offset: offset)) { try JSONShape.check(Array(text.utf8)) }
        #expect(throws: (any Error).self) { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
    }

    @Test func parseGivesTheTreeInTheOrderWritten() throws {
        let tree = try JSONShape.parse(Array(#"{"b":[1,"x\u00e9",null],"a":{"t":true,"f":false}}"#.utf8))
        guard case .object(let members) = tree, members.count == 2,
              case .array(let items) = members[0].value, items.count == 3,
              case .number = items[0], case .string("xé") = items[1], case .null = items[2],
              case .object(let inner) = members[1].value, inner.count == 2,
              case .bool(true) = inner[0].value, case .bool(false) = inner[1].value else {
            Issue.record("unexpected tree: \(tree)")
            return
        }
        #expect(members.map(\.key) == ["b", "a"])
        #expect(inner.map(\.key) == ["t", "f"])
        #expect(throws: JSONShape.Problem.duplicate(path: "a", key: "t")) {
            try JSONShape.parse(Array(#"{"a":{"t":1,"t":2}}"#.utf8))
        }
    }

    @Test func aRepeatedKeyIsAnsweredNamingIt() {
        let body = Array(#"{"name":"a","name":"b","level":"Info","object_id":"x"}"#.utf8)
        #expect(throws: IngestError("name", "duplicate key")) {
            try NativeFormat.events(body: body, team: "t", now: Date())
        }
    }
}
