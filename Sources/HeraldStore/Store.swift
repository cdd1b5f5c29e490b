import Foundation
public import HeraldCore

/// Identifies one throttle key: (endpoint, policy, monitored object).
public struct ThrottleKey: Sendable, Hashable {
    public let endpoint: String
    public let policy: String
    public let objectID: String

    public init(endpoint: String, policy: String, objectID: String) {
        self.endpoint = endpoint
        self.policy = policy
        self.objectID = objectID
    }
}

/// A delivery to create: one push of one event, as the router and throttle decided.
public struct NewDelivery: Sendable {
    public let eventIndex: Int
    public let endpoint: String
    public let policy: String
    public let level: Level
    public let previousLevel: Level?

    public init(eventIndex: Int, endpoint: String, policy: String, level: Level, previousLevel: Level?) {
        self.eventIndex = eventIndex
        self.endpoint = endpoint
        self.policy = policy
        self.level = level
        self.previousLevel = previousLevel
    }
}

/// A push an endpoint's rules held back, kept so `explain` can say why.
public struct NewSuppression: Sendable {
    public let eventIndex: Int
    public let endpoint: String
    public let policy: String
    /// `level_filtered`, `push_cycle`, `push_frequency`, `recovery_without_firing`.
    public let reason: String

    public init(eventIndex: Int, endpoint: String, policy: String, reason: String) {
        self.eventIndex = eventIndex
        self.endpoint = endpoint
        self.policy = policy
        self.reason = reason
    }
}

/// Everything one ingest commit writes, in one transaction.
public struct IngestBatch: Sendable {
    public var events: [Event] = []
    public var deliveries: [NewDelivery] = []
    public var suppressions: [NewSuppression] = []
    /// nil state: the key is forgotten (after a recovery).
    public var throttle: [ThrottleKey: ThrottleState?] = [:]
    /// Firing alerts with an auto-clear deadline (Unix seconds), by alert key.
    public var armTimeouts: [String: (eventIndex: Int, deadline: Double)] = [:]
    /// Alert keys whose auto-clear is no longer due (resolved).
    public var disarmTimeouts: Set<String> = []
    /// Armed auto-clear deadlines to move later, never earlier, by alert
    /// key: a sender's repeat saying the alert still goes on.
    public var extendTimeouts: [String: Double] = [:]

    public init() {}
    public var isEmpty: Bool { events.isEmpty }
}

/// A delivery waiting to be attempted, with what its worker needs.
public struct PendingDelivery: Sendable {
    public let id: Int64
    public let push: Push
    /// Attempts already made (0 for a new delivery).
    public let attempts: Int
    /// Unix seconds before which it must not be tried.
    public let notBefore: Double

    /// The stable id plugins see for delivery row `id` (the same on every
    /// attempt and after restarts).
    public static func deliveryID(_ id: Int64) -> String { "herald-\(id)" }

    /// Unix seconds when its event was accepted: how long it has waited.
    public let createdAt: Double

    public init(id: Int64, push: Push, attempts: Int, notBefore: Double, createdAt: Double) {
        self.id = id
        self.push = push
        self.attempts = attempts
        self.notBefore = notBefore
        self.createdAt = createdAt
    }

    /// The same delivery, its attempts and time moved on.
    public func with(attempts: Int, notBefore: Double) -> PendingDelivery {
        PendingDelivery(id: id, push: push, attempts: attempts, notBefore: notBefore, createdAt: createdAt)
    }
}

/// The outcome of one attempt, and what it means for the delivery.
public struct AttemptRecord: Sendable {
    public enum Next: Sendable, Equatable {
        case delivered
        case retryAt(Double)
        /// Pending, held while its endpoint is down: its retry count stays.
        case held
        case dead
    }

    public let deliveryID: Int64
    public let attempt: Int
    public let startedAt: Double
    public let finishedAt: Double
    public let outcome: DeliveryOutcome
    public let next: Next
    /// With `.dead`: endpoints that get the delivery instead (its endpoint's
    /// fallbacks), each as a new pending delivery linked to this one.
    public var fallback: Fallback?
    /// A change to the keys whose firing push went to the fallbacks.
    public var fallbackKey: FallbackKeyChange?

