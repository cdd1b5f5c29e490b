/// An endpoint's limits on how often one alert may be pushed.
public struct ThrottleRule: Sendable, Equatable {
    /// At most one push per key within this many seconds; 0 for no limit.
    public var pushCycleSeconds: Double
    /// At most this many pushes per key until the alert recovers; 0 for no limit.
    public var pushFrequency: Int

    public init(pushCycleSeconds: Double = 0, pushFrequency: Int = 0) {
        self.pushCycleSeconds = pushCycleSeconds
        self.pushFrequency = pushFrequency
    }
}

/// What the throttle remembers of one (endpoint, policy, object) key.
public struct ThrottleState: Sendable, Equatable {
    /// Unix seconds of the last push made for the key.
    public var lastPushAt: Double
    /// Firing pushes made since the key last recovered.
    public var pushes: Int
    /// The level last pushed, which some channels report (Aliyun's preTriggerLevel).
    public var lastLevel: Level

    public init(lastPushAt: Double, pushes: Int, lastLevel: Level) {
        self.lastPushAt = lastPushAt
        self.pushes = pushes
        self.lastLevel = lastLevel
    }
}

/// The throttle's answer for one push.
public struct ThrottleDecision: Sendable, Equatable {
    /// Why the push is held back; nil when it goes out.
    public var suppressed: SuppressReason?
    /// What to remember for the key afterwards; nil to forget it.
    public var state: ThrottleState?

    public var pushes: Bool { suppressed == nil }
}

public enum SuppressReason: String, Sendable {
    case level = "level_filtered"
    case pushCycle = "push_cycle"
    case pushFrequency = "push_frequency"
    case recoveryWithoutFiring = "recovery_without_firing"
}

extension ThrottleRule {
    /// Decides whether a push of `level` goes out now for a key in `state`.
    ///
    /// A recovery goes out only for a key that had a firing push (the
    /// receiver never heard of the alert otherwise) and always resets the
    /// key, wanted or not, so the next firing starts a new count and cycle.
    public func decide(level: Level, levels: Set<Level>, state: ThrottleState?, now: Double) -> ThrottleDecision {
        if level == .recovery {
            guard state != nil else { return ThrottleDecision(suppressed: .recoveryWithoutFiring, state: nil) }
            return ThrottleDecision(suppressed: levels.contains(.recovery) ? nil : .level, state: nil)
        }
        guard levels.contains(level) else { return ThrottleDecision(suppressed: .level, state: state) }
        if let state {
            if pushFrequency > 0, state.pushes >= pushFrequency {
                return ThrottleDecision(suppressed: .pushFrequency, state: state)
            }
            if pushCycleSeconds > 0, now - state.lastPushAt < pushCycleSeconds {
                return ThrottleDecision(suppressed: .pushCycle, state: state)
            }
        }
        let next = ThrottleState(lastPushAt: now, pushes: (state?.pushes ?? 0) + 1, lastLevel: level)
        return ThrottleDecision(suppressed: nil, state: next)
    }
}
