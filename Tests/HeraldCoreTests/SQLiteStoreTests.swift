import Foundation
import HeraldCore
import HeraldStore
import Testing

struct SQLiteStoreTests {
    let store: SQLiteStore

    init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-store-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("test.sqlite").path)
    }

    static func event(_ id: String, status: EventStatus = .firing, timeout: Int? = nil) -> Event {
        Event(id: id, team: "ops", name: "HighCPU", level: .critical, status: status, objectID: "host-\(id)",
              labels: ["a": "b"], annotations: ["note": "ü \"quoted\""], startsAt: Date(timeIntervalSince1970: 1000),
              timeoutSeconds: timeout)
    }

    /// Commits leave their pages in the log; the background connection
    /// copies them into the database file soon after, without a commit
    /// paying for it (the backstop is ten times the configured size).
    @Test func theLogIsCheckpointedInTheBackground() async throws {
        for pages in [1000, 0] {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-store-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("test.sqlite").path
            let store = try SQLiteStore(path: path, walAutocheckpoint: pages)
            let size = { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1 }
            let before = size()
            for round in 0..<20 {
                var batch = IngestBatch()
                batch.events = (0..<50).map { Self.event("\(round)-\($0)") }
                _ = try await store.commit(batch, attempts: [], marks: [:])
            }
            // Far fewer pages than the backstop: only the background copies them.
            try await Task.sleep(for: .milliseconds(500))
            if pages == 0 {
                #expect(size() == before, "with checkpoints off, the database file should not change")
            } else {
                #expect(size() > before, "the database file should have the committed pages: \(before) -> \(size())")
            }
        }
    }

    @Test func committedDeliveriesArePendingUntilRecorded() async throws {
        // Given two events, each with a delivery
        var batch = IngestBatch()
        batch.events = [Self.event("1"), Self.event("2")]
        batch.deliveries = [NewDelivery(eventIndex: 0, endpoint: "hook", policy: "p", level: .critical, previousLevel: nil),
                            NewDelivery(eventIndex: 1, endpoint: "hook", policy: "p", level: .critical, previousLevel: .error)]
        let ids = try await store.commit(batch, attempts: [], marks: [:]).deliveryIDs
        #expect(ids.count == 2)

        // Then both are pending, with their events intact
        let pending = try await store.pendingDeliveries(endpoint: "hook", afterID: 0, limit: 100)
        #expect(pending.map(\.id) == ids)
        #expect(pending[0].push.event == Self.event("1"))
        #expect(pending[1].push.previousLevel == .error)

        // When one is delivered and the other fails for good
        _ = try await store.commit(IngestBatch(), attempts: [
            AttemptRecord(deliveryID: ids[0], attempt: 1, startedAt: 1, finishedAt: 2, outcome: .ok(reason: ""),
                          next: .delivered),
            AttemptRecord(deliveryID: ids[1], attempt: 1, startedAt: 1, finishedAt: 2,
                          outcome: .fail(reason: "HTTP 400"), next: .dead),
        ], marks: [:])

        // Then nothing is pending, one is a dead letter with its reason and history
        #expect(try await store.pendingDeliveries(endpoint: "hook", afterID: 0, limit: 100).isEmpty)
        let dead = try await store.deliveries(team: "ops", status: "dead", limit: 10)
        #expect(dead.map(\.id) == [ids[1]])
        #expect(dead.first?.lastError == "HTTP 400")
        #expect(try await store.attempts(deliveryID: ids[1]).map(\.outcome) == ["fail"])
        #expect(try await store.deliveries(team: "dev", status: nil, limit: 10).isEmpty)

        // And a replay makes it pending again
        let replayed = try await store.replayDead(team: "ops", ids: nil, endpoints: ["hook", "other"], afterID: 0, limit: 100)
        #expect(replayed.map(\.id) == [ids[1]])
        #expect(try await store.pendingDeliveries(endpoint: "hook", afterID: 0, limit: 100).map(\.id) == [ids[1]])
        #expect(try await store.pendingDeliveries(endpoint: "other", afterID: 0, limit: 100).isEmpty)
    }

    @Test func throttleStateRoundTripsAndIsForgotten() async throws {
        let key = ThrottleKey(endpoint: "hook", policy: "p", objectID: "o")
        var batch = IngestBatch()
        batch.events = [Self.event("1")]
        batch.throttle[key] = .some(ThrottleState(lastPushAt: 5, pushes: 2, lastLevel: .warning))
        _ = try await store.commit(batch, attempts: [], marks: [:])
        #expect(try await store.throttleStates() == [key: ThrottleState(lastPushAt: 5, pushes: 2, lastLevel: .warning)])

        batch.throttle[key] = .some(nil)
        _ = try await store.commit(batch, attempts: [], marks: [:])
        #expect(try await store.throttleStates().isEmpty)
    }

    @Test func autoClearDeadlinesExpireAndDisarm() async throws {
        var batch = IngestBatch()
        batch.events = [Self.event("1", timeout: 60)]
        batch.armTimeouts[batch.events[0].alertKey] = (0, 1060)
        _ = try await store.commit(batch, attempts: [], marks: [:])
        #expect(try await store.expiredAlerts(now: 1059).isEmpty)
        #expect(try await store.expiredAlerts(now: 1060).map(\.id) == ["1"])

        var resolved = IngestBatch()
        resolved.events = [Self.event("1", status: .resolved)]
        resolved.disarmTimeouts = [resolved.events[0].alertKey]
        _ = try await store.commit(resolved, attempts: [], marks: [:])
        #expect(try await store.expiredAlerts(now: 2000).isEmpty)
    }

    /// Retention: an event goes with its history once every delivery
    /// ended; one with a pending delivery or an armed auto-clear stays.
    @Test func pruneTakesEndedHistoryOnly() async throws {
        var batch = IngestBatch()
        batch.events = [Self.event("done"), Self.event("waiting"), Self.event("armed", timeout: 60), Self.event("quiet")]
        batch.deliveries = [NewDelivery(eventIndex: 0, endpoint: "hook", policy: "p", level: .critical, previousLevel: nil),
                            NewDelivery(eventIndex: 1, endpoint: "hook", policy: "p", level: .critical, previousLevel: nil)]
        batch.suppressions = [NewSuppression(eventIndex: 3, endpoint: "hook", policy: "p", reason: "level_filtered")]
        batch.armTimeouts[batch.events[2].alertKey] = (2, Date().timeIntervalSince1970 + 60)
        let ids = try await store.commit(batch, attempts: [], marks: [:]).deliveryIDs
        let now = Date().timeIntervalSince1970
        _ = try await store.commit(IngestBatch(), attempts: [
            AttemptRecord(deliveryID: ids[0], attempt: 1, startedAt: now, finishedAt: now, outcome: .ok(reason: ""), next: .delivered),
        ], marks: [:])

        #expect(try await store.prune(storedBefore: now - 3600, limit: 100) == 0, "nothing is old enough")
        #expect(try await store.prune(storedBefore: now + 1, limit: 1) == 1, "a chunk at a time")
        #expect(try await store.prune(storedBefore: now + 1, limit: 100) == 1)
        #expect(try await store.explain(team: "ops", eventID: "done", limit: 5).isEmpty)
        #expect(try await store.explain(team: "ops", eventID: "quiet", limit: 5).isEmpty)
        #expect(try await store.explain(team: "ops", eventID: "waiting", limit: 5).count == 1)
        #expect(try await store.explain(team: "ops", eventID: "armed", limit: 5).count == 1)
        #expect(try await store.deliveries(team: "ops", status: nil, limit: 10).map(\.id) == [ids[1]])
    }
}
