import Foundation
/// The level of a push, as endpoints filter on it.
///
/// Four firing levels, and `recovery` for the push that says an alert has
/// ended. An endpoint lists the levels it wants; by default every level but
/// `info`.
public enum Level: String, Sendable, CaseIterable, Hashable {
    case critical = "Critical"
    case error = "Error"
    case warning = "Warning"
    case info = "Info"
    case recovery = "Recovery"

    /// What an endpoint receives when its config names no levels.
    public static let defaultFilter: Set<Level> = [.critical, .error, .warning, .recovery]

    /// Parses a level name case-insensitively ("critical", "CRITICAL").
    public init?(name: String) {
        guard let level = Level.allCases.first(where: { $0.rawValue.caseInsensitiveCompare(name) == .orderedSame })
        else { return nil }
        self = level
    }
}

/// Huawei Cloud's event severities and the level each maps to.
///
/// | Huawei     | Herald   |
/// |------------|----------|
/// | Critical   | Critical |
/// | Major      | Error    |
/// | Minor      | Warning  |
/// | Info       | Info     |
public enum HuaweiSeverity: String, Sendable, CaseIterable {
    case critical = "Critical"
    case major = "Major"
    case minor = "Minor"
    case info = "Info"

    public var level: Level {
        switch self {
        case .critical: .critical
        case .major: .error
        case .minor: .warning
        case .info: .info
        }
    }
}
