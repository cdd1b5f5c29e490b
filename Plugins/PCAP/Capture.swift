import CPcap
import Foundation
import Synchronization

/// One running capture: a libpcap handle read on its own thread into a
/// rotating set of pcap files.
///
/// `@unchecked Sendable` is safe: the handle and dumper are used only by
/// the capture thread once `start` returns; other threads only set the
/// atomic `stopping` and wait on `finished`.
final class Capture: @unchecked Sendable {
    private let config: Config
    private let handle: OpaquePointer
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let startedAt = Date()
    private var dumper: OpaquePointer?
    private var fileOpenedAt = Date()
    private var fileIndex = 0

    /// Opens and activates the device and the first file, so that packets
    /// from the moment this returns are captured.
    init(config: Config) throws(CaptureError) {
        self.config = config
        var error = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_create(config.interface, &error) else { throw .open(text(error)) }
        pcap_set_snaplen(handle, Int32(config.snaplen))
        pcap_set_promisc(handle, config.promiscuous ? 1 : 0)
        pcap_set_immediate_mode(handle, 1)
        let status = pcap_activate(handle)
        if status < 0 {
            let reason = status == PCAP_ERROR_PERM_DENIED ? "permission denied (capturing needs root or CAP_NET_RAW)"
                : String(cString: pcap_geterr(handle))
            pcap_close(handle)
            throw .open("\(config.interface): \(reason)")
        }
        var program = bpf_program()
        guard pcap_compile(handle, &program, config.filter, 1, PCAP_NETMASK_UNKNOWN) == 0,
              pcap_setfilter(handle, &program) == 0 else {
            let reason = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            throw .open("filter: \(reason)")
        }
        pcap_freecode(&program)
        pcap_setnonblock(handle, 1, &error)
        self.handle = handle
        do {
            try FileManager.default.createDirectory(atPath: config.directory, withIntermediateDirectories: true)
        } catch {
            pcap_close(handle)
            throw .open("directory: \(error.localizedDescription)")
        }
        do throws(CaptureError) { try openFile() } catch {
            pcap_close(handle)
            throw error
        }
        Thread.detachNewThread { [self] in run() }
    }

    /// Stops capturing; returns once what the kernel had queued is written
    /// and the file is closed.
    func stop() {
        stopping.store(true, ordering: .releasing)
        finished.wait()
    }

    /// True once stopped, by `stop` or by `max_capture_seconds`.
    var hasStopped: Bool { stopping.load(ordering: .acquiring) }

    // MARK: - The capture thread

    private func run() {
        let fd = pcap_get_selectable_fd(handle)
        while !stopping.load(ordering: .acquiring) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&poller, 1, 100)
            drain()
            if Date().timeIntervalSince(startedAt) >= Double(config.maxCaptureSeconds) {
                stopping.store(true, ordering: .releasing)
            }
        }
        drain()
        closeFile()
        pcap_close(handle)
        finished.signal()
    }

    /// Writes every packet libpcap has ready, each into the current file.
    private func drain() {
        let context = Unmanaged.passUnretained(self).toOpaque().assumingMemoryBound(to: UInt8.self)
        while pcap_dispatch(handle, -1, { context, header, bytes in
            guard let context, let header, let bytes else { return }
            Unmanaged<Capture>.fromOpaque(context).takeUnretainedValue().write(header, bytes)
        }, context) > 0 {}
        rotateIfDue()
    }

    private func write(_ header: UnsafePointer<pcap_pkthdr>, _ bytes: UnsafePointer<UInt8>) {
        guard let dumper else { return }
        pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), header, bytes)
        rotateIfDue()
    }

    /// Starts a new file when the current one is full or old enough.
    private func rotateIfDue() {
        guard let dumper else { return }
        let size = pcap_dump_ftell64(dumper)
        guard size >= config.maxFileBytes || Date().timeIntervalSince(fileOpenedAt) >= Double(config.maxFileSeconds)
        else { return }
        closeFile()
        do throws(CaptureError) { try openFile() } catch {
            // Nothing to write into: stop, so the next enabling push
            // starts afresh and reports why if it fails again.
            stopping.store(true, ordering: .releasing)
        }
    }

    private func openFile() throws(CaptureError) {
        fileIndex += 1
        let stamp = Self.fileStamp(Date())
        let path = "\(config.directory)/capture-\(stamp)-\(String(format: "%04d", fileIndex)).pcap"
        guard let opened = pcap_dump_open(handle, path) else {
            throw .open("\(path): \(String(cString: pcap_geterr(handle)))")
        }
        dumper = opened
        fileOpenedAt = Date()
        CaptureFiles.prune(directory: config.directory, keep: config.maxFiles)
    }

    private func closeFile() {
        guard let dumper else { return }
        pcap_dump_flush(dumper)
        pcap_dump_close(dumper)
        self.dumper = nil
    }

    static func fileStamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
        return formatter.string(from: date)
    }
}

/// The capture files in a folder: `capture-<UTC time>-<n>.pcap`.
enum CaptureFiles {
    /// Deletes the oldest files beyond `keep`.
    static func prune(directory: String, keep: Int) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("capture-") && $0.hasSuffix(".pcap") }.sorted()
        for name in names.dropLast(keep) { try? FileManager.default.removeItem(atPath: "\(directory)/\(name)") }
    }
}

enum CaptureError: Error, CustomStringConvertible {
    case open(String)
    var description: String { switch self { case .open(let reason): reason } }
}

private func text(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
