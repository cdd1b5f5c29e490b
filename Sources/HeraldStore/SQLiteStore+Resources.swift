import Foundation
import HeraldCore
import GRDB

/// Teams, endpoints and policies made through the API.
extension SQLiteStore {
    public func resources() async throws -> [StoredResource] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, name, team, body FROM resource ORDER BY kind, name").compactMap { row in
                guard let kind = StoredResource.Kind(rawValue: row["kind"]) else { return nil }
                let body: String = row["body"]
                return StoredResource(kind: kind, name: row["name"], team: row["team"],
                                      body: try JSONDecoder().decode(JSONValue.self, from: Data(body.utf8)))
            }
        }
    }

    public func saveResources(_ items: [StoredResource], deleting: [(kind: StoredResource.Kind, name: String)]) async throws {
        let now = Date().timeIntervalSince1970
        try await pool.write { db in
            for (kind, name) in deleting {
                try db.execute(literal: "DELETE FROM resource WHERE kind = \(kind.rawValue) AND name = \(name)")
            }
            for item in items {
                try db.execute(literal: """
                    INSERT INTO resource (kind, name, team, body, updatedAt)
                    VALUES (\(item.kind.rawValue), \(item.name), \(item.team), \(item.body.jsonText), \(now))
                    ON CONFLICT (kind, name) DO UPDATE SET team = excluded.team, body = excluded.body, updatedAt = excluded.updatedAt
                    """)
            }
        }
    }
}
