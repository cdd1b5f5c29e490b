import GRDB

extension SQLiteStore {
    /// Append-only: a shipped migration is never edited; change the schema
    /// with a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "event") { t in
                t.column("row", .integer).primaryKey(autoincrement: true)
                t.column("eventID", .text).notNull()
                t.column("team", .text).notNull()
                t.column("alertKey", .text).notNull()
                t.column("body", .blob).notNull()
                t.column("receivedAt", .double).notNull()
            }
            try db.create(table: "delivery") { t in
                t.column("id", .integer).primaryKey(autoincrement: true)
                t.column("eventRow", .integer).notNull().references("event", column: "row")
                t.column("endpoint", .text).notNull()
                t.column("policy", .text).notNull()
                t.column("level", .text).notNull()
                t.column("previousLevel", .text)
                t.column("status", .text).notNull()
                    .check { ["pending", "delivered", "dead"].contains($0) }
                t.column("attempts", .integer).notNull()
                t.column("notBefore", .double).notNull()
                t.column("lastError", .text)
                t.column("updatedAt", .double).notNull()
            }
            try db.create(index: "delivery_by_status", on: "delivery", columns: ["status", "id"])
            try db.create(index: "delivery_by_event", on: "delivery", columns: ["eventRow"])
            try db.create(table: "attempt") { t in
                t.column("deliveryID", .integer).notNull().references("delivery")
                t.column("attempt", .integer).notNull()
                t.column("startedAt", .double).notNull()
                t.column("finishedAt", .double).notNull()
                t.column("outcome", .text).notNull()
                t.column("reason", .text).notNull()
            }
            try db.create(index: "attempt_by_delivery", on: "attempt", columns: ["deliveryID"])
            try db.create(table: "throttle") { t in
                t.column("endpoint", .text).notNull()
                t.column("policy", .text).notNull()
                t.column("objectID", .text).notNull()
                t.column("lastPushAt", .double).notNull()
                t.column("pushes", .integer).notNull()
                t.column("lastLevel", .text).notNull()
                t.primaryKey(["endpoint", "policy", "objectID"])
            }
            try db.create(table: "autoClear") { t in
                t.column("alertKey", .text).primaryKey()
                t.column("eventRow", .integer).notNull().references("event", column: "row")
                t.column("deadline", .double).notNull()
            }
            try db.create(index: "autoClear_by_deadline", on: "autoClear", columns: ["deadline"])
        }
        migrator.registerMigration("v2: hub events by id") { db in
            // Partial: only the ids the ingest hub looks up (Event.hubIDPrefix),
            // so other events pay nothing for it. Queries repeat the condition.
            try db.execute(sql: """
                CREATE INDEX event_by_hub_id ON event(team, eventID) WHERE \(SQLiteStore.hubIDCondition)
                """)
        }
        migrator.registerMigration("v3: crash marks") { db in
            // After an unclean stop, deliveries go out in marked groups: the
            // mark is the group's size, so a crash of the daemon is blamed on
            // the group (suspectGroup) and, once it is one, on the delivery.
            try db.alter(table: "delivery") { t in
                t.add(column: "crashes", .integer).notNull().defaults(to: 0)
                t.add(column: "inFlightMark", .integer).notNull().defaults(to: 0)
                t.add(column: "suspectGroup", .integer).notNull().defaults(to: 0)
            }
            try db.create(table: "meta") { t in
                t.column("key", .text).primaryKey()
                t.column("value", .text).notNull()
            }
        }
        migrator.registerMigration("v4: fallbacks") { db in
            // A fallback delivery points at the dead one it stands in for.
            try db.alter(table: "delivery") { t in
                t.add(column: "fallbackOf", .integer).references("delivery")
                t.add(column: "fallbackFrom", .text)
                t.add(column: "fallbackReason", .text)
            }
            // Keys whose last firing push went to the fallbacks: their recovery follows it.
            try db.create(table: "fallbackKey") { t in
                t.column("endpoint", .text).notNull()
                t.column("policy", .text).notNull()
                t.column("objectID", .text).notNull()
                t.primaryKey(["endpoint", "policy", "objectID"])
            }
        }
        migrator.registerMigration("v5: cancelled deliveries") { db in
            // A deleted endpoint's pending deliveries end as `cancelled`. SQLite
            // cannot change a CHECK constraint: the table is rebuilt (once, at
            // upgrade), keeping every row, id and index.
            try db.create(table: "delivery_v5") { t in
                t.column("id", .integer).primaryKey(autoincrement: true)
                t.column("eventRow", .integer).notNull().references("event", column: "row")
                t.column("endpoint", .text).notNull()
                t.column("policy", .text).notNull()
                t.column("level", .text).notNull()
                t.column("previousLevel", .text)
                t.column("status", .text).notNull()
                    .check { ["pending", "delivered", "dead", "cancelled"].contains($0) }
                t.column("attempts", .integer).notNull()
                t.column("notBefore", .double).notNull()
                t.column("lastError", .text)
                t.column("updatedAt", .double).notNull()
                t.column("crashes", .integer).notNull().defaults(to: 0)
                t.column("inFlightMark", .integer).notNull().defaults(to: 0)
                t.column("suspectGroup", .integer).notNull().defaults(to: 0)
                t.column("fallbackOf", .integer).references("delivery")
                t.column("fallbackFrom", .text)
                t.column("fallbackReason", .text)
            }
            let columns = """
                id, eventRow, endpoint, policy, level, previousLevel, status, attempts, notBefore, lastError, updatedAt,
                crashes, inFlightMark, suspectGroup, fallbackOf, fallbackFrom, fallbackReason
                """
            try db.execute(sql: "INSERT INTO delivery_v5 (\(columns)) SELECT \(columns) FROM delivery")
            try db.drop(table: "delivery")
            try db.rename(table: "delivery_v5", to: "delivery")
            try db.create(index: "delivery_by_status", on: "delivery", columns: ["status", "id"])
            try db.create(index: "delivery_by_event", on: "delivery", columns: ["eventRow"])
        }
        migrator.registerMigration("v6: explain") { db in
            // Why an endpoint's rules held a push back, per event, for explain;
            // the pushes themselves are the delivery rows.
            try db.create(table: "suppression") { t in
                t.column("eventRow", .integer).notNull().references("event", column: "row")
                t.column("endpoint", .text).notNull()
                t.column("policy", .text).notNull()
                t.column("reason", .text).notNull()
            }
            try db.create(index: "suppression_by_event", on: "suppression", columns: ["eventRow"])
            // Explain finds any event by its id; this serves the hub's lookups too.
            try db.execute(sql: "DROP INDEX event_by_hub_id")
            try db.create(index: "event_by_id", on: "event", columns: ["team", "eventID"])
        }
        migrator.registerMigration("v7: resources") { db in
            // Teams, endpoints and policies made through the API: their JSON
            // as given, merged with the config file's at every load.
            try db.create(table: "resource") { t in
                t.column("kind", .text).notNull()
                t.column("name", .text).notNull()
                t.column("team", .text).notNull()
                t.column("body", .text).notNull()
                t.column("updatedAt", .double).notNull()
                t.primaryKey(["kind", "name"])
            }
        }
        return migrator
    }
}
