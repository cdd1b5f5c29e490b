/// What may go into an HTTP header line (RFC 9110 §5): libcurl sends names
/// and values as given, so a CR or LF in either would start a header (or a
/// request) of its own.
public enum HeaderField {
    /// Why `name: value` cannot be sent as a header line, or nil when it can.
    public static func problem(name: String, value: String) -> String? {
        guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else { return "not a valid header name" }
        guard value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
            return "a header value must not contain CR, LF or other control characters"
        }
        return nil
    }

    /// RFC 9110's tchar: letters, digits and !#$%&'*+-.^_`|~.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
