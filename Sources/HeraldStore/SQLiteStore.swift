import Foundation
public import HeraldCore
import GRDB
import Synchronization

/// The embedded default store: one SQLite file in WAL mode.
///
/// Every method is one transaction. The dispatcher batches many events or
/// attempts into each call, which is what makes durable ingest fast: the
/// cost of a commit is paid once per batch, not per event.
public final class SQLiteStore: Store {
    /// How far a commit is durable.
    public enum Durability: String, Sendable {
        /// Survives a crash of the process (kill -9): WAL, synchronous=NORMAL.
        case process
        /// Survives power loss too: synchronous=FULL, an fsync per commit.
        case power
    }

    let pool: DatabasePool
    /// Copies the log into the database in the background (see `init`).
    private let checkpoints: Task<Void, Never>?
    /// Set by each commit, so an idle store is not checkpointed.
    private let committed = CommitFlag()

    /// How often the background connection checkpoints after commits.
    /// Small checkpoints often: a commit waits while the log it appends to
    /// is synced (ext4), so the p99 grows with the checkpoint's size (at
    /// 1,000 alerts/s: 8 ms every 250 ms, 28 ms every 2 s, 4 ms every 50 ms).
    static let checkpointInterval = Duration.milliseconds(50)

    /// Whether anything was committed since the last checkpoint.
    final class CommitFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    /// - Parameter walAutocheckpoint: the log's size in pages that is
    ///   normal between checkpoints (SQLite's default, 1000). A checkpoint
    ///   copies the log into the database; run inside a commit, as SQLite
    ///   does by itself, it set the p99 of ingest (8 ms at 1,000 alerts/s,
    ///   2 ms without it: `ONLY=alertmanager scripts/benchmark.sh`). So a
    ///   connection of its own checkpoints every `checkpointInterval`, off
    ///   the commit path (a passive checkpoint: commits go on meanwhile),
    ///   and a commit checkpoints only if the log reaches ten times this
    ///   size anyway. 0 turns checkpoints off, for measuring: the log then
    ///   grows without bound.
    public init(path: String, durability: Durability = .process, walAutocheckpoint: Int = 1000) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let synchronous = durability == .power ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"
        let backstop = walAutocheckpoint.multipliedReportingOverflow(by: 10)
        configuration.prepareDatabase { db in
            try db.execute(sql: synchronous)
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(backstop.overflow ? Int.max : backstop.partialValue)")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
        checkpoints = walAutocheckpoint == 0 ? nil
            : try Self.checkpointInBackground(path: path, synchronous: synchronous, after: committed)
    }

    deinit { checkpoints?.cancel() }

