import Foundation
import GRDB
import HeraldCore
@testable import HeraldStore
import Testing

/// A database made by an earlier version opens with every row kept.
struct StoreMigrationTests {
    @Test func deliveriesSurviveTheTableRebuildForCancelled() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-migrate-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("old.sqlite").path
        // A database as the version before cancelled deliveries left it, with history in it.
        do {
            let pool = try DatabasePool(path: path)
            try SQLiteStore.migrator.migrate(pool, upTo: "v4: fallbacks")
            try await pool.write { db in
                try db.execute(sql: """
                    INSERT INTO event (eventID, team, alertKey, body, receivedAt) VALUES ('e1', 'ops', 'k', x'7B7D', 1);
                    INSERT INTO delivery (eventRow, endpoint, policy, level, status, attempts, notBefore, updatedAt, crashes)
                        VALUES (1, 'hook', 'p', 'Critical', 'dead', 2, 0, 5, 1);
                    INSERT INTO delivery (eventRow, endpoint, policy, level, status, attempts, notBefore, updatedAt, fallbackOf, fallbackFrom)
                        VALUES (1, 'backup', 'p', 'Critical', 'pending', 0, 0, 6, 1, 'hook');
                    INSERT INTO attempt (deliveryID, attempt, startedAt, finishedAt, outcome, reason) VALUES (1, 1, 1, 2, 'fail', 'HTTP 400');
                    """)
            }
        }
        let store = try SQLiteStore(path: path)
        let all = try await store.deliveries(team: "ops", status: nil, limit: 10)
        #expect(all.map(\.id).sorted() == [1, 2])
        #expect(all.first { $0.id == 2 }?.fallbackOf == 1)
        #expect(try await store.attempts(deliveryID: 1).map(\.reason) == ["HTTP 400"])
        #expect(try await store.cancelPending(endpoint: "backup", reason: "the endpoint was deleted") == 1)
        #expect(try await store.deliveries(team: "ops", status: "cancelled", limit: 10).map(\.id) == [2])
        // Foreign keys still hold after the rebuild.
        let problems = try DatabasePool(path: path).read { db in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") }
        #expect(problems.isEmpty)
    }
}
