public import HeraldCore
public import HeraldPluginHost
import Foundation

/// The checks every channel plugin must pass, C or Swift, first-party or not.
///
/// Run them on your `.so` with a config that works against a live peer:
/// ```swift
/// let plugin = try PluginLoader(logger: logger).load(file: "libmine.so")
/// let problems = await PluginConformance.check(plugin, validConfig: config, invalidConfig: bad)
/// #expect(problems.isEmpty)
/// ```
public enum PluginConformance {
    /// - Parameters:
    ///   - validConfig: a config that delivers (against the test's peer).
    ///   - invalidConfig: a config the plugin must refuse.
    ///   - submissions: how many concurrent submissions to make.
    ///   - expectDelivered: whether every submission should come back OK.
    /// - Returns: what is wrong, one line each; empty when the plugin conforms.
    public static func check(_ plugin: LoadedPlugin, validConfig: JSONValue, invalidConfig: JSONValue,
                             submissions: Int = 20, expectDelivered: Bool = true, timeout: Double = 10) async -> [String] {
        var problems: [String] = []
        if plugin.version.isEmpty { problems.append("descriptor: version is empty") }
        if plugin.summary.isEmpty { problems.append("descriptor: description is empty") }
        let properties = plugin.schema.root["properties"]?.objectValue ?? [:]
        for field in plugin.schema.templateFields where properties[field]?["type"]?.stringValue != "string" {
            problems.append("schema: template field \(field) is not of type string")
        }
        for (field, _) in plugin.defaultTemplates where !plugin.schema.templateFields.contains(field) {
            problems.append("default_templates_json: \(field) is not a template field of the schema")
        }
        do { _ = try TemplateSet(fields: plugin.defaultTemplates) } catch {
            problems.append("default_templates_json: \(error)")
        }
        do { try plugin.validate(config: validConfig) } catch {
            problems.append("validate_config refused the valid config: \(error)")
        }
        do {
            try plugin.validate(config: invalidConfig)
            problems.append("validate_config accepted the invalid config \(invalidConfig.jsonText)")
        } catch {
            if error.message.isEmpty { problems.append("validate_config refused without a message") }
        }
        let instance: PluginInstance
        do { instance = try plugin.open(config: validConfig) } catch {
            problems.append("open failed on the valid config: \(error)")
            return problems
        }
        // Concurrent submissions from several tasks: the threading rule.
        let outcomes = await withTaskGroup(of: DeliveryOutcome.self) { group in
            for index in 0..<submissions {
                group.addTask {
                    let event = Event(id: "conformance-\(index)", team: "t", name: "Conformance", level: .critical,
                                      objectID: "object-\(index)", startsAt: Date())
                    return await push(event, to: instance, config: validConfig, deliveryID: "conformance-\(index)",
                                      timeout: timeout)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for outcome in outcomes where outcome.reason.hasPrefix("timed out") {
            problems.append("a submission was never completed: \(outcome.reason)")
        }
        if expectDelivered {
            for outcome in outcomes where outcome.name != "ok" {
                problems.append("a submission was not delivered: \(outcome.name) \(outcome.reason)")
            }
        }
        let closed = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            instance.close()
            closed.signal()
        }
        if closed.wait(timeout: .now() + 10) == .timedOut { problems.append("close did not return within 10 s") }
        return problems
    }

    /// Pushes `event` through `instance` as the host does: the push's
    /// fields as the event JSON, the config's template fields (or the
    /// plugin's defaults) rendered against them.
    public static func push(_ event: Event, to instance: PluginInstance, config: JSONValue, level: Level? = nil,
                            policy: String = "p", previousLevel: Level? = nil, deliveryID: String? = nil,
                            attempt: Int = 1, timeout: Double = 10, policyMatchers: String? = nil) async -> DeliveryOutcome {
        let plugin = instance.plugin
        let push = Push(event: event, policy: policy, endpoint: "e", level: level ?? event.pushLevel,
                        previousLevel: previousLevel, deliveryID: deliveryID ?? "delivery-\(event.id)",
                        policyMatchers: policyMatchers)
        let fields = push.fields
        let templates = plugin.defaultTemplates.merging(
            config.objectValue?.compactMapValues(\.stringValue).filter { plugin.schema.templateFields.contains($0.key) }
                ?? [:]) { $1 }
        let rendered = (try? TemplateSet(fields: templates).render(fields)) ?? [:]
        return await instance.submit(
            deliveryID: push.deliveryID, attempt: attempt, timeout: timeout,
            eventJSON: Array(JSONValue.object(fields).jsonText.utf8),
            renderedJSON: Array(JSONValue.object(rendered.mapValues(JSONValue.string)).jsonText.utf8))
    }
}