    public init(deliveryID: Int64, attempt: Int, startedAt: Double, finishedAt: Double, outcome: DeliveryOutcome,
                next: Next, fallback: Fallback? = nil, fallbackKey: FallbackKeyChange? = nil) {
        self.deliveryID = deliveryID
        self.attempt = attempt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.next = next
        self.fallback = fallback
        self.fallbackKey = fallbackKey
    }
}

/// Where a dead delivery goes instead: the push, to each of `endpoints`.
public struct Fallback: Sendable {
    public let push: Push
    public let endpoints: [String]
    /// Why the delivery died, as the fallback deliveries carry it.
    public let reason: String
    /// When its event was accepted.
    public let createdAt: Double

    public init(push: Push, endpoints: [String], reason: String, createdAt: Double) {
        self.push = push
        self.endpoints = endpoints
        self.reason = reason
        self.createdAt = createdAt
    }
}

/// A key (endpoint, policy, object) whose last firing push went to the
/// endpoint's fallbacks, so its recovery follows it there; or no longer.
public enum FallbackKeyChange: Sendable, Equatable {
    case fellBack(ThrottleKey)
    case cleared(ThrottleKey)
}

extension Store {
    /// `commit` of a batch planned beforehand.
    public func commit(_ batch: IngestBatch, attempts: [AttemptRecord], marks: [Int64: Int]) async throws -> CommitResult {
        try await commit(attempts: attempts, marks: marks, lookups: HubLookups()) { _ in (batch, ()) }.0
    }
}

/// What a commit reads before its batch is planned (see `Store.commit`).
public struct HubLookups: Sendable {
    /// Team → event ids whose newest stored status is wanted.
    public var ids: [String: [String]] = [:]
    /// Team → id prefixes of alerts (`OpenAlert.prefix`) whose open instance is wanted.
    public var openPrefixes: [String: [String]] = [:]

    public init() {}
}

/// What a commit found for its `HubLookups`.
public struct HubFindings: Sendable {
    /// Team → id → the status of the team's newest event with that id.
    public var statuses: [String: [String: EventStatus]] = [:]
    /// Team → prefix → the newest event of the newest instance with that
    /// prefix, when it is firing.
    public var open: [String: [String: Event]] = [:]

    public init() {}
}

/// What one commit made.
public struct CommitResult: Sendable {
    /// The new deliveries' ids, in `batch.deliveries` order.
    public var deliveryIDs: [Int64] = []
    /// The fallback deliveries made for dead ones, ready to hand over.
    public var fallbacks: [PendingDelivery] = []

    public init(deliveryIDs: [Int64] = [], fallbacks: [PendingDelivery] = []) {
        self.deliveryIDs = deliveryIDs
        self.fallbacks = fallbacks
    }
}

/// A delivery's state as the history and dead-letter listings show it.
public struct DeliverySummary: Sendable, Encodable {
    public let id: Int64
    public let eventID: String
    public let team: String
    public let endpoint: String
    public let policy: String
    public let level: String
    public let status: String
    public let attempts: Int
    public let lastError: String?
    /// For a fallback delivery: the id of the dead delivery it stands in for.
    public let fallbackOf: Int64?
    /// When its event was stored, and when the delivery last changed (Unix seconds).
    public let createdAt: Double
    public let updatedAt: Double

    enum CodingKeys: String, CodingKey {
        case id, eventID = "event_id", team, endpoint, policy, level, status, attempts, lastError = "last_error"
        case fallbackOf = "fallback_of", createdAt = "created_at", updatedAt = "updated_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(eventID, forKey: .eventID)
        try c.encode(team, forKey: .team)
        try c.encode(endpoint, forKey: .endpoint)
        try c.encode(policy, forKey: .policy)
        try c.encode(level, forKey: .level)
        try c.encode(status, forKey: .status)
        try c.encode(attempts, forKey: .attempts)
        try c.encodeIfPresent(lastError, forKey: .lastError)
        try c.encodeIfPresent(fallbackOf, forKey: .fallbackOf)
        try c.encode(Timestamp.iso8601(Date(timeIntervalSince1970: createdAt)), forKey: .createdAt)
        try c.encode(Timestamp.iso8601(Date(timeIntervalSince1970: updatedAt)), forKey: .updatedAt)
    }
}

