import CHeraldPlugin
public import HeraldCore

/// Name/value pairs as the ABI's `herald_field` array, so C plugins read a
/// config, an event or rendered templates without a JSON parser.
///
/// All names and values live in one byte buffer; the array points into it
/// and is valid only inside `withFields`.
public struct FieldList: Sendable {
    private var bytes: [UInt8] = []
    /// (name start, name length, value start, value length) into `bytes`.
    private var spans: [(Int, Int, Int, Int)] = []

    public init() {}

    /// Pairs sorted by name, as the header promises.
    public init(_ pairs: [(String, String)]) {
        for (name, value) in pairs.sorted(by: { $0.0 < $1.0 }) { append(name, value) }
    }

    public var count: Int { spans.count }

    private mutating func append(_ name: String, _ value: String) {
        let nameStart = bytes.count
        bytes.append(contentsOf: name.utf8)
        let valueStart = bytes.count
        bytes.append(contentsOf: value.utf8)
        spans.append((nameStart, valueStart - nameStart, valueStart, bytes.count - valueStart))
    }

    /// The pairs, in order.
    public var pairs: [(String, String)] {
        spans.map { span in
            (String(decoding: bytes[span.0..<span.0 + span.1], as: UTF8.self),
             String(decoding: bytes[span.2..<span.2 + span.3], as: UTF8.self))
        }
    }

    /// Calls `body` with the fields as a C array (empty: a NULL pointer).
    func withFields<R>(_ body: (UnsafePointer<herald_field>?, Int) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer { storage in
            let base = UnsafeRawPointer(storage.baseAddress)?.assumingMemoryBound(to: CChar.self)
            let fields = spans.map { span in
                herald_field(name: base.map { $0 + span.0 }, name_length: span.1,
                             value: base.map { $0 + span.2 }, value_length: span.3)
            }
            return try fields.withUnsafeBufferPointer { try body($0.baseAddress, $0.count) }
        }
    }
}

extension FieldList {
    /// A JSON object flattened: one pair per scalar, named by its dotted
    /// path ("headers.X-Token", "to[1]"); strings as they are, other
    /// scalars as JSON writes them.
    public init(flattening value: JSONValue) {
        var pairs: [(String, String)] = []
        func walk(_ value: JSONValue, _ path: String) {
            switch value {
            case .object(let members):
                for (key, member) in members { walk(member, path.isEmpty ? key : "\(path).\(key)") }
            case .array(let items):
                for (index, item) in items.enumerated() { walk(item, "\(path)[\(index)]") }
            case .string(let text):
                pairs.append((path, text))
            case .null, .bool, .number:
                pairs.append((path, value.jsonText))
            }
        }
        walk(value, "")
        self.init(pairs)
    }

    /// An event's fields for C: its top-level strings, each label as
    /// `labels.KEY` and each annotation as `annotations.KEY`.
    public init(event fields: [String: JSONValue]) {
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(fields.count + 8)
        for (name, value) in fields {
            switch value {
            case .string(let text): pairs.append((name, text))
            case .object(let members):
                for (key, member) in members { pairs.append(("\(name).\(key)", member.stringValue ?? member.jsonText)) }
            default: pairs.append((name, value.jsonText))
            }
        }
        self.init(pairs)
    }
}
