import CRdKafka
import Foundation
import HeraldPluginKit
import Synchronization

/// One librdkafka producer: messages go out asynchronously, and each
/// message's delivery report completes its submission.
///
/// `@unchecked Sendable` is safe: librdkafka's `rd_kafka_t` is
/// thread-safe for produce, poll and flush; `closing` is atomic.
final class Producer: @unchecked Sendable {
    struct Record {
        var key: [UInt8]
        var value: [UInt8]
        var headers: [(String, String)]
    }

    private let handle: OpaquePointer
    private let topic: String
    private let host: Unmanaged<HostBox>
    private let closing = Atomic<Bool>(false)
    private let pollerStopped = DispatchSemaphore(value: 0)

    init(config: Config, host: HostServices) throws(ConfigProblem) {
        let conf = try Self.makeConf(config)
        self.host = Unmanaged.passRetained(HostBox(host))
        rd_kafka_conf_set_opaque(conf, self.host.toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
            guard let message, let opaque = message.pointee._private else { return }
            let completion = Unmanaged<Completion>.fromOpaque(opaque).takeRetainedValue()
            completion(Producer.outcome(message.pointee.err))
        }
        // A fatal error (the idempotent producer lost its guarantees) ends
        // this producer: it is marked, and the channel makes a new one.
        rd_kafka_conf_set_error_cb(conf) { kafka, code, reason, _ in
            guard let kafka, let opaque = rd_kafka_opaque(kafka) else { return }
            let box = Unmanaged<HostBox>.fromOpaque(opaque).takeUnretainedValue()
            let text = reason.map { String(cString: $0) } ?? ""
            if code == RD_KAFKA_RESP_ERR__FATAL.rawValue {
                box.failed.store(true, ordering: .releasing)
                box.host.log(.error, "librdkafka fatal error: \(text)")
            } else {
                box.host.log(.warning, "librdkafka: \(String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(code)))): \(text)")
            }
        }
        rd_kafka_conf_set_log_cb(conf) { kafka, level, facility, text in
            guard let kafka, let opaque = rd_kafka_opaque(kafka), let text else { return }
            let box = Unmanaged<HostBox>.fromOpaque(opaque).takeUnretainedValue()
            let facility = facility.map { String(cString: $0) } ?? ""
            box.host.log(level <= 3 ? .error : level == 4 ? .warning : level <= 6 ? .info : .debug,
                         "librdkafka \(facility): \(String(cString: text))")
        }
        var error = [CChar](repeating: 0, count: 512)
        guard let made = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &error, error.count) else {
            rd_kafka_conf_destroy(conf)  // librdkafka owns it only on success
            self.host.release()
            throw ConfigProblem(field: "", "librdkafka: \(text(error))")
        }
        handle = made
        topic = config.topic
        Thread.detachNewThread { [self] in
            // Serves delivery reports (and logs) until `close`.
            while !closing.load(ordering: .acquiring) { rd_kafka_poll(handle, 100) }
            pollerStopped.signal()
        }
    }

    /// Builds librdkafka's config; a setting it refuses is named by its field.
    static func makeConf(_ config: Config) throws(ConfigProblem) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var error = [CChar](repeating: 0, count: 512)
        for setting in config.librdkafkaSettings
        where rd_kafka_conf_set(conf, setting.name, setting.value, &error, error.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw ConfigProblem(field: setting.field, text(error))
        }
        return conf
    }

    func produce(_ record: Record, completion: Completion) {
        let opaque = Unmanaged.passRetained(completion).toOpaque()
        let error: OpaquePointer? = topic.withCString { topic in
            record.key.withUnsafeBytes { key in
                record.value.withUnsafeBytes { value in
                    var fields = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 5)
                    fields[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    fields[0].u.cstr = topic
                    fields[1].vtype = RD_KAFKA_VTYPE_KEY
                    fields[1].u.mem = .init(ptr: UnsafeMutableRawPointer(mutating: key.baseAddress), size: key.count)
                    fields[2].vtype = RD_KAFKA_VTYPE_VALUE
                    fields[2].u.mem = .init(ptr: UnsafeMutableRawPointer(mutating: value.baseAddress), size: value.count)
                    fields[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    fields[3].u.i = RD_KAFKA_MSG_F_COPY
                    fields[4].vtype = RD_KAFKA_VTYPE_OPAQUE
                    fields[4].u.ptr = opaque
                    let headers = rd_kafka_headers_new(record.headers.count)!
                    for (name, value) in record.headers {
                        rd_kafka_header_add(headers, name, -1, value, -1)
                    }
                    fields.append(rd_kafka_vu_t())
                    fields[5].vtype = RD_KAFKA_VTYPE_HEADERS
                    fields[5].u.headers = headers
                    let error = rd_kafka_produceva(handle, fields, fields.count)
                    // On success librdkafka owns the headers; on failure they are ours.
                    if error != nil { rd_kafka_headers_destroy(headers) }
                    return error
                }
            }
        }
        guard let error else { return }
        Unmanaged<Completion>.fromOpaque(opaque).release()
        let code = rd_kafka_error_code(error)
        rd_kafka_error_destroy(error)
        completion(Self.outcome(code))
    }

    /// True once librdkafka reported a fatal error: nothing more can be
    /// produced with this producer.
    var hasFailed: Bool { host.takeUnretainedValue().failed.load(ordering: .acquiring) }

    /// Waits up to `timeoutMs` for messages in flight, then gives up the
    /// rest as RETRY so the host tries them again after a restart.
    func close(timeoutMs: Int32 = 10_000) {
        closing.store(true, ordering: .releasing)
        pollerStopped.wait()
        if rd_kafka_flush(handle, timeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR {
            rd_kafka_purge(handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
            rd_kafka_poll(handle, 0)  // serves the purged messages' reports
        }
        rd_kafka_destroy(handle)
        host.release()
    }

    /// Errors that no retry can cure fail the delivery; the rest are
    /// retried, and those of a cluster out of reach (transport, timeouts,
    /// no broker or leader) say the endpoint is down.
    static func outcome(_ error: rd_kafka_resp_err_t) -> Outcome {
        if error == RD_KAFKA_RESP_ERR_NO_ERROR { return .ok }
        let reason = "kafka: \(String(cString: rd_kafka_err2name(error))): \(String(cString: rd_kafka_err2str(error)))"
        if permanentErrors.contains(error.rawValue) { return .fail(reason) }
        return .retry(reason, endpointDown: unreachableErrors.contains(error.rawValue))
    }

    /// The cluster is out of reach, not this record at fault.
    static let unreachableErrors: Set<Int32> = [
        RD_KAFKA_RESP_ERR__TRANSPORT.rawValue, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue,
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue, RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue,
        RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE.rawValue, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION.rawValue, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE.rawValue,
        RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE.rawValue, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION.rawValue,
        RD_KAFKA_RESP_ERR__PURGE_QUEUE.rawValue, RD_KAFKA_RESP_ERR__PURGE_INFLIGHT.rawValue,
    ]

    private static let permanentErrors: Set<Int32> = Set([
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_RECORD,
        RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
        RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
        RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR__INVALID_ARG,
    ].map(\.rawValue))
}

/// A C string that librdkafka wrote into `buffer`.
private func text(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// What librdkafka's C callbacks reach through the client's opaque: the
/// host's services, and whether the client has failed for good.
private final class HostBox: Sendable {
    let host: HostServices
    let failed = Atomic<Bool>(false)
    init(_ host: HostServices) { self.host = host }
}
