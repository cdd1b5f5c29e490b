public import Foundation

/// A classic pcap file, read without libpcap: the global header, then each
/// record's header and bytes (the format is documented by tcpdump.org and
/// draft-ietf-opsawg-pcap).
public struct PcapFile: Sendable {
    public struct Packet: Sendable {
        public let time: Double
        public let originalLength: Int
        public let bytes: [UInt8]

        /// The UDP destination port and payload of an IPv4 packet on an
        /// Ethernet link (what Linux's `lo` gives), or nil for anything else.
        public var udp: (port: Int, payload: [UInt8])? {
            guard bytes.count >= 14 + 20 + 8, bytes[12] == 0x08, bytes[13] == 0x00 else { return nil }
            let ip = 14
            let headerLength = Int(bytes[ip] & 0x0F) * 4
            guard bytes[ip] >> 4 == 4, bytes[ip + 9] == 17, bytes.count >= ip + headerLength + 8 else { return nil }
            let udp = ip + headerLength
            let port = Int(bytes[udp + 2]) << 8 | Int(bytes[udp + 3])
            return (port, Array(bytes[(udp + 8)...]))
        }
    }

    public let linkType: UInt32
    public let snapLength: UInt32
    public let packets: [Packet]

    public init(contentsOf url: URL) throws {
        let data = [UInt8](try Data(contentsOf: url))
        guard data.count >= 24 else { throw TestFailure("\(url.lastPathComponent): \(data.count) bytes, no pcap header") }
        func u32(_ offset: Int, swapped: Bool) -> UInt32 {
            let value = data[offset..<offset + 4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
            return swapped ? value.byteSwapped : value
        }
        let magic = u32(0, swapped: false)
        let swapped: Bool
        let fractionScale: Double
        switch magic {
        case 0xA1B2C3D4: (swapped, fractionScale) = (false, 1e6)
        case 0xD4C3B2A1: (swapped, fractionScale) = (true, 1e6)
        case 0xA1B23C4D: (swapped, fractionScale) = (false, 1e9)
        case 0x4D3CB2A1: (swapped, fractionScale) = (true, 1e9)
        default: throw TestFailure("\(url.lastPathComponent): not a pcap file (magic \(String(magic, radix: 16)))")
        }
        snapLength = u32(16, swapped: swapped)
        linkType = u32(20, swapped: swapped)
        var packets: [Packet] = []
        var offset = 24
        while offset + 16 <= data.count {
            let captured = Int(u32(offset + 8, swapped: swapped))
            guard offset + 16 + captured <= data.count else {
                throw TestFailure("\(url.lastPathComponent): record at \(offset) runs past the end")
            }
            packets.append(Packet(time: Double(u32(offset, swapped: swapped)) + Double(u32(offset + 4, swapped: swapped)) / fractionScale,
                                  originalLength: Int(u32(offset + 12, swapped: swapped)),
                                  bytes: Array(data[(offset + 16)..<(offset + 16 + captured)])))
            offset += 16 + captured
        }
        guard offset == data.count else { throw TestFailure("\(url.lastPathComponent): \(data.count - offset) trailing bytes") }
        self.packets = packets
    }

    /// Every `capture-*.pcap` file of a folder, oldest first.
    public static func captures(in directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("capture-") && $0.hasSuffix(".pcap") }.sorted()
            .map { directory.appendingPathComponent($0) }
    }
}
