import Foundation
import HeraldCore
import HeraldDispatch
@testable import HeraldIngest
@testable import HeraldPluginHost
@testable import HeraldStore
import Logging

/// The libFuzzer targets: every ingest parser and the config loader, each
/// taking arbitrary bytes. An input must end in events or a typed error;
/// anything else (a trap, an event outside `EventLimits`, an untyped
/// error) stops the fuzzer with the input saved.
public enum FuzzTargets {
    public static let names = ["native", "huawei", "alertmanager-api", "alertmanager-webhook", "aliyun", "tencent",
                               "pagerduty", "config", "api-item", "template", "worker-frame", "stored-event"]

    /// Runs one input through the target `name`.
    public static func run(_ name: String, _ data: [UInt8]) {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        do {
            switch name {
            case "native":
                // Events sent without an id get a random one from each reader: all else must match.
                check(try same(NativeFormat.events(body:team:now:), NativeFormat.decodedEvents(body:team:now:), data, now) {
                    $0.count == $1.count && zip($0, $1).allSatisfy { read, decoded in
                        var decoded = decoded
                        decoded.id = read.id
                        return read == decoded
                    }
                })
            case "huawei":
                check(try HuaweiFormat.events(body: data, team: "fuzz", clear: false, defaultTimeout: 600, now: now))
                check(try HuaweiFormat.events(body: data, team: "fuzz", clear: true, defaultTimeout: 600, now: now))
            case "alertmanager-api":
                check(try same(AlertmanagerFormat.apiAlerts(body:team:now:), AlertmanagerFormat.decodedAPIAlerts(body:team:now:),
                               data, now, equal: sameAlerts).map(\.event))
            case "alertmanager-webhook":
                check(try same(AlertmanagerFormat.webhookAlerts(body:team:now:), AlertmanagerFormat.decodedWebhookAlerts(body:team:now:),
                               data, now, equal: sameAlerts).map(\.event))
            case "aliyun": check([try AliyunFormat.event(body: data, team: "fuzz", now: now)])
            case "tencent": check([try TencentFormat.event(body: data, team: "fuzz", now: now).event])
            case "pagerduty":
                let event = try PagerDutyFormat.parse(body: data)
                if let triggered = event.event(team: "fuzz", now: now) {
                    check([triggered, PagerDutyEvent.resolving(triggered, now: now)])
                }
            case "stored-event":
                // A row of the store's event table (a damaged file, a downgrade): read, or refused.
                if let event = try? Event(stored: Data(data)) {
                    precondition((try? Event(stored: event.storedJSON)) == event, "a stored event does not read back as itself")
                }
            case "config": config(data)
            case "api-item": apiItem(data)
            case "template": template(data)
            case "worker-frame":
                // What a plugin worker process sends the daemon (a crashed or hostile one included).
                if let frame = try? WorkerFrame(body: data) {
                    precondition((try? WorkerFrame(body: Array(frame.encoded.dropFirst(4)))) == frame, "a frame does not round-trip")
                }
            default: fatalError("no fuzz target named \(name) (known: \(names.joined(separator: ", ")))")
            }
        } catch {
            // A typed refusal is a good answer: it becomes a 400 naming the field.
            guard !error.field.isEmpty, !error.message.isEmpty else { fatalError("an error naming no field: \(error)") }
        }
    }

    typealias Reader<T> = ([UInt8], String, Date) throws(IngestError) -> [T]

    /// What `reader` takes from `data`, after checking that the reference
    /// (Foundation's decoder) takes the same or refuses with the same field
    /// and message.
    static func same<T>(_ reader: Reader<T>, _ reference: Reader<T>, _ data: [UInt8], _ now: Date,
                        equal: ([T], [T]) -> Bool) throws(IngestError) -> [T] {
        let read = Result { () throws(IngestError) in try reader(data, "fuzz", now) }
        let expected = Result { () throws(IngestError) in try reference(data, "fuzz", now) }
        switch (read, expected) {
        case (.success(let taken), .success(let wanted)):
            precondition(equal(taken, wanted), "the tree reader took other events than the decoder")
        case (.failure(let error), .failure(let wanted)):
            precondition(error == wanted || sameObjectOfStrings(error, wanted),
                         "the tree reader refused with \(error), the decoder with \(wanted)")
        default:
            preconditionFailure("the tree reader gave \(read), the decoder \(expected)")
        }
        return try read.get()
    }

    static func sameAlerts(_ read: [AlertmanagerFormat.Alert], _ decoded: [AlertmanagerFormat.Alert]) -> Bool {
        read.map(\.event) == decoded.map(\.event) && read.map(\.open) == decoded.map(\.open)
    }

