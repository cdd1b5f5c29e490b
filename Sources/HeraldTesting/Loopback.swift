import Foundation

/// 127.0.0.1 as the socket calls want it.
enum Loopback {
    static func withAddress<T>(port: Int, _ body: (UnsafeMutablePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// Whether something accepts TCP connections on the port.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        return withAddress(port: port) { connect(fd, $0, $1) == 0 }
    }
}

/// Datagrams to a port on 127.0.0.1, for tests that capture traffic.
public enum UDPProbe {
    /// Sends `count` datagrams to 127.0.0.1:`port`, each `prefix-<n>`.
    public static func send(port: Int, prefix: String, count: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        for index in 0..<count {
            let payload = Array("\(prefix)-\(index)".utf8)
            let sent = Loopback.withAddress(port: port) { sendto(fd, payload, payload.count, 0, $0, $1) }
            guard sent == payload.count else { throw TestFailure("sendto: \(String(cString: strerror(errno)))") }
        }
    }
}
