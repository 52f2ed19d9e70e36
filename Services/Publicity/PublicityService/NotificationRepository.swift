import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

/// A district's notifications as staff read and resend them, and where they go: the channels'
/// endpoints and the integrations' callbacks. Every change is in the audit trail; a secret is
/// recorded only as set.
struct NotificationRepository: Sendable {
    let database: Database

    struct NotificationView: Codable {
        var id: UUID
        var event: String
        var recipient: String
        var channel: String
        var target: String
        var state: String
        var attempts: Int
        var nextAttemptAt: Date
        var lastError: String?
        var createdAt: Date
        var deliveredAt: Date?
    }

    struct Endpoint: Encodable {
        var channel: String
        var url: String
        var active: Bool
        var updatedAt: Date
    }

    /// The newest notifications, optionally in one state or of one event, and the count in each state.
    func list(of district: DistrictCode, state: NotificationState?, event: UUID?, limit: Int) async throws
        -> (notifications: [NotificationView], counts: [String: Int])
    {
        let state = state?.rawValue
        return try await database.transaction(.district(district)) { transaction in
            var items: [NotificationView] = []
            let rows = try await transaction.query(
                """
                SELECT id, event, recipient, channel, target, state, attempts, next_attempt_at, last_error, created_at, delivered_at
                FROM notifications WHERE (\(state)::text IS NULL OR state = \(state)) AND (\(event)::uuid IS NULL OR event_id = \(event))
                ORDER BY created_at DESC, id LIMIT \(limit)
                """)
            for try await row in rows.decode((UUID, String, String, String, String, String, Int, Date, String?, Date, Date?).self) {
                items.append(
                    NotificationView(
                        id: row.0, event: row.1, recipient: row.2, channel: row.3, target: row.4, state: row.5, attempts: row.6,
                        nextAttemptAt: row.7, lastError: row.8, createdAt: row.9, deliveredAt: row.10))
            }
            var counts = Dictionary(uniqueKeysWithValues: NotificationState.allCases.map { ($0.rawValue, 0) })
            for try await (state, count) in try await transaction.query("SELECT state, count(*)::int FROM notifications GROUP BY state").decode(
                (String, Int).self)
            {
                counts[state] = count
            }
            return (items, counts)
        }
    }

    /// What became of a request to send a notification again.
    enum RetryOutcome {
        case unknown
        case queued
        /// Its content was deleted after the retention period.
        case pruned
        /// Only a dead-lettered one is sent again.
        case notDeadLettered(String)
    }

    /// Sends a dead-lettered notification again from its first attempt.
    func retry(_ id: UUID, in district: DistrictCode) async throws -> RetryOutcome {
        try await database.transaction(.district(district)) { transaction in
            let rows = try await transaction.query("SELECT state, body_pruned_at IS NOT NULL FROM notifications WHERE id = \(id) FOR UPDATE")
            var found: (state: String, pruned: Bool)?
            for try await (state, pruned) in rows.decode((String, Bool).self) { found = (state, pruned) }
            guard let found else { return .unknown }
            if found.pruned { return .pruned }
            guard found.state == NotificationState.dead.rawValue else { return .notDeadLettered(found.state) }
            try await transaction.execute(
                """
                UPDATE notifications SET state = \(NotificationState.pending.rawValue), attempts = 0, next_attempt_at = now(), last_error = NULL WHERE id = \(id)
                """)
            try await AuditTrail.record("notification-retried", "notification", id.uuidString.lowercased(), district: district, in: transaction)
            return .queued
        }
    }

    func endpoints(of district: DistrictCode) async throws -> [Endpoint] {
        try await database.transaction(.district(district)) { transaction in
            var endpoints: [Endpoint] = []
            for try await (channel, url, active, updatedAt) in try await transaction.query(
                "SELECT channel, url, active, updated_at FROM notification_endpoints ORDER BY channel"
            ).decode((String, String, Bool, Date).self) {
                endpoints.append(Endpoint(channel: channel, url: url, active: active, updatedAt: updatedAt))
            }
            return endpoints
        }
    }

    /// Sets where a channel's notifications go and the secret that signs them.
    func saveEndpoint(channel: String, url: String, secret: String, active: Bool, in district: DistrictCode) async throws {
        try await database.transaction(.district(district)) { transaction in
            var before: [String: String]?
            for try await (oldURL, active) in try await transaction.query(
                "SELECT url, active FROM notification_endpoints WHERE channel = \(channel) FOR UPDATE"
            ).decode((String, Bool).self) { before = ["url": oldURL, "active": String(active)] }
            // The secret is never recorded, only that one was set.
            try await AuditTrail.record(
                "endpoint-saved", "notification-endpoint", channel, before: before.flatMap { AuditTrail.json($0) },
                after: AuditTrail.json(["url": url, "active": String(active), "secret": "(set)"]),
                district: district, in: transaction)
            try await transaction.execute(
                """
                INSERT INTO notification_endpoints (district, channel, url, secret, active, updated_at)
                VALUES (\(district.rawValue), \(channel), \(url), \(secret), \(active), now())
                ON CONFLICT (district, channel) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret, active = EXCLUDED.active, updated_at = now()
                """)
        }
    }

    /// Sets (nil clears) where an integration of the district hears of its clues; false for a key
    /// the district does not have.
    func saveCallback(key: String, url: String?, in district: DistrictCode) async throws -> Bool {
        try await database.transaction(.district(district)) { transaction in
            let rows = try await transaction.query(
                """
                UPDATE integration_keys SET callback_url = \(url) WHERE key_id = \(key) AND \(district.rawValue) = ANY(districts) RETURNING key_id
                """)
            var found = false
            for try await _ in rows { found = true }
            if found {
                try await AuditTrail.record(
                    "callback-saved", "integration-callback", key, after: AuditTrail.json(["url": url ?? ""]), district: district, in: transaction)
            }
            return found
        }
    }
}