/// One attempt as the delivery history shows it.
public struct AttemptSummary: Sendable, Encodable {
    public let attempt: Int
    public let outcome: String
    public let reason: String
    public let startedAt: Double
    public let finishedAt: Double

    enum CodingKeys: String, CodingKey {
        case attempt, outcome, reason, startedAt = "started_at", finishedAt = "finished_at", durationSeconds = "duration_seconds"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(attempt, forKey: .attempt)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(reason, forKey: .reason)
        try c.encode(Timestamp.iso8601(Date(timeIntervalSince1970: startedAt)), forKey: .startedAt)
        try c.encode(Timestamp.iso8601(Date(timeIntervalSince1970: finishedAt)), forKey: .finishedAt)
        try c.encode(max(0, finishedAt - startedAt), forKey: .durationSeconds)
    }
}

/// Which deliveries a history listing wants: newest first, a page at a time.
public struct DeliveryQuery: Sendable {
    /// nil: every team's (an admin).
    public var team: String?
    public var status: String?
    public var endpoint: String?
    public var eventID: String?
    /// Its event stored at or after / before these (Unix seconds).
    public var since: Double?
    public var until: Double?
    /// Only ids below this: the next page after one that ended there.
    public var before: Int64?
    public var limit: Int

    public init(team: String? = nil, status: String? = nil, endpoint: String? = nil, eventID: String? = nil,
                since: Double? = nil, until: Double? = nil, before: Int64? = nil, limit: Int = 100) {
        self.team = team
        self.status = status
        self.endpoint = endpoint
        self.eventID = eventID
        self.since = since
        self.until = until
        self.before = before
        self.limit = limit
    }
}

/// What became of one stored event: `GET /api/v1/events/{id}`.
public struct ExplainedEvent: Sendable, Encodable {
    /// When Herald stored it, RFC 3339.
    public let receivedAt: String
    /// The event as stored.
    public let event: JSONValue
    /// Each (policy, endpoint) its policies sent it to, pushed or not.
    public let routes: [ExplainedRoute]

    enum CodingKeys: String, CodingKey { case receivedAt = "received_at", event, routes, routed }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(receivedAt, forKey: .receivedAt)
        try c.encode(event, forKey: .event)
        // false: it matched no policy.
        try c.encode(!routes.isEmpty, forKey: .routed)
        try c.encode(routes, forKey: .routes)
    }
}

public struct ExplainedRoute: Sendable, Encodable {
    public let policy: String
    public let endpoint: String
    /// `pushed`, or why not: `level_filtered`, `push_cycle`,
    /// `push_frequency`, `recovery_without_firing`.
    public let outcome: String
    public let delivery: DeliverySummary?
    public let attempts: [AttemptSummary]
}

/// A team, endpoint or policy made through the API, as stored.
public struct StoredResource: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case team, endpoint, policy
    }

    public let kind: Kind
    public let name: String
    public let team: String
    /// The item as JSON, in the config file's shape.
    public let body: JSONValue

    public init(kind: Kind, name: String, team: String, body: JSONValue) {
        self.kind = kind
        self.name = name
        self.team = team
        self.body = body
    }
}