    /// Of several bad members in one object of strings (labels, annotations),
    /// Foundation's decoder names the first in its dictionary's hash order,
    /// the tree reader the first in the body: both say a member of the same
    /// object is not a string (one may be null, the other a number).
    static func sameObjectOfStrings(_ error: IngestError, _ wanted: IngestError) -> Bool {
        func object(_ field: String) -> String? {
            let field = "." + field  // a native event's own labels are "labels.x"
            return [".labels.", ".annotations."].lazy.compactMap { field.range(of: $0) }.first.map { String(field[..<$0.upperBound]) }
        }
        return error.message.hasPrefix("expected a string") && wanted.message.hasPrefix("expected a string")
            && object(error.field) != nil && object(error.field) == object(wanted.field)
    }

    /// What every accepted event must hold to, so nothing downstream
    /// (stored JSON, templates, plugins' time formats) can overflow.
    static func check(_ events: [Event]) {
        for event in events {
            precondition(EventLimits.contains(event.startsAt), "starts_at out of range: \(event.startsAt)")
            if let endsAt = event.endsAt { precondition(EventLimits.contains(endsAt), "ends_at out of range: \(endsAt)") }
            if let timeout = event.timeoutSeconds {
                precondition((0...EventLimits.maxTimeoutSeconds).contains(timeout), "timeout out of range: \(timeout)")
            }
            precondition(!event.id.isEmpty && !event.name.isEmpty && !event.objectID.isEmpty, "an empty key field")
            // The event as plugins and templates will see it.
            let push = Push(event: event, policy: "p", endpoint: "e", level: event.pushLevel, deliveryID: "herald-1")
            let json = JSONValue.object(push.fields).jsonText
            precondition((try? JSONValue.parse(json)) != nil, "the event JSON does not parse back")
        }
    }

    /// Plugins the config target checks endpoint configs against: the
    /// folders in HERALD_FUZZ_PLUGINS (colon-separated), loaded once.
    nonisolated(unsafe) static var catalog: PluginCatalog = {
        // nonisolated(unsafe): libFuzzer calls the target from one thread only.
        let directories = ProcessInfo.processInfo.environment["HERALD_FUZZ_PLUGINS"]?.split(separator: ":").map(String.init) ?? []
        return PluginLoader(logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
            .load(directories: directories)
    }()

    /// A template field's text, parsed and rendered as an endpoint's would be.
    static func template(_ data: [UInt8]) {
        let event = Event(id: "i", team: "t", name: "n", level: .warning, objectID: "o", labels: ["k": "v"],
                          annotations: ["a": "b"], startsAt: Date(timeIntervalSince1970: 1_800_000_000))
        let push = Push(event: event, policy: "p", endpoint: "e", level: .warning, deliveryID: "herald-1")
        do {
            let templates = try TemplateSet(fields: ["body": String(decoding: data, as: UTF8.self)])
            _ = try templates.render(push.fields)
        } catch {
            precondition(!error.description.isEmpty, "a template error with no message")
        }
    }

    /// A team, endpoint or policy body sent to the API (the first byte
    /// picks which), merged into a config as the daemon merges stored items.
    static func apiItem(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let kind = StoredResource.Kind.allCases[Int(first) % StoredResource.Kind.allCases.count]
        guard let body = try? decodeJSONBody(JSONValue.self, from: Array(data.dropFirst())) else { return }
        let name = body.objectValue?["name"]?.stringValue ?? "item"
        let item = StoredResource(kind: kind, name: name, team: "ops", body: body)
        let yaml = """
            teams: [{name: ops, tokens: [t]}]
            endpoints: [{name: hook, team: ops, channel: file, config: {path: /dev/null}}]
            policies: [{name: all, team: ops, endpoints: [hook]}]
            """
        do {
            let (config, _, leftOut) = try HeraldConfig.parse(yaml: yaml, file: "fuzz.yaml", loadPlugins: { _ in catalog },
                                                              stored: [item])
            if HeraldConfig.readsTheHost(body) != nil {
                precondition(!config.madeByAPI.contains("\(kind.rawValue)/\(name)"), "an API item read the host")
            }
            precondition(leftOut.allSatisfy { !$0.message.isEmpty }, "left out without a reason")
        } catch {
            precondition(!error.description.isEmpty, "a config error with no message")
        }
    }

    static func config(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        do {
            let (config, _) = try HeraldConfig.parse(yaml: text, file: "fuzz.yaml") { _ in catalog }
            for endpoint in config.endpoints {
                precondition(endpoint.timeoutSeconds.isFinite && endpoint.timeoutSeconds > 0, "timeout \(endpoint.timeoutSeconds)")
                precondition(endpoint.throttle.pushCycleSeconds.isFinite, "push_cycle \(endpoint.throttle.pushCycleSeconds)")
                precondition(endpoint.retry.initialBackoffSeconds.isFinite && endpoint.retry.maxBackoffSeconds.isFinite,
                             "backoff \(endpoint.retry)")
                _ = endpoint.retry.delay(afterAttempt: 1, retryAfter: nil, unitRandom: 0.5)
            }
            precondition((0...EventLimits.maxTimeoutSeconds).contains(config.defaultTimeoutSeconds), "default_timeout")
        } catch {
            precondition(!error.description.isEmpty, "a config error with no message")
        }
    }
}