    /// Passive checkpoints every `checkpointInterval` on a connection of
    /// their own (GRDB runs them on its queue, not on the task pool).
    private static func checkpointInBackground(path: String, synchronous: String, after committed: CommitFlag) throws
        -> Task<Void, Never> {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: synchronous) }
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: checkpointInterval)
                guard committed.value.exchange(false, ordering: .relaxed) else { continue }
                // A busy log (another checkpoint running) is tried again next time.
                _ = try? await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            }
        }
    }

    // MARK: - Writes

    public func commit<Planned: Sendable>(
        attempts: [AttemptRecord], marks: [Int64: Int], lookups: HubLookups,
        plan: @escaping @Sendable (HubFindings) throws -> (IngestBatch, Planned)
    ) async throws -> (CommitResult, Planned) {
        let now = Date().timeIntervalSince1970
        let committed = try await pool.write { db in
            var found = HubFindings()
            for (team, ids) in lookups.ids { found.statuses[team] = try Self.latestStatuses(team: team, ids: ids, db) }
            for (team, prefixes) in lookups.openPrefixes {
                for prefix in prefixes {
                    if let open = try Self.openInstance(team: team, prefix: prefix, db) { found.open[team, default: [:]][prefix] = open }
                }
            }
            let (batch, planned) = try plan(found)
            let encoded = batch.events.map(\.storedJSON)
            let fallbacks = try Self.record(attempts, db)
            if !marks.isEmpty {
                let mark = try db.cachedStatement(sql: "UPDATE delivery SET inFlightMark = ? WHERE id = ?")
                for (id, group) in marks { try mark.execute(arguments: [group, id]) }
            }
            var eventRows: [Int64] = []
            eventRows.reserveCapacity(encoded.count)
            let insertEvent = try db.cachedStatement(sql: """
                INSERT INTO event (eventID, team, alertKey, body, receivedAt) VALUES (?, ?, ?, ?, ?)
                """)
            for (event, body) in zip(batch.events, encoded) {
                try insertEvent.execute(arguments: [event.id, event.team, event.alertKey, body, now])
                eventRows.append(db.lastInsertedRowID)
            }
            let insertDelivery = try db.cachedStatement(sql: """
                INSERT INTO delivery (eventRow, endpoint, policy, level, previousLevel, status, attempts, notBefore, updatedAt)
                VALUES (?, ?, ?, ?, ?, 'pending', 0, 0, ?)
                """)
            var ids: [Int64] = []
            ids.reserveCapacity(batch.deliveries.count)
            for delivery in batch.deliveries {
                try insertDelivery.execute(arguments: [
                    eventRows[delivery.eventIndex], delivery.endpoint, delivery.policy, delivery.level.rawValue,
                    delivery.previousLevel?.rawValue, now,
                ])
                ids.append(db.lastInsertedRowID)
            }
            if !batch.suppressions.isEmpty {
                let insertSuppression = try db.cachedStatement(sql: """
                    INSERT INTO suppression (eventRow, endpoint, policy, reason) VALUES (?, ?, ?, ?)
                    """)
                for suppression in batch.suppressions {
                    try insertSuppression.execute(arguments: [
                        eventRows[suppression.eventIndex], suppression.endpoint, suppression.policy, suppression.reason,
                    ])
                }
            }
            let upsertThrottle = try db.cachedStatement(sql: """
                INSERT INTO throttle (endpoint, policy, objectID, lastPushAt, pushes, lastLevel) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (endpoint, policy, objectID) DO UPDATE SET
                  lastPushAt = excluded.lastPushAt, pushes = excluded.pushes, lastLevel = excluded.lastLevel
                """)
            let deleteThrottle = try db.cachedStatement(sql: """
                DELETE FROM throttle WHERE endpoint = ? AND policy = ? AND objectID = ?
                """)
            for (key, state) in batch.throttle {
                if let state {
                    try upsertThrottle.execute(arguments: [
                        key.endpoint, key.policy, key.objectID, state.lastPushAt, state.pushes, state.lastLevel.rawValue,
                    ])
                } else {
                    try deleteThrottle.execute(arguments: [key.endpoint, key.policy, key.objectID])
                }
            }
            try Self.writeTimeouts(batch, eventRows: eventRows, db)
            return (CommitResult(deliveryIDs: ids, fallbacks: fallbacks), planned)
        }
        self.committed.value.store(true, ordering: .relaxed)
        return committed
    }

    /// Arms, disarms and extends auto-clear deadlines.
    private static func writeTimeouts(_ batch: IngestBatch, eventRows: [Int64], _ db: Database) throws {
        if !batch.disarmTimeouts.isEmpty {
            let disarm = try db.cachedStatement(sql: "DELETE FROM autoClear WHERE alertKey = ?")
            for key in batch.disarmTimeouts { try disarm.execute(arguments: [key]) }
        }
        if !batch.armTimeouts.isEmpty {
            let arm = try db.cachedStatement(sql: """
                INSERT INTO autoClear (alertKey, eventRow, deadline) VALUES (?, ?, ?)
                ON CONFLICT (alertKey) DO UPDATE SET eventRow = excluded.eventRow, deadline = excluded.deadline
                """)
            for (key, timeout) in batch.armTimeouts {
                try arm.execute(arguments: [key, eventRows[timeout.eventIndex], timeout.deadline])
            }
        }
        if !batch.extendTimeouts.isEmpty {
            let extend = try db.cachedStatement(sql: "UPDATE autoClear SET deadline = MAX(deadline, ?) WHERE alertKey = ?")
            for (key, deadline) in batch.extendTimeouts { try extend.execute(arguments: [deadline, key]) }
        }
    }

    /// Records attempts; returns the fallback deliveries made for dead ones.
    private static func record(_ attempts: [AttemptRecord], _ db: Database) throws -> [PendingDelivery] {
        guard !attempts.isEmpty else { return [] }
        var fallbacks: [PendingDelivery] = []
        let insertAttempt = try db.cachedStatement(sql: """
            INSERT INTO attempt (deliveryID, attempt, startedAt, finishedAt, outcome, reason) VALUES (?, ?, ?, ?, ?, ?)
            """)
        let update = try db.cachedStatement(sql: """
            UPDATE delivery SET status = ?, attempts = ?, notBefore = ?, lastError = ?, updatedAt = ?, inFlightMark = 0, suspectGroup = 0 WHERE id = ?
            """)
        for record in attempts {
            try insertAttempt.execute(arguments: [
                record.deliveryID, record.attempt, record.startedAt, record.finishedAt, record.outcome.name,
                record.outcome.reason,
            ])
            let (status, notBefore): (String, Double) = switch record.next {
            case .delivered: ("delivered", 0)
            case .retryAt(let at): ("pending", at)
            case .held: ("pending", 0)
            case .dead: ("dead", 0)
            }
            let lastError: String? = record.next == .delivered ? nil : record.outcome.reason
            // A held delivery keeps its retry count: the attempt is history only.
            let counted = record.next == .held ? max(0, record.attempt - 1) : record.attempt
            try update.execute(arguments: [status, counted, notBefore, lastError, record.finishedAt,
                                           record.deliveryID])
            if let fallback = record.fallback, record.next == .dead {
                fallbacks += try insertFallbacks(fallback, for: record.deliveryID, db)
            }
            switch record.fallbackKey {
            case .fellBack(let key)?:
                try db.execute(literal: """
                    INSERT INTO fallbackKey (endpoint, policy, objectID) VALUES (\(key.endpoint), \(key.policy), \(key.objectID))
                    ON CONFLICT DO NOTHING
                    """)
            case .cleared(let key)?:
                try db.execute(literal: """
                    DELETE FROM fallbackKey WHERE endpoint = \(key.endpoint) AND policy = \(key.policy) AND objectID = \(key.objectID)
                    """)
            case nil:
                break
            }
        }
        return fallbacks
    }

    /// One new pending delivery per fallback endpoint, for the same event,
    /// linked to the dead one.
    private static func insertFallbacks(_ fallback: Fallback, for dead: Int64, _ db: Database) throws -> [PendingDelivery] {
        var made: [PendingDelivery] = []
        for endpoint in fallback.endpoints {
            try db.execute(literal: """
                INSERT INTO delivery (eventRow, endpoint, policy, level, previousLevel, status, attempts, notBefore, updatedAt,
                                      fallbackOf, fallbackFrom, fallbackReason)
                SELECT eventRow, \(endpoint), policy, level, previousLevel, 'pending', 0, 0, \(Date().timeIntervalSince1970),
                       id, endpoint, \(fallback.reason)
                FROM delivery WHERE id = \(dead)
                """)
            let id = db.lastInsertedRowID
            var push = fallback.push
            push.endpoint = endpoint
            push.deliveryID = PendingDelivery.deliveryID(id)
            push.fallbackOf = fallback.push.endpoint
            push.fallbackReason = fallback.reason
            made.append(PendingDelivery(id: id, push: push, attempts: 0, notBefore: 0, createdAt: fallback.createdAt))
        }
        return made
    }

    public func beginRun(poisonAfter: Int) async throws -> RunStart {
        try await pool.write { db in
            let running = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'running'") == "1"
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('running', '1') ON CONFLICT (key) DO UPDATE SET value = '1'")
            var poisoned: [Int64] = []
            if running {
                try db.execute(sql: """
                    UPDATE delivery SET crashes = crashes + (inFlightMark = 1), suspectGroup = inFlightMark, inFlightMark = 0
                    WHERE inFlightMark > 0 AND status = 'pending'
                    """)
                let request: SQLRequest<Int64> = "SELECT id FROM delivery WHERE status = 'pending' AND crashes >= \(poisonAfter)"
                poisoned = try request.fetchAll(db)
                let reason = "poison: the daemon crashed \(poisonAfter) times with this delivery in flight in its plugin"
                try db.execute(literal: """
                    UPDATE delivery SET status = 'dead', lastError = \(reason), updatedAt = \(Date().timeIntervalSince1970)
                    WHERE id IN \(poisoned)
                    """)
            }
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM delivery WHERE status = 'pending'") ?? 0
            var suspects: [Int64: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, suspectGroup FROM delivery WHERE status = 'pending' AND suspectGroup > 0") {
                suspects[row["id"]] = row["suspectGroup"]
            }
            return RunStart(unclean: running, poisoned: poisoned, lastPendingID: last, suspects: suspects)
        }
    }

    public func endRun() async throws {
        try await pool.write { db in try db.execute(sql: "UPDATE meta SET value = '0' WHERE key = 'running'") }
    }

    public func replayDead(team: String?, ids: [Int64]?, endpoints: [String], afterID: Int64, limit: Int) async throws
        -> [PendingDelivery] {
        try await pool.write { db in
            let filter = Self.filter(team: team, ids: ids) + " AND delivery.endpoint IN \(endpoints) AND delivery.id > \(afterID)"
            let rows = try Self.pendingQuery(status: "dead", filter: filter, limit: limit).fetchAll(db)
            let chosen = rows.map { $0["id"] as Int64 }
            try db.execute(literal: """
                UPDATE delivery SET status = 'pending', attempts = 0, notBefore = 0, updatedAt = \(Date().timeIntervalSince1970)
                WHERE id IN \(chosen)
                """)
            return try rows.map { try self.pending(from: $0, resetAttempts: true) }
        }
    }

    public func prune(storedBefore cutoff: Double, limit: Int) async throws -> Int {
        try await pool.write { db in
            let candidates: SQLRequest<Int64> = """
                SELECT row FROM event
                WHERE receivedAt < \(cutoff)
                  AND NOT EXISTS (SELECT 1 FROM delivery WHERE delivery.eventRow = event.row AND delivery.status = 'pending')
                  AND NOT EXISTS (SELECT 1 FROM autoClear WHERE autoClear.eventRow = event.row)
                ORDER BY row LIMIT \(limit)
                """
            let rows = try candidates.fetchAll(db)
            guard !rows.isEmpty else { return 0 }
            try db.execute(literal: """
                DELETE FROM attempt WHERE deliveryID IN (SELECT id FROM delivery WHERE eventRow IN \(rows))
                """)
            // Fallback deliveries share their event: both go; the link is cleared first.
            try db.execute(literal: "UPDATE delivery SET fallbackOf = NULL WHERE eventRow IN \(rows)")
            try db.execute(literal: "DELETE FROM delivery WHERE eventRow IN \(rows)")
            try db.execute(literal: "DELETE FROM suppression WHERE eventRow IN \(rows)")
            try db.execute(literal: "DELETE FROM event WHERE row IN \(rows)")
            return rows.count
        }
    }

    // MARK: - Reads

    public func pendingDeliveries(endpoint: String, afterID: Int64, limit: Int) async throws -> [PendingDelivery] {
        try await pool.read { db in
            let filter: SQL = "AND delivery.endpoint = \(endpoint) AND delivery.id > \(afterID)"
            return try Self.pendingQuery(status: "pending", filter: filter, limit: limit).fetchAll(db).map {
                try self.pending(from: $0, resetAttempts: false)
            }
        }
    }

    public func throttleStates() async throws -> [ThrottleKey: ThrottleState] {
        try await pool.read { db in
            var states: [ThrottleKey: ThrottleState] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM throttle") {
                let key = ThrottleKey(endpoint: row["endpoint"], policy: row["policy"], objectID: row["objectID"])
                states[key] = ThrottleState(lastPushAt: row["lastPushAt"], pushes: row["pushes"],
                                            lastLevel: Level(rawValue: row["lastLevel"]) ?? .critical)
            }
            return states
        }
    }

    public func expiredAlerts(now: Double) async throws -> [Event] {
        try await pool.read { db in
            let request: SQLRequest<Data> = """
                SELECT event.body FROM autoClear JOIN event ON event.row = autoClear.eventRow
                WHERE autoClear.deadline <= \(now) ORDER BY autoClear.deadline
                """
            return try request.fetchAll(db).map { try Event(stored: $0) }
        }
    }

    /// The partial index's condition, word for word, so SQLite uses it. On
    /// an expression rather than a range of eventID, which would win over
    /// `eventID = ?` in the planner and scan every hub event of the team.
    static let hubIDCondition = "substr(eventID, 1, \(Event.hubIDPrefix.utf8.count)) = '\(Event.hubIDPrefix)'"

    /// The status of the team's newest event with each of `ids` that it has.
    private static func latestStatuses(team: String, ids: [String], _ db: Database) throws -> [String: EventStatus] {
        let ids = ids.filter { $0.hasPrefix(Event.hubIDPrefix) }
        guard !ids.isEmpty else { return [:] }
        let request: SQLRequest<Data> = """
            SELECT body FROM event WHERE team = \(team) AND eventID IN \(ids) AND \(sql: hubIDCondition) ORDER BY row
            """
        // Oldest first, so each id ends with its newest status.
        return try request.fetchAll(db).map { try Event(stored: $0) }
            .reduce(into: [:]) { $0[$1.id] = $1.status }
    }

    /// The newest event of the team's newest alert instance whose id
    /// starts with `prefix`, if it is firing. Instances' ids sort by their
    /// start (RFC 3339 in UTC), a resolved one's `:resolved` after it.
    private static func openInstance(team: String, prefix: String, _ db: Database) throws -> Event? {
        // Every id with the prefix sorts below the prefix with its last
        // (ASCII) character raised by one.
        guard prefix.hasPrefix(Event.hubIDPrefix), let last = prefix.utf8.last, last < 0x7F else { return nil }
        let end = String(decoding: prefix.utf8.dropLast() + [last + 1], as: UTF8.self)
        let request: SQLRequest<Data> = """
            SELECT body FROM event WHERE team = \(team) AND eventID >= \(prefix) AND eventID < \(end)
            ORDER BY eventID DESC, row DESC LIMIT 1
            """
        let newest = try request.fetchOne(db).map { try Event(stored: $0) }
        return newest?.status == .firing ? newest : nil
    }

    public func latestEvent(team: String, id: String) async throws -> Event? {
        guard id.hasPrefix(Event.hubIDPrefix) else { return nil }
        return try await pool.read { db in
            let request: SQLRequest<Data> = """
                SELECT body FROM event WHERE team = \(team) AND eventID = \(id) AND \(sql: Self.hubIDCondition)
                ORDER BY row DESC LIMIT 1
                """
            return try request.fetchOne(db).map { try Event(stored: $0) }
        }
    }

    public func deliveries(_ query: DeliveryQuery) async throws -> [DeliverySummary] {
        try await pool.read { db in
            var filter = Self.filter(team: query.team, ids: nil)
            if let status = query.status { filter += " AND delivery.status = \(status)" }
            if let endpoint = query.endpoint { filter += " AND delivery.endpoint = \(endpoint)" }
            if let eventID = query.eventID { filter += " AND event.eventID = \(eventID)" }
            if let since = query.since { filter += " AND event.receivedAt >= \(since)" }
            if let until = query.until { filter += " AND event.receivedAt < \(until)" }
            if let before = query.before { filter += " AND delivery.id < \(before)" }
            let request: SQLRequest<Row> = """
                SELECT delivery.*, event.eventID, event.team, event.receivedAt FROM delivery JOIN event ON event.row = delivery.eventRow
                WHERE 1 \(filter) ORDER BY delivery.id DESC LIMIT \(query.limit)
                """
            return try request.fetchAll(db).map(Self.summary)
        }
    }

    public func delivery(id: Int64) async throws -> DeliverySummary? {
        try await pool.read { db in
            let request: SQLRequest<Row> = """
                SELECT delivery.*, event.eventID, event.team, event.receivedAt FROM delivery JOIN event ON event.row = delivery.eventRow
                WHERE delivery.id = \(id)
                """
            return try request.fetchOne(db).map(Self.summary)
        }
    }

    public func attempts(deliveryID: Int64) async throws -> [AttemptSummary] {
        try await pool.read { db in try Self.attempts(deliveryID: deliveryID, db) }
    }

    // MARK: - Helpers

    /// A delivery row joined with its event's `eventID`, `team` and `receivedAt`.
    static func summary(_ row: Row) -> DeliverySummary {
        DeliverySummary(id: row["id"], eventID: row["eventID"], team: row["team"], endpoint: row["endpoint"],
                        policy: row["policy"], level: row["level"], status: row["status"],
                        attempts: row["attempts"], lastError: row["lastError"], fallbackOf: row["fallbackOf"],
                        createdAt: row["receivedAt"], updatedAt: row["updatedAt"])
    }

    static func attempts(deliveryID: Int64, _ db: Database) throws -> [AttemptSummary] {
        let request: SQLRequest<Row> = "SELECT * FROM attempt WHERE deliveryID = \(deliveryID) ORDER BY rowid"
        return try request.fetchAll(db).map { row in
            AttemptSummary(attempt: row["attempt"], outcome: row["outcome"], reason: row["reason"],
                           startedAt: row["startedAt"], finishedAt: row["finishedAt"])
        }
    }

    private static func filter(team: String?, ids: [Int64]?) -> SQL {
        var sql: SQL = ""
        if let team { sql += " AND event.team = \(team)" }
        if let ids { sql += " AND delivery.id IN \(ids)" }
        return sql
    }

    private static func pendingQuery(status: String, filter: SQL, limit: Int = Int(Int32.max)) -> SQLRequest<Row> {
        """
        SELECT delivery.id, delivery.policy, delivery.endpoint, delivery.level, delivery.previousLevel,
               delivery.attempts, delivery.notBefore, delivery.fallbackFrom, delivery.fallbackReason, event.receivedAt, event.body
        FROM delivery JOIN event ON event.row = delivery.eventRow
        WHERE delivery.status = \(status) \(filter) ORDER BY delivery.id LIMIT \(limit)
        """
    }

    private func pending(from row: Row, resetAttempts: Bool) throws -> PendingDelivery {
        let id: Int64 = row["id"]
        let event = try Event(stored: row["body"] as Data)
        let previous: String? = row["previousLevel"]
        let push = Push(event: event, policy: row["policy"], endpoint: row["endpoint"],
                        level: Level(rawValue: row["level"]) ?? event.pushLevel,
                        previousLevel: previous.flatMap(Level.init(rawValue:)), deliveryID: PendingDelivery.deliveryID(id),
                        fallbackOf: row["fallbackFrom"], fallbackReason: row["fallbackReason"])
        return PendingDelivery(id: id, push: push, attempts: resetAttempts ? 0 : row["attempts"],
                               notBefore: resetAttempts ? 0 : row["notBefore"], createdAt: row["receivedAt"])
    }
}
