/// Checks that a body is one well-formed JSON text (RFC 8259) in which no
/// object names a member twice and no string escapes a lone surrogate;
/// `parse` also returns it as a tree.
///
/// RFC 8259 leaves repeated names to each parser: Foundation's decoder keeps
/// the first, most others the last, so the same bytes would mean one alert
/// to Herald and another to the sender's tooling. Ingest refuses them
/// instead, naming the key. Foundation reports neither repeats nor where
/// they are, hence this small scanner; `check` allocates only for escaped
/// keys and for the key sets of objects with many members.
public enum JSONShape {
    public enum Problem: Error, Equatable {
        /// Not JSON; `offset` is the byte where reading stopped.
        case malformed(offset: Int)
        /// Nested deeper than `maxDepth` arrays and objects.
        case tooDeep
        /// An object names `key` twice; `path` is the object's dotted path.
        case duplicate(path: String, key: String)
    }

    /// Foundation's decoder stops at 512 levels too.
    public static let maxDepth = 512

    public static func check(_ bytes: [UInt8]) throws(Problem) {
        _ = try read(bytes, building: false)
    }

    /// A checked JSON text as a tree, for formats read without Foundation's
    /// decoder (Alertmanager's bodies, stored events). A number is read as
    /// a Double (`1e400` is infinite: its reader decides).
    public indirect enum Value: Sendable {
        case null
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([Value])
        /// Members in the order written; no key twice (checked).
        case object([(key: String, value: Value)])
    }

    /// Checks `bytes` as `check` does and returns the tree.
    public static func parse(_ bytes: [UInt8]) throws(Problem) -> Value {
        try read(bytes, building: true) ?? .null
    }

    private static func read(_ bytes: [UInt8], building: Bool) throws(Problem) -> Value? {
        var scanner = Scanner(bytes: bytes, building: building)
        scanner.skipWhitespace()
        let value = try scanner.value(depth: 0)
        scanner.skipWhitespace()
        guard scanner.at == bytes.count else { throw .malformed(offset: scanner.at) }
        return value
    }

    /// A key as a field path names it: the empty key as `""`, so a field is never nameless.
    public static func name(_ key: String) -> String { key.isEmpty ? "\"\"" : key }

    /// A path component of the value being read, for naming a repeated key.
    private enum Step {
        case key(ArraySlice<UInt8>)
        case index(Int)
    }

    private struct Scanner {
        let bytes: [UInt8]
        /// Whether values are built (`parse`) or only checked (`check`, which allocates nothing for them).
        let building: Bool
        var at = 0
        var path: [Step] = []

        init(bytes: [UInt8], building: Bool) {
            self.bytes = bytes
            self.building = building
        }

        var current: UInt8? { at < bytes.count ? bytes[at] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { at += 1 }
        }

        mutating func expect(_ byte: UInt8) throws(Problem) {
            guard current == byte else { throw .malformed(offset: at) }
            at += 1
        }

        mutating func literal(_ word: StaticString) throws(Problem) {
            let text = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard bytes.count - at >= text.count, bytes[at..<at + text.count].elementsEqual(text) else {
                throw .malformed(offset: at)
            }
            at += text.count
        }

        /// The value at `at`; nil when not building.
        mutating func value(depth: Int) throws(Problem) -> Value? {
            switch current {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""):
                let text = try string()
                return building ? .string(String(decoding: text, as: UTF8.self)) : nil
            case UInt8(ascii: "t"): try literal("true"); return building ? .bool(true) : nil
            case UInt8(ascii: "f"): try literal("false"); return building ? .bool(false) : nil
            case UInt8(ascii: "n"): try literal("null"); return building ? .null : nil
            default:
                let start = at
                try number()
                return building ? .number(Double(String(decoding: bytes[start..<at], as: UTF8.self)) ?? .nan) : nil
            }
        }

        mutating func array(depth: Int) throws(Problem) -> Value? {
            guard depth <= JSONShape.maxDepth else { throw .tooDeep }
            at += 1
            skipWhitespace()
            var items: [Value] = []
            if current == UInt8(ascii: "]") { at += 1; return building ? .array(items) : nil }
            var index = 0
            while true {
                path.append(.index(index))
                skipWhitespace()
                let item = try value(depth: depth)
                if let item { items.append(item) }
                path.removeLast()
                skipWhitespace()
                if current == UInt8(ascii: "]") { at += 1; return building ? .array(items) : nil }
                try expect(UInt8(ascii: ","))
                index += 1
            }
        }

