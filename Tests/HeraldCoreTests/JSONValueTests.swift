import Foundation
import HeraldCore
import Testing

/// The JSON text plugins get: escapes as RFC 8259 requires, keys sorted,
/// and read back by Foundation as the same value.
struct JSONValueTests {
    @Test(arguments: [
        ("plain", #""plain""#), ("", #""""#), ("a\"b\\c", #""a\"b\\c""#), ("line\nnext\r\ttab", #""line\nnext\r\ttab""#),
        ("\u{01}\u{1F}x", #""\u0001\u001fx""#), ("ü 😀 /", #""ü 😀 /""#), ("\"", #""\"""#), ("end\\", #""end\\""#),
    ])
    func stringsAreEscaped(value: String, text: String) throws {
        #expect(JSONValue.string(value).jsonText == text)
        #expect(try JSONDecoder().decode(String.self, from: Data(text.utf8)) == value)
    }

    @Test func objectsAreWrittenWithSortedKeys() throws {
        let value = JSONValue.object(["b": .array([.number(1), .number(1.5), .bool(true), .null]), "a": .object(["z": .string("\n"), "y": .number(-2)])])
        #expect(value.jsonText == #"{"a":{"y":-2,"z":"\n"},"b":[1,1.5,true,null]}"#)
        #expect(try JSONValue.parse(value.jsonText) == value)
    }
}
