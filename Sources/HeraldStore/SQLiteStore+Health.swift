import Foundation
import HeraldCore
import GRDB

/// Endpoint health and fallback keys: small, rare writes beside the outbox.
extension SQLiteStore {
    public func setEndpointDown(_ endpoint: String, since: Double?) async throws {
        let key = "down:\(endpoint)"
        try await pool.write { db in
            if let since {
                try db.execute(literal: """
                    INSERT INTO meta (key, value) VALUES (\(key), \(String(since)))
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    """)
            } else {
                try db.execute(literal: "DELETE FROM meta WHERE key = \(key)")
            }
        }
    }

    public func endpointsDown() async throws -> [String: Double] {
        try await pool.read { db in
            var down: [String: Double] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM meta WHERE key LIKE 'down:%'") {
                let key: String = row["key"]
                if let since = Double(row["value"] as String) { down[String(key.dropFirst(5))] = since }
            }
            return down
        }
    }

    public func cancelPending(endpoint: String, reason: String) async throws -> Int {
        try await pool.write { db in
            try db.execute(literal: """
                UPDATE delivery SET status = 'cancelled', lastError = \(reason), updatedAt = \(Date().timeIntervalSince1970)
                WHERE status = 'pending' AND endpoint = \(endpoint)
                """)
            let cancelled = db.changesCount
            try db.execute(literal: "DELETE FROM meta WHERE key = \("down:\(endpoint)")")
            return cancelled
        }
    }

    public func pendingCount(endpoint: String) async throws -> Int {
        try await pool.read { db in
            let request: SQLRequest<Int> = "SELECT COUNT(*) FROM delivery WHERE status = 'pending' AND endpoint = \(endpoint)"
            return try request.fetchOne(db) ?? 0
        }
    }

    public func fallbackKeys(endpoint: String) async throws -> Set<ThrottleKey> {
        try await pool.read { db in
            let request: SQLRequest<Row> = "SELECT policy, objectID FROM fallbackKey WHERE endpoint = \(endpoint)"
            let rows = try request.fetchAll(db)
            return Set(rows.map { ThrottleKey(endpoint: endpoint, policy: $0["policy"], objectID: $0["objectID"]) })
        }
    }
}