        mutating func object(depth: Int) throws(Problem) -> Value? {
            guard depth <= JSONShape.maxDepth else { throw .tooDeep }
            at += 1
            skipWhitespace()
            var members: [(key: String, value: Value)] = []
            if current == UInt8(ascii: "}") { at += 1; return building ? .object(members) : nil }
            // A linear search is cheapest for the few keys of most objects;
            // past a handful a set keeps a huge object from costing n².
            var keys: [ArraySlice<UInt8>] = []
            var keySet: Set<ArraySlice<UInt8>>?
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw .malformed(offset: at) }
                let key = try string()
                let repeated: Bool
                if var set = keySet {
                    repeated = !set.insert(key).inserted
                    keySet = set
                } else {
                    repeated = keys.contains(key)
                    keys.append(key)
                    if keys.count > 16 { keySet = Set(keys); keys = [] }
                }
                if repeated {
                    throw .duplicate(path: Self.describe(path), key: JSONShape.name(String(decoding: key, as: UTF8.self)))
                }
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                skipWhitespace()
                path.append(.key(key))
                let member = try value(depth: depth)
                if let member { members.append((String(decoding: key, as: UTF8.self), member)) }
                path.removeLast()
                skipWhitespace()
                if current == UInt8(ascii: "}") { at += 1; return building ? .object(members) : nil }
                try expect(UInt8(ascii: ","))
            }
        }

        /// Reads a string; returns its content with escapes decoded (a
        /// slice of the input when it has none).
        mutating func string() throws(Problem) -> ArraySlice<UInt8> {
            at += 1
            let start = at
            var decoded: [UInt8]?
            while true {
                guard let byte = current else { throw .malformed(offset: at) }
                switch byte {
                case UInt8(ascii: "\""):
                    at += 1
                    if let decoded { return decoded[...] }
                    return bytes[start..<at - 1]
                case UInt8(ascii: "\\"):
                    var text = decoded ?? Array(bytes[start..<at])
                    decoded = nil  // so `text` stays the only reference and grows in place
                    at += 1
                    try escape(into: &text)
                    decoded = text
                case 0..<0x20:
                    throw .malformed(offset: at)
                default:
                    decoded?.append(byte)
                    at += 1
                }
            }
        }

        /// Decodes the escape after a backslash, as UTF-8. A lone
        /// surrogate (`\ud800` not followed by a low one) is refused, as
        /// Foundation's decoder refuses it: it is no character, and no
        /// reader of the body could agree on what it means.
        mutating func escape(into out: inout [UInt8]) throws(Problem) {
            guard let byte = current else { throw .malformed(offset: at) }
            at += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                let escapeAt = at - 2
                var unit = UInt32(try hex4())
                if (0xD800..<0xDC00).contains(unit), bytes.count - at >= 6,
                   bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") {
                    at += 2
                    let low = UInt32(try hex4())
                    guard (0xDC00..<0xE000).contains(low) else { throw .malformed(offset: escapeAt) }
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                }
                guard !(0xD800..<0xE000).contains(unit) else { throw .malformed(offset: escapeAt) }
                Self.appendUTF8(unit, to: &out)
            default:
                throw .malformed(offset: at - 1)
            }
        }

        mutating func hex4() throws(Problem) -> UInt16 {
            guard bytes.count - at >= 4 else { throw .malformed(offset: at) }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let digit: UInt8
                switch bytes[at] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = bytes[at] - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = bytes[at] - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = bytes[at] - UInt8(ascii: "A") + 10
                default: throw .malformed(offset: at)
                }
                value = value << 4 | UInt16(digit)
                at += 1
            }
            return value
        }

        static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
            switch scalar {
            case 0..<0x80:
                out.append(UInt8(scalar))
            case 0x80..<0x800:
                out += [UInt8(0xC0 | scalar >> 6), UInt8(0x80 | scalar & 0x3F)]
            case 0x800..<0x10000:
                out += [UInt8(0xE0 | scalar >> 12), UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F)]
            default:
                out += [UInt8(0xF0 | scalar >> 18 & 0x07), UInt8(0x80 | scalar >> 12 & 0x3F),
                        UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F)]
            }
        }

        /// `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`
        mutating func number() throws(Problem) {
            if current == UInt8(ascii: "-") { at += 1 }
            if current == UInt8(ascii: "0") {
                at += 1
            } else {
                try digits()
            }
            if current == UInt8(ascii: ".") {
                at += 1
                try digits()
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                at += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { at += 1 }
                try digits()
            }
        }

        /// One or more decimal digits.
        mutating func digits() throws(Problem) {
            let start = at
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { at += 1 }
            guard at > start else { throw .malformed(offset: at) }
        }

        static func describe(_ path: [Step]) -> String {
            var text = ""
            for step in path {
                switch step {
                case .index(let index): text += "[\(index)]"
                case .key(let key): text += (text.isEmpty ? "" : ".") + JSONShape.name(String(decoding: key, as: UTF8.self))
                }
            }
            return text
        }
    }
}
