public import Foundation

/// The bounds every ingest format holds an event's times to.
///
/// Senders may write any number; downstream, times become milliseconds,
/// calendar dates and deadlines. Holding them here keeps every such
/// conversion in range, so no input can reach an overflow.
public enum EventLimits {
    /// The latest time an event may carry: 9999-12-31T23:59:59.999Z, the
    /// last instant RFC 3339 can write.
    public static let latest = Date(timeIntervalSince1970: 253_402_300_799.999)

    /// The longest auto-clear timeout, a year: a longer one is clamped to it.
    public static let maxTimeoutSeconds = 366 * 86_400

    /// Whether `date` is between the epoch and `latest` (times before 1970
    /// have no place in alerting and cannot be written as Unix milliseconds).
    public static func contains(_ date: Date) -> Bool {
        date.timeIntervalSince1970 >= 0 && date <= latest
    }

    /// The date of Unix milliseconds, or nil when out of range.
    public static func date(milliseconds: Int64) -> Date? {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        return contains(date) ? date : nil
    }

    /// A timeout in whole seconds, clamped to `0...maxTimeoutSeconds`.
    public static func timeoutSeconds(_ seconds: Double) -> Int {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return Int(min(seconds.rounded(.up), Double(maxTimeoutSeconds)))
    }

    /// A timeout in milliseconds as whole seconds (rounded up), clamped.
    public static func timeoutSeconds(milliseconds: Int64) -> Int {
        timeoutSeconds(Double(milliseconds) / 1000)
    }

    /// The message for a time outside the range, naming the range.
    public static let rangeMessage = "must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z"
}
