import HeraldCore
import Testing

/// Push cycle, push frequency and recovery, driven by a fake clock (plain numbers).
struct ThrottleTests {
    let levels = Level.defaultFilter

    @Test func levelFilterDropsUnwantedLevels() {
        let rule = ThrottleRule()
        #expect(rule.decide(level: .info, levels: levels, state: nil, now: 0).suppressed == .level)
        #expect(rule.decide(level: .critical, levels: levels, state: nil, now: 0).pushes)
    }

    @Test func pushCycleAllowsOnePushPerCycle() {
        let rule = ThrottleRule(pushCycleSeconds: 60)
        var state: ThrottleState?
        var pushedAt: [Double] = []
        for now in stride(from: 0.0, through: 150, by: 10) {
            let decision = rule.decide(level: .critical, levels: levels, state: state, now: now)
            state = decision.state
            if decision.pushes { pushedAt.append(now) }
        }
        #expect(pushedAt == [0, 60, 120])
    }

    @Test func pushFrequencyCapsPushesUntilRecovery() {
        let rule = ThrottleRule(pushFrequency: 2)
        var state: ThrottleState?
        var pushes = 0
        for now in 0..<5 {
            let decision = rule.decide(level: .warning, levels: levels, state: state, now: Double(now))
            state = decision.state
            if decision.pushes { pushes += 1 }
        }
        #expect(pushes == 2)
        #expect(rule.decide(level: .warning, levels: levels, state: state, now: 10).suppressed == .pushFrequency)

        // The recovery goes out and resets the key: the next firing pushes again.
        let recovery = rule.decide(level: .recovery, levels: levels, state: state, now: 11)
        #expect(recovery.pushes)
        #expect(recovery.state == nil)
        #expect(rule.decide(level: .warning, levels: levels, state: recovery.state, now: 12).pushes)
    }

    @Test func recoveryWithoutAFiringPushIsSuppressed() {
        let decision = ThrottleRule().decide(level: .recovery, levels: levels, state: nil, now: 0)
        #expect(decision.suppressed == .recoveryWithoutFiring)
    }

    @Test func unwantedRecoveryStillResetsTheKey() {
        let state = ThrottleState(lastPushAt: 0, pushes: 3, lastLevel: .critical)
        let decision = ThrottleRule(pushFrequency: 3).decide(level: .recovery, levels: [.critical], state: state, now: 1)
        #expect(decision.suppressed == .level)
        #expect(decision.state == nil)
    }

    @Test func lastLevelIsRemembered() {
        let decision = ThrottleRule().decide(level: .error, levels: levels, state: nil, now: 5)
        #expect(decision.state == ThrottleState(lastPushAt: 5, pushes: 1, lastLevel: .error))
    }
}

struct BackoffTests {
    @Test func backoffDoublesWithJitterAndStopsAfterTheLastRetry() {
        let policy = RetryPolicy(retries: 3, initialBackoffSeconds: 1, maxBackoffSeconds: 60)
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, unitRandom: 0) == 0.5)
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, unitRandom: 0.999)! < 1)
        #expect(policy.delay(afterAttempt: 2, retryAfter: nil, unitRandom: 0) == 1)
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil, unitRandom: 1) == 4)
        #expect(policy.delay(afterAttempt: 4, retryAfter: nil, unitRandom: 0) == nil)
    }

    @Test func retryAfterWinsAndIsCapped() {
        let policy = RetryPolicy(retries: 3, maxRetryAfterSeconds: 100)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 7, unitRandom: 0) == 7)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 1000, unitRandom: 0) == 100)
    }

    @Test func backoffIsCappedByMax() {
        let policy = RetryPolicy(retries: 50, initialBackoffSeconds: 1, maxBackoffSeconds: 10)
        #expect(policy.delay(afterAttempt: 40, retryAfter: nil, unitRandom: 1) == 10)
    }
}
