import CHeraldPlugin
import Foundation

/// The ABI plumbing behind a Swift plugin's one-line entry point.
public enum PluginExport {
    /// What the C function pointers of the descriptor call. Set once, by
    /// `entry`, before the host can call anything else of this library.
    private struct Exported {
        let validate: (String) -> String?
        let open: (String, HostServices) -> Result<InstanceBox, ConfigProblem>
    }

    /// Written once in `entry`, which the host calls once, before any
    /// other call into this library; only read afterwards, so no race.
    nonisolated(unsafe) private static var exported: Exported?
    nonisolated(unsafe) private static var descriptor: UnsafeMutablePointer<herald_plugin_descriptor>?

    /// Implements `herald_plugin_entry` for `type`.
    public static func entry<P: ChannelPlugin>(
        _ type: P.Type, abi: UInt32, host: UnsafeRawPointer?, error: UnsafeMutablePointer<CChar>?, capacity: Int
    ) -> UnsafeRawPointer? {
        guard abi >> 16 == UInt32(HERALD_ABI_MAJOR), let host else {
            write("built for Herald plugin ABI \(HERALD_ABI_MAJOR), the host speaks \(abi >> 16)", to: error, capacity)
            return nil
        }
        // The versioning rule: read no more of the host's table than its struct_size covers.
        let table = host.assumingMemoryBound(to: herald_host_api.self)
        guard Int(table.pointee.struct_size) >= HostServices.tableSize1_0 else {
            write("the host's table (\(table.pointee.struct_size) bytes) is smaller than ABI 1.0's", to: error, capacity)
            return nil
        }
        if let descriptor { return UnsafeRawPointer(descriptor) }
        exported = Exported(
            validate: { json in
                do throws(ConfigProblem) {
                    try P.validate(try decode(P.Config.self, json))
                    return nil
                } catch { return error.description }
            },
            open: { json, host in
                do throws(ConfigProblem) {
                    let plugin = try P(config: try decode(P.Config.self, json), host: host)
                    return .success(InstanceBox(plugin: plugin, host: host))
                } catch { return .failure(error) }
            })
        let info = P.info
        let made = UnsafeMutablePointer<herald_plugin_descriptor>.allocate(capacity: 1)
        made.initialize(to: herald_plugin_descriptor(
            abi_version: UInt32(HERALD_ABI_MAJOR << 16 | HERALD_ABI_MINOR),
            struct_size: UInt32(MemoryLayout<herald_plugin_descriptor>.size),
            channel: strdup(info.channel), version: strdup(info.version), description: strdup(info.description),
            config_schema_json: strdup(info.configSchema), default_templates_json: strdup(info.defaultTemplates),
            flags: 0,
            validate_config: { config, error, capacity in
                guard let json = PluginExport.json(of: config) else { return 1 }
                guard let problem = PluginExport.exported?.validate(json) else { return 0 }
                PluginExport.write(problem, to: error, capacity)
                return 1
            },
            open: { config, host, instance, error, capacity in
                guard let json = PluginExport.json(of: config), let host, let exported = PluginExport.exported else { return 1 }
                switch exported.open(json, HostServices(host)) {
                case .success(let box):
                    instance?.pointee = Unmanaged.passRetained(box).toOpaque()
                    return 0
                case .failure(let problem):
                    PluginExport.write(problem.description, to: error, capacity)
                    return 1
                }
            },
            submit: { instance, message in
                guard let instance, let message else { return 1 }
                Unmanaged<InstanceBox>.fromOpaque(instance).takeUnretainedValue().submit(message.pointee)
                return 0
            },
            close: { instance in
                guard let instance else { return }
                Unmanaged<InstanceBox>.fromOpaque(instance).takeRetainedValue().plugin.close()
            },
            reserved: (nil, nil, nil, nil)))
        descriptor = made
        return UnsafeRawPointer(made)
    }

    /// The config's JSON text, when the host's struct is big enough to hold it.
    private static func json(of config: UnsafePointer<herald_config>?) -> String? {
        guard let config, Int(config.pointee.struct_size) >= MemoryLayout<herald_config>.offset(of: \.json_length)!
                + MemoryLayout<Int>.size, let text = config.pointee.json else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: config.pointee.json_length), as: UTF8.self)
    }

    private static func decode<C: Decodable>(_ type: C.Type, _ json: String) throws(ConfigProblem) -> C {
        do {
            return try JSONDecoder().decode(C.self, from: Data(json.utf8))
        } catch let error as DecodingError {
            throw ConfigProblem(decoding: error)
        } catch {
            throw ConfigProblem(field: "", "\(error)")
        }
    }

    static func write(_ text: String, to buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int) {
        guard let buffer, capacity > 0 else { return }
        let bytes = Array(text.utf8.prefix(capacity - 1))
        for (index, byte) in bytes.enumerated() { buffer[index] = CChar(bitPattern: byte) }
        buffer[bytes.count] = 0
    }
}

/// One open instance, as the descriptor's `void *` points to it.
final class InstanceBox {
    let plugin: any ChannelPlugin
    let host: HostServices

    init(plugin: any ChannelPlugin, host: HostServices) {
        self.plugin = plugin
        self.host = host
    }

    func submit(_ raw: herald_message) {
        let event = Array(UnsafeRawBufferPointer(start: raw.event_json, count: raw.event_json_length))
        // The rendered fields as pairs: no JSON decoding per message.
        var rendered: [String: String] = [:]
        for index in 0..<raw.rendered_field_count {
            let field = raw.rendered_fields[index]
            rendered[Self.text(field.name, field.name_length)] = Self.text(field.value, field.value_length)
        }
        let message = Message(deliveryID: raw.delivery_id.map { String(cString: $0) } ?? "", attempt: Int(raw.attempt),
                              timeout: Double(raw.timeout_ms) / 1000, eventJSON: event, rendered: rendered)
        plugin.submit(message, completion: Completion(token: raw.token, context: raw.completion_context, host: host))
    }

    private static func text(_ pointer: UnsafePointer<CChar>?, _ length: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(start: pointer, count: pointer == nil ? 0 : length), as: UTF8.self)
    }
}

extension ConfigProblem {
    init(decoding error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context): self.init(field: path(context.codingPath + [key]), "required")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            self.init(field: path(context.codingPath), context.debugDescription)
        @unknown default: self.init(field: "", "\(error)")
        }
    }
}
