import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Keeps a second `herald serve` off a database file that one already
/// serves: two daemons on one outbox would both deliver every pending
/// delivery.
///
/// An exclusive `flock` on `<database>.lock`, held until the process exits
/// (the kernel drops it then, even after a kill -9), with the holder's pid
/// written inside so the refusal can name it. Read-only commands do not
/// take it.
public final class StoreLock: Sendable {
    public let path: String
    private let descriptor: Int32

    /// - Throws: `StoreLockError` naming the file and the running process.
    public init(databasePath: String) throws(StoreLockError) {
        path = databasePath + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreLockError(message: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw StoreLockError(message: "\(databasePath) is already served by another herald"
                                 + (holder.map { $0.isEmpty ? "" : " (pid \($0))" } ?? "")
                                 + "; stop it first, or give this one its own storage.path")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        descriptor = fd
    }

    deinit { close(descriptor) }
}

public struct StoreLockError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
