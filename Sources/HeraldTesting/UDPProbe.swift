import Foundation

/// Datagrams to a port on 127.0.0.1, for tests that capture traffic.
public enum UDPProbe {
    /// Sends `count` datagrams to 127.0.0.1:`port`, each `prefix-<n>`.
    public static func send(port: Int, prefix: String, count: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        for index in 0..<count {
            let payload = Array("\(prefix)-\(index)".utf8)
            let sent = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, payload, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard sent == payload.count else { throw TestFailure("sendto: \(String(cString: strerror(errno)))") }
        }
    }
}
