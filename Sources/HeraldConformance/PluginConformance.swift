import Foundation
public import HeraldCore
public import HeraldPluginHost
import Synchronization

/// The conformance kit: the checks every channel plugin must pass, C or
/// Swift, shipped with Herald or not, each named after the rule it checks.
///
/// `herald plugins check PATH.so --config CONFIG.json` runs them in a child
/// process, so a plugin that crashes or hangs yields a report; Swift
/// authors can run them from their own tests:
/// ```swift
/// let plugin = try PluginLoader(logger: logger).load(file: "libmine.so")
/// let report = await PluginConformance.run(plugin, validConfig: config)
/// #expect(report.failures.isEmpty, "\(report)")
/// ```
public enum PluginConformance {
    /// What to check with, beyond the plugin itself.
    public struct Options: Sendable {
        /// A config that delivers (against a live receiver); without one,
        /// only the descriptor, the schema and refusals are checked.
        public var validConfig: JSONValue?
        /// A config the plugin's own `validate_config` must refuse.
        public var invalidConfig: JSONValue?
        /// Concurrent submissions for the exactly-once check.
        public var submissions = 200
        /// Whether every submission with the valid config should be delivered (OK).
        public var expectDelivered = true
        /// The longest a `submit` call may take, in seconds.
        public var submitBudget = 0.1
        /// Each submission's timeout (`timeout_ms`), in seconds.
        public var timeout = 3.0

        public init(validConfig: JSONValue? = nil, invalidConfig: JSONValue? = nil) {
            self.validConfig = validConfig
            self.invalidConfig = invalidConfig
        }
    }

    /// One rule's result.
    public struct Result: Sendable, CustomStringConvertible {
        public let rule: String
        /// nil when the rule was not checked (no valid config, say).
        public let passed: Bool?
        public let detail: String

        public var description: String {
            "\(passed == nil ? "SKIP" : passed == true ? "PASS" : "FAIL") \(rule)\(detail.isEmpty ? "" : ": \(detail)")"
        }
    }

    public struct Report: Sendable, CustomStringConvertible {
        public var results: [Result] = []
        public var failures: [Result] { results.filter { $0.passed == false } }
        public var description: String { results.map(\.description).joined(separator: "\n") }
    }

    /// The rules, in the order they run.
    public static let rules = [
        "descriptor", "schema", "validate-refuses-bad-configs", "validate-accepts-the-config", "open",
        "exactly-once", "submit-returns-quickly", "timeouts-honoured", "hostile-fields-survived",
        "close-completes-work-in-flight", "close-returns",
    ]