/// Where Herald keeps what must survive a crash: events, the outbox of
/// deliveries, their attempts, throttle state and auto-clear deadlines.
///
/// Implementations make each call one transaction.
public protocol Store: Sendable {
    /// In one transaction: reads what `lookups` asks (the status of the
    /// team's newest event with each id it has; each alert's open instance),
    /// asks `plan` for the batch to write given those (how a sender's
    /// repeats are told from news: read where nothing else can write in
    /// between), writes its
    /// events with their deliveries, records attempts (moving each delivery
    /// to its next state, clearing its in-flight mark and suspicion, making
    /// the fallback deliveries of dead ones) and sets in-flight marks
    /// (delivery id → the size of the group it goes out in). Only ids with
    /// `Event.hubIDPrefix` are looked up (and indexed); others are never found.
    func commit<Planned: Sendable>(
        attempts: [AttemptRecord], marks: [Int64: Int], lookups: HubLookups,
        plan: @escaping @Sendable (HubFindings) throws -> (IngestBatch, Planned)
    ) async throws -> (CommitResult, Planned)
    /// Up to `limit` pending deliveries of one endpoint with ids above
    /// `afterID`, oldest first: how a worker pages in what it let spill.
    func pendingDeliveries(endpoint: String, afterID: Int64, limit: Int) async throws -> [PendingDelivery]
    func throttleStates() async throws -> [ThrottleKey: ThrottleState]
    /// Firing alerts whose auto-clear deadline has passed.
    func expiredAlerts(now: Double) async throws -> [Event]
    func deliveries(_ query: DeliveryQuery) async throws -> [DeliverySummary]
    func attempts(deliveryID: Int64) async throws -> [AttemptSummary]
    func delivery(id: Int64) async throws -> DeliverySummary?
    /// Sets dead deliveries of these endpoints back to pending (a team's,
    /// or every team's for nil; all, or those with `ids`), up to `limit`
    /// of them with ids above `afterID`, oldest first; returns them.
    func replayDead(team: String?, ids: [Int64]?, endpoints: [String], afterID: Int64, limit: Int) async throws
        -> [PendingDelivery]
    /// Deletes up to `limit` events stored before `cutoff` whose deliveries
    /// have all ended (delivered, dead or cancelled) and whose auto-clear
    /// is not armed, with their deliveries, attempts and suppressions;
    /// returns how many events went.
    func prune(storedBefore cutoff: Double, limit: Int) async throws -> Int
    /// The team's newest event with this id (an id with `Event.hubIDPrefix`).
    func latestEvent(team: String, id: String) async throws -> Event?
    /// Marks the start of a daemon's run; tells whether the last one ended
    /// without `endRun` (a crash), and then blames the deliveries marked in
    /// flight: one marked alone has its crash count raised (and at
    /// `poisonAfter` is dead as poison); those marked in a group become
    /// suspects of that group's size.
    func beginRun(poisonAfter: Int) async throws -> RunStart
    /// Marks a clean end of the run.
    func endRun() async throws
    /// Remembers an endpoint as down since `since` (nil: up again), so a
    /// restart holds its deliveries and probes instead of trying them all.
    func setEndpointDown(_ endpoint: String, since: Double?) async throws
    /// Endpoints down when the last run stopped: name → since.
    func endpointsDown() async throws -> [String: Double]
    /// Pending deliveries of one endpoint.
    func pendingCount(endpoint: String) async throws -> Int
    /// The keys of one endpoint whose last firing push went to its fallbacks.
    func fallbackKeys(endpoint: String) async throws -> Set<ThrottleKey>
    /// The team's events with this id (newest first, at most `limit`), each
    /// with where it went and why not.
    func explain(team: String, eventID: String, limit: Int) async throws -> [ExplainedEvent]
    /// Every team, endpoint and policy made through the API.
    func resources() async throws -> [StoredResource]
    /// Writes these items and deletes those named in `deleting`, in one transaction.
    func saveResources(_ items: [StoredResource], deleting: [(kind: StoredResource.Kind, name: String)]) async throws
    /// Ends the pending deliveries of a deleted endpoint as `cancelled`,
    /// with the reason; returns how many.
    func cancelPending(endpoint: String, reason: String) async throws -> Int
}

/// What `beginRun` found.
public struct RunStart: Sendable {
    /// The last run ended without `endRun`: the daemon crashed (or was killed).
    public let unclean: Bool
    /// Deliveries dead-lettered now as poison.
    public let poisoned: [Int64]
    /// The highest pending delivery id at the start (0 when none).
    public let lastPendingID: Int64
    /// Pending deliveries that were in flight in a group when the daemon
    /// crashed: delivery id → the group's size.
    public let suspects: [Int64: Int]

    public init(unclean: Bool, poisoned: [Int64], lastPendingID: Int64, suspects: [Int64: Int]) {
        self.unclean = unclean
        self.poisoned = poisoned
        self.lastPendingID = lastPendingID
        self.suspects = suspects
    }
}

extension Store {
    public func deliveries(team: String?, status: String?, limit: Int) async throws -> [DeliverySummary] {
        try await deliveries(DeliveryQuery(team: team, status: status, limit: limit))
    }
}
