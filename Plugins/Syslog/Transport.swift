import Foundation

/// A UDP, TCP or TLS socket to the destination, used by one thread at a time.
///
/// TCP and TLS: one connection kept open. Before each message it checks
/// whether the server has closed its end (a restart), and reconnects; a
/// message whose write fails is reported as not sent, so the host retries it.
final class Transport {
    private let destination: Destination
    private let tlsContext: TLSSession.Context?
    private var socket: Int32 = -1
    private var tls: TLSSession?

    init(destination: Destination, caFile: String?, tlsVerify: Bool) throws(TransportError) {
        self.destination = destination
        tlsContext = destination.transport == .tls ? try TLSSession.Context(caFile: caFile, verify: tlsVerify) : nil
    }

    deinit { disconnect() }

    /// Sends one message (already framed for TCP) within `timeout` seconds.
    func send(_ bytes: [UInt8], timeout: Double) throws(TransportError) {
        let deadline = Date().addingTimeInterval(timeout)
        if socket >= 0 && destination.transport != .udp && peerHasClosed() { disconnect() }
        do throws(TransportError) {
            if socket < 0 { try connect(deadline: deadline) }
            switch destination.transport {
            case .udp:
                let sent = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent == bytes.count else { throw TransportError.system("send", errno) }
            case .tcp:
                try writeAll(bytes, deadline: deadline)
            case .tls:
                try tls?.write(bytes, deadline: deadline)
            }
        } catch {
            disconnect()
            throw error
        }
    }

    func disconnect() {
        tls = nil
        if socket >= 0 { close(socket) }
        socket = -1
    }

    // MARK: -

    private func connect(deadline: Date) throws(TransportError) {
        var hints = addrinfo()
        hints.ai_socktype = destination.transport == .udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(destination.host, String(destination.port), &hints, &found)
        guard status == 0, let first = found else {
            throw TransportError.resolve(destination.host, String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(found) }
        var lastError = TransportError.system("connect", ECONNREFUSED)
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let address = candidate {
            candidate = address.pointee.ai_next
            let fd = Glibc.socket(address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue),
                                  address.pointee.ai_protocol)
            guard fd >= 0 else { lastError = .system("socket", errno); continue }
            if Glibc.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 {
                guard errno == EINPROGRESS else { lastError = .system("connect", errno); close(fd); continue }
                guard wait(fd, for: Int16(POLLOUT), until: deadline) else { lastError = .timedOut; close(fd); continue }
                var failure: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length)
                guard failure == 0 else { lastError = .system("connect", failure); close(fd); continue }
            }
            socket = fd
            if let tlsContext {
                let session = try TLSSession(socket: fd, host: destination.host, context: tlsContext)
                tls = session
                try session.handshake(deadline: deadline)
            }
            return
        }
        throw lastError
    }

    private func writeAll(_ bytes: [UInt8], deadline: Date) throws(TransportError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 { offset += sent; continue }
            guard sent < 0, errno == EAGAIN || errno == EWOULDBLOCK else { throw .system("send", errno) }
            guard wait(socket, for: Int16(POLLOUT), until: deadline) else { throw .timedOut }
        }
    }

    /// True when the server closed or reset the connection. A syslog server
    /// never writes, so over TCP anything readable means end of stream or an
    /// error; TLS tells its own records apart.
    private func peerHasClosed() -> Bool {
        var probe = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&probe, 1, 0) > 0 else { return false }
        if let tls { return tls.peerHasClosed() }
        var byte: UInt8 = 0
        return recv(socket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0
    }

    private func wait(_ fd: Int32, for events: Int16, until deadline: Date) -> Bool {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let ready = poll(&entry, 1, Self.millisecondsLeft(until: deadline))
            if ready > 0 { return true }
            if ready == 0 || errno != EINTR { return false }
        }
    }
}

extension Transport {
    /// Time left before `deadline` as poll(2) takes it, clamped to 0...Int32.max ms.
    static func millisecondsLeft(until deadline: Date) -> Int32 {
        let left = deadline.timeIntervalSinceNow * 1000
        return left.isFinite ? Int32(min(max(0, left), Double(Int32.max))) : 0
    }
}

enum TransportError: Error, CustomStringConvertible {
    case resolve(String, String)
    case system(String, Int32)
    case tls(String)
    case timedOut

    var description: String {
        switch self {
        case .resolve(let host, let reason): "cannot resolve \(host): \(reason)"
        case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
        case .tls(let reason): "tls: \(reason)"
        case .timedOut: "timed out"
        }
    }
}
