import CHeraldPlugin
import Synchronization
import Foundation
public import Logging

/// Every plugin found in the plugins folders, and every file refused.
public struct PluginCatalog: Sendable {
    public var plugins: [String: LoadedPlugin] = [:]
    public var failures: [PluginLoadError] = []

    public init() {}

    /// Plugins ordered by channel name.
    public var sorted: [LoadedPlugin] { plugins.values.sorted { $0.channel < $1.channel } }
}

/// Finds and loads channel plugins.
///
/// A file that cannot be a plugin (not a shared library, no entry symbol,
/// another ABI major, a descriptor too small for the minor it declares, a
/// NULL function, a channel already taken) is refused with a log line
/// naming the file and the reason; loading goes on with the next one.
public struct PluginLoader: Sendable {
    private let logger: Logger
    /// How to run a plugin in a worker process; with it, plugins Herald
    /// does not ship are described by a worker instead of loaded here.
    private let worker: WorkerCommand?

    /// `herald_plugin_descriptor`'s size at each minor of ABI 1, by minor.
    /// Frozen: a minor that appends fields adds its size here, and 1.0's
    /// stays this number (the size on every 64-bit platform Herald runs on).
    static let descriptorSizes: [UInt32] = [120]

    public init(logger: Logger, worker: WorkerCommand? = nil) {
        self.logger = logger
        self.worker = worker
        HostServices.logger.withLock { $0 = logger }
        // The ABI promises plugins EPIPE, not death, on a closed socket.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Loads every `*.so` in `directories`, in name order. Blocks (dlopen);
    /// call it off the cooperative pool.
    public func load(directories: [String]) -> PluginCatalog {
        var catalog = PluginCatalog()
        for directory in directories {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            if names.isEmpty { logger.warning("No plugins found", metadata: ["plugins.directory": "\(directory)"]) }
            for name in names.sorted() where name.hasSuffix(".so") {
                let file = (directory as NSString).appendingPathComponent(name)
                do throws(PluginLoadError) {
                    let plugin = try ShippedPlugins.channel(ofFile: file) == nil && worker != nil
                        ? describe(file: file) : load(file: file)
                    if let taken = catalog.plugins[plugin.channel] {
                        throw PluginLoadError(file: file, reason: "channel \"\(plugin.channel)\" is already provided by \(taken.file)")
                    }
                    catalog.plugins[plugin.channel] = plugin
                    logger.info("Loaded plugin", metadata: [
                        "plugin": "\(plugin.channel)", "plugin.version": "\(plugin.version)", "plugin.file": "\(file)",
                    ])
                } catch {
                    catalog.failures.append(error)
                    logger.error("Refused plugin", metadata: ["plugin.file": "\(file)", "reason": "\(error.reason)"])
                }
            }
        }
        return catalog
    }

    /// Loads one file.
    public func load(file: String) throws(PluginLoadError) -> LoadedPlugin {
        // Never unloaded (the header's process rules): once a Swift library
        // is in, the Swift runtime keeps pointers into it, and dlclose would
        // leave them dangling.
        guard let library = dlopen(file, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw PluginLoadError(file: file, reason: "not a loadable shared library: \(reason)")
        }
        guard let symbol = dlsym(library, HERALD_PLUGIN_ENTRY_SYMBOL) else {
            throw PluginLoadError(file: file, reason: "no \(HERALD_PLUGIN_ENTRY_SYMBOL) symbol: not a Herald plugin")
        }
        let entry = unsafeBitCast(symbol, to: herald_plugin_entry_fn.self)
        let table = HostServices.makeTable(for: (file as NSString).lastPathComponent, logger: logger)
        var message = [CChar](repeating: 0, count: Int(HERALD_ERROR_CAPACITY))
        guard let returned = entry(Self.hostVersion, table, &message, message.count) else {
            let reason = HostServices.text(message, or: "no reason given")
            throw PluginLoadError(file: file, reason: "the plugin refused to load: \(reason)")
        }
        let descriptor = try Self.read(returned, file: file)
        let plugin = try LoadedPlugin(file: file, descriptor: descriptor, table: table, worker: worker, logger: logger)
        HostServices.rename(table, to: plugin.channel)
        return plugin
    }

    /// A plugin described by a worker process: nothing of it runs here.
    public func describe(file: String) throws(PluginLoadError) -> LoadedPlugin {
        guard let worker else { return try load(file: file) }
        return try LoadedPlugin(file: file, description: try worker.describe(file: file), native: nil, worker: worker,
                                logger: logger)
    }

    static let hostVersion = UInt32(HERALD_ABI_MAJOR << 16 | HERALD_ABI_MINOR)

    /// A copy of the plugin's descriptor holding only what its
    /// `struct_size` covers (the rest zero: NULL, absent), once its version
    /// and size are acceptable.
    static func read(_ pointer: UnsafePointer<herald_plugin_descriptor>,
                     file: String) throws(PluginLoadError) -> herald_plugin_descriptor {
        // The first two fields are the same in every version of every major.
        let version = pointer.pointee.abi_version
        let size = pointer.pointee.struct_size
        let (major, minor) = (version >> 16, version & 0xFFFF)
        guard major == UInt32(HERALD_ABI_MAJOR) else {
            throw PluginLoadError(file: file, reason: "built for plugin ABI \(major).\(minor); this host speaks "
                                  + "\(HERALD_ABI_MAJOR).\(HERALD_ABI_MINOR) and loads plugins of major \(HERALD_ABI_MAJOR) only")
        }
        // A newer minor than ours is fine: we read the fields we know.
        let needed = descriptorSizes[Int(min(minor, UInt32(descriptorSizes.count - 1)))]
        guard size >= needed else {
            throw PluginLoadError(file: file, reason: "descriptor struct_size \(size) is smaller than ABI 1.\(minor)'s \(needed)")
        }
        var copy = herald_plugin_descriptor()
        withUnsafeMutableBytes(of: &copy) { target in
            let count = min(Int(size), target.count)
            target.copyMemory(from: UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer), count: count))
        }
        return copy
    }
}
