import Foundation
import Models
import PostgresNIO

/// The audit trail (审计日志): every change a person makes is recorded by the service that makes
/// it, in the transaction of the change, so there is no change without its record and no record
/// of a change that did not happen. The table refuses updates and deletes.
public struct AuditEntry: Sendable {
    public var actor: String
    /// The client's address as the service saw it (the workbench passes the browser's on).
    public var address: String?
    public var action: String
    public var objectType: String
    public var objectID: String?
    /// For settings, rules, units, calendars, endpoints and accounts: the value before and after,
    /// as JSON text (nothing secret: no password hash, no token).
    public var before: String?
    public var after: String?

    public init(
        actor: String, address: String? = nil, action: String, objectType: String, objectID: String? = nil,
        before: String? = nil, after: String? = nil
    ) {
        self.actor = actor
        self.address = address
        self.action = action
        self.objectType = objectType
        self.objectID = objectID
        self.before = before
        self.after = after
    }
}

/// Who is changing things in the request being served: set by the staff authentication of
/// every service (and the workbench for its own pages), read by `AuditTrail.record(_:…)`.
public struct AuditActor: Sendable {
    public var subject: String
    /// The client's address; for a call through the workbench, the browser's and the workbench's.
    public var address: String?

    public init(subject: String, address: String?) {
        self.subject = subject
        self.address = address
    }
}

public enum AuditTrail {
    /// The person behind the current request; nil for the system's own work (events, timers).
    @TaskLocal public static var actor: AuditActor?
    /// The service serving the request (set for every request by `ServiceApp`).
    @TaskLocal public static var service = "unknown"

    /// Records a change by the current request's person, in the transaction that makes it;
    /// nothing when the change is the system's own (no person behind it).
    public static func record(
        _ action: String, _ objectType: String, _ objectID: String?, before: String? = nil, after: String? = nil,
        district: DistrictCode, at now: Date = Date(), in transaction: Transaction
    ) async throws {
        guard let actor else { return }
        try await record(
            AuditEntry(
                actor: actor.subject, address: actor.address, action: action, objectType: objectType, objectID: objectID,
                before: before, after: after),
            service: service, district: district, at: now, in: transaction)
    }

    /// A value as the audit trail keeps it: JSON with sorted keys.
    public static func json(_ value: some Encodable) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
    }

    public static func record(
        _ entry: AuditEntry, service: String, district: DistrictCode, at now: Date, in transaction: Transaction
    ) async throws {
        try await transaction.execute(
            """
            INSERT INTO audit_log (district, at, actor, address, service, action, object_type, object_id, before, after)
            VALUES (\(district.rawValue), \(now), \(entry.actor), \(entry.address), \(service), \(entry.action), \(entry.objectType),
                    \(entry.objectID), \(entry.before)::jsonb, \(entry.after)::jsonb)
            """)
    }

    /// One recorded change, as the audit page shows it.
    public struct Record: Sendable, Codable {
        public var id: Int64
        public var at: Date
        public var actor: String
        public var address: String?
        public var service: String
        public var action: String
        public var objectType: String
        public var objectID: String?
        public var before: String?
        public var after: String?
    }

    /// The district's records matching every filter given, newest first.
    public static func search(
        actor: String?, objectType: String?, objectID: String?, action: String?, from: Date?, to: Date?, limit: Int, offset: Int,
        in transaction: Transaction
    ) async throws -> [Record] {
        var records: [Record] = []
        for try await row in try await transaction.query(
            """
            SELECT id, at, actor, address, service, action, object_type, object_id, before::text, after::text FROM audit_log
            WHERE (\(actor)::text IS NULL OR actor = \(actor)) AND (\(objectType)::text IS NULL OR object_type = \(objectType))
              AND (\(objectID)::text IS NULL OR object_id = \(objectID)) AND (\(action)::text IS NULL OR action = \(action))
              AND (\(from)::timestamptz IS NULL OR at >= \(from)) AND (\(to)::timestamptz IS NULL OR at < \(to))
            ORDER BY at DESC, id DESC
            LIMIT \(limit) OFFSET \(offset)
            """
        ).decode((Int64, Date, String, String?, String, String, String, String?, String?, String?).self) {
            records.append(
                Record(
                    id: row.0, at: row.1, actor: row.2, address: row.3, service: row.4, action: row.5, objectType: row.6,
                    objectID: row.7, before: row.8, after: row.9))
        }
        return records
    }
}
