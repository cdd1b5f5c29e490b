import CCurlShim
import Foundation
import HeraldPluginKit
import Synchronization

/// Sends mails with libcurl's SMTP, blocking the calling thread. Keeps up
/// to one idle handle (and its open connection) per sending thread.
final class SMTPClient: Sendable {
    struct Envelope {
        var from: String
        var recipients: [String]
        var message: [UInt8]
        var timeoutMs: Int
    }

    private let config: Config
    private let url: String
    /// Handles not in use; each one keeps its connection to the server.
    /// Stored as addresses so the Mutex holds plain values.
    private let idle = Mutex<[UInt]>([])
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    init(config: Config) {
        Self.globalInit
        self.config = config
        url = Config.normalisedServer(config.server) ?? config.server
    }

    func send(_ envelope: Envelope) -> Outcome {
        guard let easy = idle.withLock({ $0.popLast() }).flatMap(UnsafeMutableRawPointer.init(bitPattern:))
                ?? curl_easy_init() else {
            return .retry("libcurl could not allocate a handle")
        }
        let upload = Upload(envelope.message)
        var recipients: UnsafeMutablePointer<curl_slist>?
        for recipient in envelope.recipients { recipients = curl_slist_append(recipients, "<\(recipient)>") }
        defer { curl_slist_free_all(recipients) }
        configure(easy, envelope: envelope, recipients: recipients, upload: upload)
        let result = withExtendedLifetime(upload) { curl_easy_perform(easy) }
        var code = 0
        herald_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
        // A handle whose transfer failed may hold a broken connection: drop it.
        if result == CURLE_OK {
            // Forget this mail's buffers (kept connection stays), so an idle
            // handle points at nothing freed.
            curl_easy_reset(easy)
            idle.withLock { $0.append(UInt(bitPattern: easy)) }
        } else {
            curl_easy_cleanup(easy)
        }
        return Self.outcome(result: result, code: code, errors: upload.errorText)
    }

    func close() {
        for address in idle.withLock({ handles in defer { handles.removeAll() }; return handles }) {
            curl_easy_cleanup(UnsafeMutableRawPointer(bitPattern: address))
        }
    }

    private func configure(_ easy: UnsafeMutableRawPointer, envelope: Envelope,
                           recipients: UnsafeMutablePointer<curl_slist>?, upload: Upload) {
        herald_curl_setopt_string(easy, CURLOPT_URL, url)
        herald_curl_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        herald_curl_setopt_string(easy, CURLOPT_MAIL_FROM, "<\(envelope.from)>")
        herald_curl_setopt_pointer(easy, CURLOPT_MAIL_RCPT, UnsafeMutableRawPointer(recipients))
        herald_curl_setopt_long(easy, CURLOPT_UPLOAD, 1)
        herald_curl_setopt_off_t(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(envelope.message.count))
        let context = Unmanaged.passUnretained(upload).toOpaque()
        herald_curl_setopt_pointer(easy, CURLOPT_READDATA, context)
        herald_curl_setopt_callback(easy, CURLOPT_READFUNCTION) { buffer, size, count, context in
            let upload = Unmanaged<Upload>.fromOpaque(context!).takeUnretainedValue()
            return upload.read(into: buffer, capacity: size * count)
        }
        herald_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, upload.errorBuffer.baseAddress)
        if url.hasPrefix("smtp://") {
            let level: Int = switch config.startTLS {
            case .required: Int(CURLUSESSL_ALL.rawValue)
            case .opportunistic: Int(CURLUSESSL_TRY.rawValue)
            case .off: Int(CURLUSESSL_NONE.rawValue)
            }
            herald_curl_setopt_long(easy, CURLOPT_USE_SSL, level)
        }
        if let username = config.username, let password = config.password {
            herald_curl_setopt_string(easy, CURLOPT_USERNAME, username)
            herald_curl_setopt_string(easy, CURLOPT_PASSWORD, password)
        }
        if let caFile = config.caFile { herald_curl_setopt_string(easy, CURLOPT_CAINFO, caFile) }
        herald_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, config.tlsVerify ? 1 : 0)
        herald_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, config.tlsVerify ? 2 : 0)
        herald_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, envelope.timeoutMs))
        herald_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
    }

    /// SMTP 5xx replies fail for good; 4xx replies, connection and TLS
    /// trouble are retried. No reply at all (refused, reset, timed out, a
    /// TLS handshake) and 421 "service not available" mean the server is
    /// down; another 4xx is about this message.
    static func outcome(result: CURLcode, code: Int, errors: String) -> Outcome {
        if result == CURLE_OK { return .ok }
        let reason = "smtp: \(errors.isEmpty ? String(cString: curl_easy_strerror(result)) : errors)"
            + (code > 0 ? " (last reply \(code))" : "")
        if result == CURLE_URL_MALFORMAT || result == CURLE_UNSUPPORTED_PROTOCOL { return .fail(reason) }
        if (500..<600).contains(code) { return .fail(reason) }
        return .retry(reason, endpointDown: code == 0 || code == 421)
    }
}

/// The bytes libcurl reads for DATA, and its error text.
private final class Upload {
    let bytes: [UInt8]
    var offset = 0
    let errorBuffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        errorBuffer.initialize(repeating: 0)
    }

    deinit { errorBuffer.deallocate() }

    func read(into buffer: UnsafeMutablePointer<CChar>?, capacity: Int) -> Int {
        guard let buffer else { return 0 }
        let count = min(capacity, bytes.count - offset)
        bytes.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }

    var errorText: String {
        String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
