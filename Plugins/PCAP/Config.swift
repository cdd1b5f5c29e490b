import CPcap
import Foundation
import HeraldPluginKit

/// The PCAP channel's endpoint config. Each option appears once here and
/// once in `Config.schema`; README.md's table lists them.
struct Config: Decodable, Sendable {
    var interface: String
    var filter: String
    var snaplen: Int
    var promiscuous: Bool
    var directory: String
    var maxFileBytes: Int
    var maxFileSeconds: Int
    var maxFiles: Int
    var maxCaptureSeconds: Int
    var enableLevels: Set<Event.Level>
    var disableLevels: Set<Event.Level>

    static let schema = """
        {"type":"object","additionalProperties":false,"required":["interface","directory"],"properties":{
          "interface":{"type":"string","minLength":1,"description":"Network interface to capture on (eth0, lo, any)."},
          "filter":{"type":"string","default":"","description":"BPF filter (tcpdump syntax), checked at config load."},
          "snaplen":{"type":"integer","minimum":64,"maximum":262144,"default":262144,
                     "description":"Bytes kept of each packet."},
          "promiscuous":{"type":"boolean","default":false,"description":"Capture traffic not addressed to this host."},
          "directory":{"type":"string","minLength":1,
                       "description":"Folder for this endpoint's pcap files (one folder per endpoint)."},
          "max_file_bytes":{"type":"integer","minimum":1024,"default":10485760,
                            "description":"A file is closed and a new one started past this size."},
          "max_file_seconds":{"type":"integer","minimum":1,"default":300,
                              "description":"A file is closed and a new one started after this long."},
          "max_files":{"type":"integer","minimum":1,"default":10,
                       "description":"Files kept in the folder; the oldest are deleted."},
          "max_capture_seconds":{"type":"integer","minimum":1,"default":3600,
                                 "description":"A capture stops by itself after this long, recovery or not."},
          "enable_levels":{"type":"array","items":{"type":"string"},"x-herald-levels":true,"default":["Critical","Error","Warning"],
                           "description":"Levels whose pushes start the capture."},
          "disable_levels":{"type":"array","items":{"type":"string"},"x-herald-levels":true,"default":["Recovery"],
                            "description":"Levels whose pushes stop it."}
        }}
        """

    private enum Keys: String, CodingKey {
        case interface, filter, snaplen, promiscuous, directory
        case maxFileBytes = "max_file_bytes", maxFileSeconds = "max_file_seconds", maxFiles = "max_files"
        case maxCaptureSeconds = "max_capture_seconds", enableLevels = "enable_levels", disableLevels = "disable_levels"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        interface = try c.decode(String.self, forKey: .interface)
        filter = try c.decodeIfPresent(String.self, forKey: .filter) ?? ""
        snaplen = try c.decodeIfPresent(Int.self, forKey: .snaplen) ?? 262_144
        promiscuous = try c.decodeIfPresent(Bool.self, forKey: .promiscuous) ?? false
        directory = try c.decode(String.self, forKey: .directory)
        maxFileBytes = try c.decodeIfPresent(Int.self, forKey: .maxFileBytes) ?? 10 << 20
        maxFileSeconds = try c.decodeIfPresent(Int.self, forKey: .maxFileSeconds) ?? 300
        maxFiles = try c.decodeIfPresent(Int.self, forKey: .maxFiles) ?? 10
        maxCaptureSeconds = try c.decodeIfPresent(Int.self, forKey: .maxCaptureSeconds) ?? 3600
        func levels(_ key: Keys, default fallback: Set<Event.Level>) throws -> Set<Event.Level> {
            guard let names = try c.decodeIfPresent([String].self, forKey: key) else { return fallback }
            return try Set(names.map { name in
                guard let level = Event.Level(name: name) else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "unknown level \"\(name)\"")
                }
                return level
            })
        }
        enableLevels = try levels(.enableLevels, default: [.critical, .error, .warning])
        disableLevels = try levels(.disableLevels, default: [.recovery])
    }

    func validate() throws(ConfigProblem) {
        guard interface == "any" || if_nametoindex(interface) != 0 else {
            throw ConfigProblem(field: "interface", "no network interface \"\(interface)\" on this host")
        }
        guard (64...262_144).contains(snaplen) else { throw ConfigProblem(field: "snaplen", "must be 64-262144") }
        // Also in the schema; checked here too, as they size files and loops.
        for (field, value, least) in [("max_file_bytes", maxFileBytes, 1024), ("max_file_seconds", maxFileSeconds, 1),
                                      ("max_files", maxFiles, 1), ("max_capture_seconds", maxCaptureSeconds, 1)]
        where value < least {
            throw ConfigProblem(field: field, "must be at least \(least)")
        }
        guard enableLevels.isDisjoint(with: disableLevels) else {
            throw ConfigProblem(field: "disable_levels", "shares levels with enable_levels")
        }
        try Self.checkFilter(filter, snaplen: snaplen)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder) {
            guard isFolder.boolValue, FileManager.default.isWritableFile(atPath: directory) else {
                throw ConfigProblem(field: "directory", "\(directory) is not a writable folder")
            }
        }
    }

    /// Compiles the filter as libpcap will, without opening a device.
    static func checkFilter(_ filter: String, snaplen: Int) throws(ConfigProblem) {
        guard let dead = pcap_open_dead(DLT_EN10MB, Int32(snaplen)) else { return }
        defer { pcap_close(dead) }
        var program = bpf_program()
        guard pcap_compile(dead, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw ConfigProblem(field: "filter", String(cString: pcap_geterr(dead)))
        }
        pcap_freecode(&program)
    }
}