    /// Runs every rule. `progress` is told each rule's name as it starts,
    /// and `finished` each result as it is known (the checker's child
    /// process prints both, so a crash names the rule it happened in).
    public static func run(_ plugin: LoadedPlugin, options: Options, progress: @Sendable (String) -> Void = { _ in },
                           finished: @Sendable (Result) -> Void = { _ in }) async -> Report {
        var report = Report()
        func record(_ rule: String, _ problems: [String], skipped: String? = nil) {
            let result = skipped.map { Result(rule: rule, passed: nil, detail: $0) }
                ?? Result(rule: rule, passed: problems.isEmpty, detail: problems.joined(separator: "; "))
            report.results.append(result)
            finished(result)
        }
        // Submissions past their timeout are given up as the dispatcher does.
        let ticker = Task.detached {
            while !Task.isCancelled {
                expireOverdueSubmissions()
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { ticker.cancel() }

        progress("descriptor")
        record("descriptor", descriptorProblems(plugin))
        progress("schema")
        record("schema", schemaProblems(plugin))
        progress("validate-refuses-bad-configs")
        record("validate-refuses-bad-configs", refusalProblems(plugin, options))
        guard let config = options.validConfig else {
            for rule in rules.dropFirst(3) { record(rule, [], skipped: "no config given (--config FILE.json)") }
            return report
        }
        progress("validate-accepts-the-config")
        do {
            try await offThread { try plugin.validate(config: config) }
            record("validate-accepts-the-config", [])
        } catch {
            record("validate-accepts-the-config", ["refused: \(error)"])
        }
        progress("open")
        let instance: PluginInstance
        do {
            instance = try await offThread { try PluginInstance.open(plugin, config: config, endpoint: "conformance") }
            record("open", [])
        } catch {
            record("open", ["failed on the config: \(error)"])
            for rule in rules.dropFirst(5) { record(rule, [], skipped: "the instance did not open") }
            return report
        }

        progress("exactly-once")
        let before = breaks(plugin)
        let outcomes = await submitConcurrently(options.submissions, to: instance, config: config,
                                                timeout: options.timeout) { sampleEvent($0) }
        try? await Task.sleep(for: .milliseconds(300))  // a second completion lands by now
        var problems = completionProblems(outcomes, plugin: plugin, before: before)
        if options.expectDelivered {
            let failed = outcomes.filter { $0.name != "ok" }
            if let first = failed.first {
                problems.append("\(failed.count) of \(outcomes.count) not delivered (first: \(first.name) \(first.reason))")
            }
        }
        record("exactly-once", problems)

        progress("submit-returns-quickly")
        // A submit that has not returned at all counts with how long it has run.
        let longest = max(instance.longestSubmit, instance.busyFor() ?? 0)
        record("submit-returns-quickly", longest <= options.submitBudget ? [] : [
            "a submit call took \(Int(longest * 1000)) ms (budget \(Int(options.submitBudget * 1000)) ms): queue the work and return",
        ])

        progress("timeouts-honoured")
        let beforeTimeout = breaks(plugin)
        let short = await push(sampleEvent(9001), to: instance, config: config, timeout: 0.5)
        try? await Task.sleep(for: .milliseconds(1500))
        var timeoutProblems: [String] = []
        if short.reason.hasPrefix("timed out") {
            timeoutProblems.append("no outcome within the message's 500 ms timeout_ms")
        }
        let late = breaks(plugin).late - beforeTimeout.late
        if late > 0 { timeoutProblems.append("\(late) completion(s) came after the timeout") }
        record("timeouts-honoured", timeoutProblems)

        progress("hostile-fields-survived")
        let beforeHostile = breaks(plugin)
        let hostileOutcomes = await withTaskGroup(of: DeliveryOutcome.self) { group in
            for submission in hostileSubmissions(plugin: plugin, config: config, timeout: options.timeout) {
                group.addTask { await instance.submit(submission) }
            }
            return await group.reduce(into: [DeliveryOutcome]()) { $0.append($1) }
        }
        try? await Task.sleep(for: .milliseconds(300))
        record("hostile-fields-survived", completionProblems(hostileOutcomes, plugin: plugin, before: beforeHostile))

        progress("close-completes-work-in-flight")
        let beforeClose = breaks(plugin)
        let closing = Task {
            await submitConcurrently(50, to: instance, config: config, timeout: options.timeout) { sampleEvent(10_000 + $0) }
        }
        try? await Task.sleep(for: .milliseconds(20))
        let started = Date()
        let closed = await offThread { instance.close(timeout: 10) }
        let closeTook = Date().timeIntervalSince(started)
        let inFlight = await closing.value
        try? await Task.sleep(for: .milliseconds(300))
        var closeProblems = completionProblems(inFlight, plugin: plugin, before: beforeClose)
            .filter { !$0.contains("refused") }
        if closeTook > 1, inFlight.contains(where: { $0.reason.hasPrefix("timed out") }) {
            closeProblems.append("close returned before completing the submissions in flight")
        }
        record("close-completes-work-in-flight", closeProblems)
        progress("close-returns")
        record("close-returns", closed ? [] : ["close did not return within 10 s"])
        return report
    }

    // MARK: - Rules without an instance

    static func descriptorProblems(_ plugin: LoadedPlugin) -> [String] {
        var problems: [String] = []
        if plugin.version.isEmpty { problems.append("version is empty") }
        if plugin.summary.isEmpty { problems.append("description is empty") }
        return problems
    }

    static func schemaProblems(_ plugin: LoadedPlugin) -> [String] {
        var problems: [String] = []
        if plugin.schema.root["type"]?.stringValue != "object" { problems.append("the schema's type is not \"object\"") }
        let properties = plugin.schema.root["properties"]?.objectValue ?? [:]
        for field in plugin.schema.templateFields where properties[field]?["type"]?.stringValue != "string" {
            problems.append("template field \(field) is not of type string")
        }
        for field in plugin.defaultTemplates.keys.sorted() where !plugin.schema.templateFields.contains(field) {
            problems.append("default_templates_json names \(field), which is not a template field of the schema")
        }
        return problems
    }

    /// Configs that must be refused, each with a reason: the given one, and
    /// one without each required field.
    static func refusalProblems(_ plugin: LoadedPlugin, _ options: Options) -> [String] {
        var problems: [String] = []
        var bad: [(String, JSONValue)] = []
        if let invalid = options.invalidConfig { bad.append(("the invalid config \(invalid.jsonText)", invalid)) }
        if case .object(let members)? = options.validConfig {
            for case .string(let field)? in (plugin.schema.root["required"].flatMap { value -> [JSONValue?]? in
                if case .array(let items) = value { return items.map { $0 } }
                return nil
            } ?? []) {
                var without = members
                without[field] = nil
                bad.append(("the config without \(field)", .object(without)))
            }
        }
        for (what, config) in bad {
            do {
                try plugin.validate(config: config)
                problems.append("\(what) was accepted")
            } catch {
                if error.message.isEmpty { problems.append("\(what) was refused without a reason") }
            }
        }
        return problems
    }

    // MARK: - Submissions

    /// Pushes `event` through `instance` as the host does: the push's
    /// fields as the event JSON, the config's template fields (or the
    /// plugin's defaults) rendered against them.
    public static func push(_ event: Event, to instance: any ChannelInstance, config: JSONValue, level: Level? = nil,
                            policy: String = "p", previousLevel: Level? = nil, deliveryID: String? = nil,
                            attempt: Int = 1, timeout: Double = 10, policyMatchers: String? = nil) async -> DeliveryOutcome {
        let push = Push(event: event, policy: policy, endpoint: "e", level: level ?? event.pushLevel,
                        previousLevel: previousLevel, deliveryID: deliveryID ?? "delivery-\(event.id)",
                        policyMatchers: policyMatchers)
        return await instance.submit(submission(push, plugin: instance.plugin, config: config, attempt: attempt,
                                                timeout: timeout))
    }

    /// A push as the host would hand it to the plugin.
    public static func submission(_ push: Push, plugin: LoadedPlugin, config: JSONValue, attempt: Int = 1,
                                  timeout: Double = 10) -> Submission {
        let fields = push.fields
        let templates = plugin.defaultTemplates.merging(
            config.objectValue?.compactMapValues(\.stringValue).filter { plugin.schema.templateFields.contains($0.key) }
                ?? [:]) { $1 }
        let rendered = (try? TemplateSet(fields: templates).render(fields)) ?? [:]
        return Submission(deliveryID: push.deliveryID, attempt: attempt, timeout: timeout,
                          eventJSON: JSONValue.object(fields).jsonBytes, eventFields: FieldList(event: fields),
                          renderedJSON: JSONValue.object(rendered.mapValues(JSONValue.string)).jsonBytes,
                          renderedFields: FieldList(rendered.map { ($0.key, $0.value) }))
    }

    static func sampleEvent(_ index: Int) -> Event {
        Event(id: "conformance-\(index)", team: "t", name: "Conformance", level: .critical, objectID: "object-\(index)",
              startsAt: Date())
    }

    static func submitConcurrently(_ count: Int, to instance: any ChannelInstance, config: JSONValue, timeout: Double,
                                   event: @escaping @Sendable (Int) -> Event) async -> [DeliveryOutcome] {
        await withTaskGroup(of: DeliveryOutcome.self) { group in
            for index in 0..<count {
                group.addTask {
                    await push(event(index), to: instance, config: config, timeout: timeout)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// Empty, huge, control-character and invalid UTF-8 fields: a plugin
    /// must complete each (any outcome), not crash or go quiet.
    static func hostileSubmissions(plugin: LoadedPlugin, config: JSONValue, timeout: Double) -> [Submission] {
        let huge = String(repeating: "x", count: 1 << 20)
        var events = [
            Event(id: "", team: "", name: "", level: .info, objectID: "", startsAt: Date()),
            Event(id: "h\r\n\u{0}\"\\", team: "t", name: "N\r\nX-Injected: 1", level: .critical, objectID: "o\u{7F}",
                  labels: ["": "", "k\u{0}": "v\r\n"], annotations: ["huge": huge], startsAt: Date()),
        ]
        events.append(Event(id: "ünï😀", team: "t", name: String(repeating: "é", count: 5000), level: .warning,
                            objectID: "ö", startsAt: Date(timeIntervalSince1970: 253_402_300_799)))
        var submissions = events.enumerated().map { index, event in
            submission(Push(event: event, policy: "p", endpoint: "e", level: event.pushLevel,
                            deliveryID: "hostile-\(index)"), plugin: plugin, config: config, timeout: timeout)
        }
        // Bytes a host never sends (not UTF-8): a plugin still must not fall over.
        var broken = submissions[1]
        broken.deliveryID = "hostile-bytes"
        broken.eventJSON = [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0xC3, 0x7D]
        broken.renderedJSON = [0xFF, 0x00, 0x0A]
        broken.renderedFields = FieldList(plugin.schema.templateFields.map { ($0, "\u{FFFD}\u{0}\r\n") })
        submissions.append(broken)
        return submissions
    }

    static func completionProblems(_ outcomes: [DeliveryOutcome], plugin: LoadedPlugin, before: Breaks) -> [String] {
        var problems: [String] = []
        let timedOut = outcomes.filter { $0.reason.hasPrefix("timed out") }.count
        if timedOut > 0 { problems.append("\(timedOut) of \(outcomes.count) submissions were never completed") }
        let now = breaks(plugin)
        if now.second > before.second { problems.append("\(now.second - before.second) second completion(s): the exactly-once rule") }
        if now.late > before.late { problems.append("\(now.late - before.late) completion(s) after the timeout") }
        if now.refusedThenCompleted > before.refusedThenCompleted {
            problems.append("\(now.refusedThenCompleted - before.refusedThenCompleted) refused submission(s) completed anyway")
        }
        if now.wrongContext > before.wrongContext { problems.append("completion_context not passed back as given") }
        if now.badOutcome > before.badOutcome { problems.append("an outcome other than OK, RETRY or FAIL") }
        return problems
    }

    struct Breaks {
        var second, late, refusedThenCompleted, wrongContext, badOutcome: Int
    }

    static func breaks(_ plugin: LoadedPlugin) -> Breaks {
        let b = plugin.ruleBreaks
        return Breaks(second: b.secondCompletions.load(ordering: .relaxed), late: b.lateCompletions.load(ordering: .relaxed),
                      refusedThenCompleted: b.completedRefusals.load(ordering: .relaxed),
                      wrongContext: b.wrongContexts.load(ordering: .relaxed), badOutcome: b.badOutcomes.load(ordering: .relaxed))
    }

    /// Runs blocking work (the plugin's validate, open, close) on a thread
    /// of its own, off the cooperative pool.
    static func offThread<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Swift.Result<T, E> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: Swift.Result { () throws(E) -> T in try work() })
            }
        }
        return try result.get()
    }

    /// `run`, as a list of failures (one line each); empty when the plugin
    /// conforms. What the repository's own plugin tests assert.
    public static func check(_ plugin: LoadedPlugin, validConfig: JSONValue, invalidConfig: JSONValue,
                             submissions: Int = 20, expectDelivered: Bool = true) async -> [String] {
        var options = Options(validConfig: validConfig, invalidConfig: invalidConfig)
        options.submissions = submissions
        options.expectDelivered = expectDelivered
        return await run(plugin, options: options).failures.map(\.description)
    }
}
