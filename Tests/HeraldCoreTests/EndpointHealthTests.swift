import HeraldCore
import Testing

/// Endpoint health as a state machine on a made-up clock.
struct EndpointHealthTests {
    let rule = HealthRule(downAfter: 3, firstProbeSeconds: 2, maxProbeSeconds: 60, maxAgeSeconds: 3600)

    @Test func goesDownAfterFailuresInARowOnly() {
        var health = EndpointHealth()
        #expect(health.endpointFailed(reason: "refused", retryAfter: nil, now: 0, rule: rule) == nil)
        #expect(health.endpointFailed(reason: "refused", retryAfter: nil, now: 1, rule: rule) == nil)
        // An answer in between (one message refused) resets the count.
        #expect(health.answered(now: 2) == nil)
        #expect(health.endpointFailed(reason: "refused", retryAfter: nil, now: 3, rule: rule) == nil)
        #expect(health.endpointFailed(reason: "refused", retryAfter: nil, now: 4, rule: rule) == nil)
        #expect(!health.isDown)
        #expect(health.endpointFailed(reason: "HTTP 503", retryAfter: nil, now: 5, rule: rule) == .wentDown)
        #expect(health.state == .down(since: 5, nextProbeAt: 7, failedProbes: 0))
        #expect(health.lastError == "HTTP 503")
    }

    @Test func probesOneAtATimeWithCappedDoublingBackoff() {
        var health = EndpointHealth(downSince: 100, now: 100)
        var now = 100.0
        var waits: [Double] = []
        for _ in 0..<8 {
            #expect(health.mayProbe(now: now))
            health.probeStarted()
            #expect(!health.mayProbe(now: now + 1000), "one probe at a time")
            _ = health.endpointFailed(reason: "refused", retryAfter: nil, now: now, rule: rule)
            guard case .down(_, let next, _) = health.state else { Issue.record("came up"); return }
            waits.append(next - now)
            #expect(!health.mayProbe(now: next - 0.01))
            now = next
        }
        #expect(waits == [4, 8, 16, 32, 60, 60, 60, 60])
    }

    @Test func retryAfterIsHonouredWithinTheCap() {
        var health = EndpointHealth()
        for t in 0..<3 { _ = health.endpointFailed(reason: "429", retryAfter: 30, now: Double(t), rule: rule) }
        #expect(health.state == .down(since: 2, nextProbeAt: 32, failedProbes: 0))
        health.probeStarted()
        _ = health.endpointFailed(reason: "429", retryAfter: 3600, now: 32, rule: rule)
        #expect(health.state == .down(since: 2, nextProbeAt: 92, failedProbes: 1), "capped at 60 s")
    }

    /// What was in flight when it went down comes back failed: not probes.
    @Test func failuresOfWhatWasInFlightDoNotPostponeTheProbe() {
        var health = EndpointHealth()
        for t in 0..<3 { _ = health.endpointFailed(reason: "refused", retryAfter: nil, now: Double(t), rule: rule) }
        for _ in 0..<60 { _ = health.endpointFailed(reason: "refused", retryAfter: nil, now: 2.5, rule: rule, probe: false) }
        #expect(health.state == .down(since: 2, nextProbeAt: 4, failedProbes: 0))
    }

    @Test func anAnswerBringsItBackAndSaysHowLongItWasDown() {
        var health = EndpointHealth(downSince: 10, now: 10)
        health.probeStarted()
        #expect(health.answered(now: 70) == .cameBack(downSeconds: 60))
        #expect(health.state == .up && !health.probing && health.lastError == nil && health.failuresInARow == 0)
    }
}
