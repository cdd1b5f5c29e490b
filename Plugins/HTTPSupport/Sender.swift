import CCurlShim
import Foundation
public import HeraldPluginKit
import Synchronization

/// Runs HTTP requests on one thread with libcurl's multi interface: many
/// requests in flight, connections kept alive and reused across
/// deliveries, and `send` never blocks the caller.
///
/// `@unchecked Sendable` is safe: the curl handles are touched only by the
/// sender's own thread; what other threads touch (`queue`) is in a Mutex,
/// and `curl_multi_wakeup` is documented as callable from any thread.
public final class Sender: @unchecked Sendable {
    public struct Request: Sendable {
        public var url: String
        public var method: String
        public var headers: [String: String]
        public var body: [UInt8]
        public var timeoutMs: Int
        public var caFile: String?
        public var verify: Bool
        /// HTTP Basic authentication; never logged.
        public var basicAuth: (user: String, password: String)?

        public init(url: String, method: String = "POST", headers: [String: String], body: [UInt8], timeoutMs: Int,
                    caFile: String? = nil, verify: Bool = true, basicAuth: (user: String, password: String)? = nil) {
            self.url = url
            self.method = method
            self.headers = headers
            self.body = body
            self.timeoutMs = timeoutMs
            self.caFile = caFile
            self.verify = verify
            self.basicAuth = basicAuth
        }
    }

    private struct Queue {
        var waiting: [(Request, Completion)] = []
        var closing = false
    }

    private let multi: UnsafeMutableRawPointer
    private let queue = Mutex(Queue())
    private let stopped = DispatchSemaphore(value: 0)
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    /// - Parameter maxConnections: per host; requests beyond them wait in
    ///   libcurl for a free connection instead of opening (and, past the
    ///   cache size, closing) one each.
    public init(maxConnections: Int) {
        Self.globalInit
        multi = curl_multi_init()!
        herald_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnections)
        herald_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(64, maxConnections * 4))
        Thread.detachNewThread { [self] in loop() }
    }

    public func send(_ request: Request, completion: Completion) {
        let accepted = queue.withLock { queue in
            guard !queue.closing else { return false }
            queue.waiting.append((request, completion))
            return true
        }
        guard accepted else {
            completion(.retry("the http channel is closing"))
            return
        }
        curl_multi_wakeup(multi)
    }

    /// Lets transfers in flight finish, then stops the thread.
    public func close() {
        queue.withLock { $0.closing = true }
        curl_multi_wakeup(multi)
        stopped.wait()
        curl_multi_cleanup(multi)
    }

    // MARK: - The sender thread

    private func loop() {
        var running: Int32 = 0
        while true {
            let (batch, closing) = queue.withLock { queue in
                defer { queue.waiting.removeAll(keepingCapacity: true) }
                return (queue.waiting, queue.closing)
            }
            for (request, completion) in batch { start(request, completion) }
            curl_multi_perform(multi, &running)
            finishDone()
            if closing && running == 0 && batch.isEmpty { break }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        for easy in idleHandles { curl_easy_cleanup(easy) }
        idleHandles.removeAll()
        stopped.signal()
    }

    /// Finished handles, reset and used again (sender thread only).
    private var idleHandles: [UnsafeMutableRawPointer] = []

    private func start(_ request: Request, _ completion: Completion) {
        // Checked at config load; checked again here as the last line before the wire.
        for (name, value) in request.headers {
            if let problem = HeaderField.problem(name: name, value: value) {
                completion(.fail("header \(name): \(problem)"))
                return
            }
        }
        guard let easy = idleHandles.popLast() ?? curl_easy_init() else {
            completion(.retry("libcurl could not allocate a handle"))
            return
        }
        let transfer = Transfer(completion: completion, body: request.body)
        herald_curl_setopt_string(easy, CURLOPT_URL, request.url)
        herald_curl_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        herald_curl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method)
        herald_curl_setopt_long(easy, CURLOPT_POST, 1)
        transfer.body.withUnsafeBufferPointer { bytes in
            herald_curl_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
            herald_curl_setopt_pointer(easy, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
        }
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
            transfer.headers = curl_slist_append(transfer.headers, "\(name): \(value)")
        }
        // No "Expect: 100-continue" round trip for larger bodies.
        transfer.headers = curl_slist_append(transfer.headers, "Expect:")
        herald_curl_setopt_pointer(easy, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(transfer.headers))
        herald_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, request.timeoutMs))
        herald_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        herald_curl_setopt_string(easy, CURLOPT_USERAGENT, "herald/1.0")
        herald_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, request.verify ? 1 : 0)
        herald_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, request.verify ? 2 : 0)
        if let caFile = request.caFile { herald_curl_setopt_string(easy, CURLOPT_CAINFO, caFile) }
        if let (user, password) = request.basicAuth {  // Basic is libcurl's default scheme
            herald_curl_setopt_string(easy, CURLOPT_USERNAME, user)
            herald_curl_setopt_string(easy, CURLOPT_PASSWORD, password)
        }
        let context = Unmanaged.passRetained(transfer).toOpaque()
        herald_curl_setopt_pointer(easy, CURLOPT_PRIVATE, context)
        herald_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        herald_curl_setopt_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            let room = Transfer.snippetLimit - transfer.response.count
            if room > 0, let data {
                transfer.response.append(contentsOf: UnsafeRawBufferPointer(start: data, count: min(room, length)))
            }
            return length
        }
        curl_multi_add_handle(multi, easy)
    }

    private func finishDone() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let result = herald_curl_msg_result(message)
            var context: UnsafeMutableRawPointer?
            herald_curl_getinfo_pointer(easy, CURLINFO_PRIVATE, &context)
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeRetainedValue()
            var status = 0
            herald_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            var retryAfter: curl_off_t = 0
            herald_curl_getinfo_off_t(easy, CURLINFO_RETRY_AFTER, &retryAfter)
            curl_multi_remove_handle(multi, easy)
            curl_easy_reset(easy)
            idleHandles.append(easy)
            curl_slist_free_all(transfer.headers)
            transfer.completion(Self.outcome(result: result, status: status, retryAfter: Double(retryAfter),
                                             response: transfer.response))
        }
    }

    /// 2xx delivered; 408, 429 and 5xx retried (after Retry-After when
    /// given); other statuses refused for good; transport errors retried.
    /// A transport error (refused, reset, timed out, TLS), 408, 429 and 5xx
    /// say the endpoint is down or overloaded, not that this message is bad.
    static func outcome(result: CURLcode, status: Int, retryAfter: Double, response: [UInt8]) -> Outcome {
        guard result == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(result))
            switch result {
            case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
                return .fail("curl: \(reason)")
            default:
                return .retry("curl: \(reason)", endpointDown: true)
            }
        }
        if (200..<300).contains(status) { return .ok }
        let snippet = String(decoding: response, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let reason = snippet.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(snippet)"
        switch status {
        case 408, 429, 500..<600: return .retry(reason, after: retryAfter > 0 ? retryAfter : nil, endpointDown: true)
        default: return .fail(reason)
        }
    }
}

/// One request's buffers, alive from `start` until its completion.
private final class Transfer {
    static let snippetLimit = 256
    let completion: Completion
    let body: [UInt8]
    var headers: UnsafeMutablePointer<curl_slist>?
    var response: [UInt8] = []

    init(completion: Completion, body: [UInt8]) {
        self.completion = completion
        self.body = body
    }
}
