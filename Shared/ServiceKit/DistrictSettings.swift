import Foundation
import Models
import Storage

/// A district's settings kept as JSON in a column of `districts` (`assignment_settings`,
/// `supervision_settings`): read and saved one way by every service. A district that does not
/// exist is `UnknownDistrict` (404 to a request, dead-lettered with its code for an event); a
/// stored document lacking fields decodes with the settings' defaults.
public struct DistrictSettings<Settings: Codable & Sendable>: Sendable {
    let column: String
    let auditObject: String

    /// `column`: a column of `districts` (a constant of the code, never input); `auditObject`: the
    /// object type the audit trail records a change under.
    public init(column: String, auditObject: String) {
        precondition(column.allSatisfy { $0.isLowercase || $0 == "_" }, "not a column name: \(column)")
        self.column = column
        self.auditObject = auditObject
    }

    public func load(of district: DistrictCode, in transaction: Transaction) async throws -> Settings {
        for try await json in try await transaction.query(
            "SELECT \(unescaped: column)::text FROM districts WHERE code = \(district.rawValue)"
        ).decode(String.self) {
            return try JSONDecoder().decode(Settings.self, from: Data(json.utf8))
        }
        throw UnknownDistrict(district)
    }

    /// Saves `settings` (checked by the caller) with an audit record of before and after.
    public func save(_ settings: Settings, for district: DistrictCode, in transaction: Transaction) async throws {
        let before = try await load(of: district, in: transaction)
        let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        // districts has no district policy of its own; the scope check is the WHERE.
        try await transaction.execute("UPDATE districts SET \(unescaped: column) = \(json)::jsonb WHERE code = \(district.rawValue)")
        try await AuditTrail.record(
            "settings-saved", auditObject, district.rawValue, before: AuditTrail.json(before), after: AuditTrail.json(settings),
            district: district, in: transaction)
    }
}
