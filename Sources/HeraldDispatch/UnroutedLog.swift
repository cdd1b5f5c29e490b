import Logging

/// Logs events that matched no policy once per burst, not once per event:
/// the first at once, then at most one line a minute per team, each with
/// how many there were since the last. (Each is counted in
/// `herald_events_unrouted_total` as well.)
struct UnroutedLog {
    private var lastLogged: [String: Double] = [:]
    private var notLogged: [String: Int] = [:]
    let interval: Double = 60

    mutating func note(_ unrouted: [String: Int], now: Double, logger: Logger) {
        for (team, count) in unrouted {
            notLogged[team, default: 0] += count
            guard now - (lastLogged[team] ?? -.infinity) >= interval else { continue }
            logger.warning("Events matched no policy: stored, pushed nowhere", metadata: [
                "team": "\(team)", "events": "\(notLogged[team] ?? count)",
                "since_seconds": "\(lastLogged[team].map { "\(Int(now - $0))" } ?? "start")"])
            lastLogged[team] = now
            notLogged[team] = 0
        }
    }
}
