import Foundation
public import HeraldCore

/// The packet capture files a `pcap` endpoint wrote: `capture-<UTC time>-<n>.pcap`
/// in its `directory` (the PCAP channel's naming), for an operator to list and fetch.
public struct CaptureFolder: Sendable {
    public struct File: Sendable, Encodable {
        public let name: String
        public let path: String
        public let bytes: Int
        /// Last written, RFC 3339 UTC.
        public let modified: String?
    }

    public let directory: String

    /// The endpoint's folder, or nil when it is not a pcap endpoint.
    public init?(_ endpoint: Endpoint) {
        guard endpoint.channel == "pcap", let directory = endpoint.config["directory"]?.stringValue else { return nil }
        self.directory = directory
    }

    /// A name the channel writes (letters, digits, '.', '-', '_'): it names no
    /// other folder's file and goes into a download's header as it is.
    public static func isCaptureName(_ name: String) -> Bool {
        name.hasPrefix("capture-") && name.hasSuffix(".pcap") && name.utf8.count <= 255 && PlainName.isPlain(name)
    }

    /// The files, oldest first. Reads the folder on a thread of its own (a
    /// blocking call); a folder not made yet has none.
    public func files() async throws -> [File] {
        let directory = directory
        return try await offPool { () throws(Never) -> [File] in
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter(Self.isCaptureName).sorted()
            return names.compactMap { name in
                let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                      attributes[.type] as? FileAttributeType == .typeRegular else { return nil }
                return File(name: name, path: path, bytes: attributes[.size] as? Int ?? 0,
                            modified: (attributes[.modificationDate] as? Date).map(Timestamp.iso8601))
            }
        }
    }
}
