import Foundation

/// What the daemon and a plugin worker process say to each other over the
/// worker's stdin and stdout: length-prefixed binary frames.
///
/// Each frame is a little-endian u32 length, then that many bytes: a type
/// byte and the fields in order (u32/u64 little-endian; bytes and strings
/// as a u32 length and the bytes; field lists as a u32 count and name,
/// value pairs). Both ends are Herald, built together, so the format
/// carries no version; it is not part of the plugin ABI.
enum WorkerFrame: Equatable {
    // Daemon → worker.
    case open(endpoint: String, config: String)
    case submit(Submission)
    case close

    // Worker → daemon.
    /// The answer to `open` or `close`: an empty error means done.
    case result(error: String)
    case complete(token: UInt64, outcome: Int32, flags: UInt32, retryAfterMs: UInt64, reason: String)
    /// The plugin's submit refused the submission on the spot.
    case refused(token: UInt64)
    case log(level: Int32, text: String)

    struct Submission: Equatable {
        var token: UInt64
        var deliveryID: String
        var attempt: UInt32
        var timeoutMs: UInt32
        var eventJSON: [UInt8]
        var eventFields: [(String, String)]
        var renderedJSON: [UInt8]
        var renderedFields: [(String, String)]

        static func == (lhs: Submission, rhs: Submission) -> Bool {
            lhs.token == rhs.token && lhs.deliveryID == rhs.deliveryID && lhs.attempt == rhs.attempt
                && lhs.timeoutMs == rhs.timeoutMs && lhs.eventJSON == rhs.eventJSON && lhs.renderedJSON == rhs.renderedJSON
                && lhs.eventFields.elementsEqual(rhs.eventFields, by: ==)
                && lhs.renderedFields.elementsEqual(rhs.renderedFields, by: ==)
        }
    }

    /// The frame's bytes, length prefix included.
    var encoded: [UInt8] {
        var out = Writer()
        switch self {
        case .open(let endpoint, let config): out.byte(1); out.string(endpoint); out.string(config)
        case .submit(let s):
            out.byte(2); out.u64(s.token); out.string(s.deliveryID); out.u32(s.attempt); out.u32(s.timeoutMs)
            out.bytes(s.eventJSON); out.fields(s.eventFields); out.bytes(s.renderedJSON); out.fields(s.renderedFields)
        case .close: out.byte(3)
        case .result(let error): out.byte(4); out.string(error)
        case .complete(let token, let outcome, let flags, let retryAfterMs, let reason):
            out.byte(5); out.u64(token); out.u32(UInt32(bitPattern: outcome)); out.u32(flags); out.u64(retryAfterMs)
            out.string(reason)
        case .refused(let token): out.byte(6); out.u64(token)
        case .log(let level, let text): out.byte(7); out.u32(UInt32(bitPattern: level)); out.string(text)
        }
        var framed = Writer()
        framed.u32(UInt32(truncatingIfNeeded: out.data.count))
        return framed.data + out.data
    }

    /// Decodes one frame's body (without its length prefix).
    init(body: [UInt8]) throws(WorkerProtocolError) {
        var r = Reader(bytes: body)
        switch try r.byte() {
        case 1: self = .open(endpoint: try r.string(), config: try r.string())
        case 2:
            self = .submit(Submission(token: try r.u64(), deliveryID: try r.string(), attempt: try r.u32(),
                                      timeoutMs: try r.u32(), eventJSON: try r.bytes(), eventFields: try r.fields(),
                                      renderedJSON: try r.bytes(), renderedFields: try r.fields()))
        case 3: self = .close
        case 4: self = .result(error: try r.string())
        case 5:
            self = .complete(token: try r.u64(), outcome: Int32(bitPattern: try r.u32()), flags: try r.u32(),
                             retryAfterMs: try r.u64(), reason: try r.string())
        case 6: self = .refused(token: try r.u64())
        case 7: self = .log(level: Int32(bitPattern: try r.u32()), text: try r.string())
        case let type: throw WorkerProtocolError(message: "unknown frame type \(type)")
        }
        guard r.at == body.count else { throw WorkerProtocolError(message: "\(body.count - r.at) bytes after a frame") }
    }

    /// The largest frame either side accepts: a bound, so a corrupt length
    /// cannot make a reader allocate without end.
    static let maxLength = 256 << 20

    private struct Writer {
        var data: [UInt8] = []
        mutating func byte(_ value: UInt8) { data.append(value) }
        mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        mutating func bytes(_ value: [UInt8]) { u32(UInt32(truncatingIfNeeded: value.count)); data.append(contentsOf: value) }
        mutating func string(_ value: String) { bytes(Array(value.utf8)) }
        mutating func fields(_ value: [(String, String)]) {
            u32(UInt32(truncatingIfNeeded: value.count))
            for (name, text) in value { string(name); string(text) }
        }
    }

    private struct Reader {
        let input: [UInt8]
        var at = 0

        init(bytes: [UInt8]) { input = bytes }

        mutating func take(_ count: Int) throws(WorkerProtocolError) -> ArraySlice<UInt8> {
            guard count >= 0, input.count - at >= count else { throw WorkerProtocolError(message: "a frame ends early") }
            defer { at += count }
            return input[at..<at + count]
        }
        mutating func byte() throws(WorkerProtocolError) -> UInt8 { try take(1).first ?? 0 }
        mutating func u32() throws(WorkerProtocolError) -> UInt32 {
            let bytes = try take(4)
            return bytes.reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }
        mutating func u64() throws(WorkerProtocolError) -> UInt64 {
            let bytes = try take(8)
            return bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        mutating func bytes() throws(WorkerProtocolError) -> [UInt8] { Array(try take(Int(try u32()))) }
        mutating func string() throws(WorkerProtocolError) -> String { String(decoding: try bytes(), as: UTF8.self) }
        mutating func fields() throws(WorkerProtocolError) -> [(String, String)] {
            let count = Int(try u32())
            // Each pair takes at least 8 bytes: a count past that is corrupt.
            guard count <= (input.count - at) / 8 else { throw WorkerProtocolError(message: "a field count past the frame") }
            var pairs: [(String, String)] = []
            pairs.reserveCapacity(count)
            for _ in 0..<count { pairs.append((try string(), try string())) }
            return pairs
        }
    }
}

struct WorkerProtocolError: Error, CustomStringConvertible {
    let message: String
    var description: String { "plugin worker protocol: \(message)" }
}

/// Reads and writes whole frames on file descriptors (blocking).
enum FrameIO {
    /// The next frame's body, or nil at end of file.
    static func read(from fd: Int32) throws(WorkerProtocolError) -> [UInt8]? {
        guard let prefix = try readExactly(fd, 4) else { return nil }
        let length = Int(prefix.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard length > 0, length <= WorkerFrame.maxLength else {
            throw WorkerProtocolError(message: "a frame of \(length) bytes")
        }
        guard let body = try readExactly(fd, length) else { throw WorkerProtocolError(message: "the stream ends inside a frame") }
        return body
    }

    private static func readExactly(_ fd: Int32, _ count: Int) throws(WorkerProtocolError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + done, count - done) }
            if got == 0 {
                if done == 0 { return nil }
                throw WorkerProtocolError(message: "the stream ends inside a frame")
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw WorkerProtocolError(message: "read: \(String(cString: strerror(errno)))")
            }
            done += got
        }
        return buffer
    }

    /// Writes all of `bytes`; false when the other end is gone.
    static func write(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var done = 0
        while done < bytes.count {
            let wrote = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if wrote < 0 {
                if errno == EINTR { continue }
                return false
            }
            done += wrote
        }
        return true
    }
}
