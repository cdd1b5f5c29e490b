import COpenSSL
import Foundation

/// TLS over a connected, non-blocking socket (RFC 5425 syslog), with
/// OpenSSL: the server's certificate is checked against the CA file (or
/// the system's CAs) and the destination's name or IP address.
final class TLSSession {
    /// One context per endpoint: the CAs and verification mode.
    final class Context {
        let handle: OpaquePointer

        init(caFile: String?, verify: Bool) throws(TransportError) {
            guard let context = SSL_CTX_new(TLS_client_method()) else { throw .tls("cannot create a TLS context") }
            handle = context
            // SSL_CTX_set_min_proto_version is a macro over SSL_CTX_ctrl.
            SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
            SSL_CTX_set_verify(context, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
            let loaded = caFile.map { SSL_CTX_load_verify_locations(context, $0, nil) } ?? SSL_CTX_set_default_verify_paths(context)
            guard loaded == 1 else { throw .tls("cannot load the CAs: \(TLSSession.lastError())") }
        }

        deinit { SSL_CTX_free(handle) }
    }

    private let ssl: OpaquePointer
    private let socket: Int32
    /// After a fatal error OpenSSL forbids SSL_shutdown.
    private var failed = false

    /// A session on `socket`; `handshake` makes it usable.
    init(socket: Int32, host: String, context: Context) throws(TransportError) {
        guard let ssl = SSL_new(context.handle) else { throw .tls("cannot create a TLS session") }
        self.ssl = ssl
        self.socket = socket
        SSL_set_fd(ssl, socket)
        var address = in6_addr()
        let isIP = inet_pton(AF_INET, host, &address) == 1 || inet_pton(AF_INET6, host, &address) == 1
        if isIP {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)
        } else {
            SSL_set1_host(ssl, host)
            // SNI: SSL_set_tlsext_host_name is a macro over SSL_ctrl.
            _ = host.withCString { SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0)) }
        }
    }

    func handshake(deadline: Date) throws(TransportError) {
        try retrying(deadline: deadline) { SSL_connect(ssl) }
    }

    deinit {
        if !failed { SSL_shutdown(ssl) }  // best effort: the socket is non-blocking
        SSL_free(ssl)
    }

    /// Whether the server has ended the session. What it may send while
    /// open (TLS 1.3 session tickets) is read and dropped here: leaving it
    /// unread would make closing the socket a reset, which can lose what
    /// was last written.
    func peerHasClosed() -> Bool {
        var byte: UInt8 = 0
        while true {
            ERR_clear_error()
            let result = SSL_read(ssl, &byte, 1)
            if result > 0 { continue }  // a syslog server sends no data; drop it
            let error = SSL_get_error(ssl, result)
            if error == SSL_ERROR_WANT_READ { return false }
            failed = error != SSL_ERROR_ZERO_RETURN
            return true
        }
    }

    func write(_ bytes: [UInt8], deadline: Date) throws(TransportError) {
        var offset = 0
        while offset < bytes.count {
            var failure: TransportError?
            let written = bytes.withUnsafeBytes { buffer in
                do throws(TransportError) {
                    return try retrying(deadline: deadline) {
                        SSL_write(ssl, buffer.baseAddress! + offset, Int32(buffer.count - offset))
                    }
                } catch {
                    failure = error
                    return 0
                }
            }
            if let failure { throw failure }
            offset += Int(written)
        }
    }

    /// Calls `operation` until it succeeds, waiting on the socket for what
    /// OpenSSL wants (to read or to write) until `deadline`.
    @discardableResult
    private func retrying(deadline: Date, _ operation: () -> Int32) throws(TransportError) -> Int32 {
        while true {
            ERR_clear_error()
            let result = operation()
            if result > 0 { return result }
            let events: Int16
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ: events = Int16(POLLIN)
            case SSL_ERROR_WANT_WRITE: events = Int16(POLLOUT)
            case SSL_ERROR_ZERO_RETURN: throw .tls("the server closed the TLS session")
            default:
                failed = true
                let verification = SSL_get_verify_result(ssl)
                if verification != X509_V_OK {
                    throw .tls("certificate: \(String(cString: X509_verify_cert_error_string(verification)))")
                }
                throw .tls(Self.lastError())
            }
            var entry = pollfd(fd: socket, events: events, revents: 0)
            let remaining = Transport.millisecondsLeft(until: deadline)
            guard remaining > 0, poll(&entry, 1, remaining) > 0 else { throw .timedOut }
        }
    }

    static func lastError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "TLS error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
