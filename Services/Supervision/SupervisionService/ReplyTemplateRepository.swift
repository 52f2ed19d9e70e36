import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

struct ReplyTemplateInput: Decodable, Sendable {
    var name: String?
    var body: String?
}

struct ReplyTemplateView: Codable, Sendable {
    var id: UUID
    var name: String
    var body: String
    /// `district` (the committee's, offered to every unit) or `unit` (one unit's own).
    var scope: String
    var updatedAt: Date
    /// Whether the caller may change it: the committee the district's, a unit its own.
    var editable: Bool
}

/// Reply templates: the committee keeps the district's, each unit its own; a unit starts a reply
/// from one, filled with its assignment's case.
struct ReplyTemplateRepository: Sendable {
    let database: Database
    let clock: ServiceClock

    static let maximumPerScope = 100

    /// Whose templates the caller keeps: nil for the district's (committee), else the unit.
    static func scope(of claims: StaffClaims) throws -> UUID? {
        claims.role == .handlingUnit ? try HandlingRepository.unit(of: claims) : nil
    }

    /// The district's templates and, for a unit, its own.
    func list(for claims: StaffClaims) async throws -> [ReplyTemplateView] {
        let unit = try Self.scope(of: claims)
        return try await database.transaction(.district(claims.district)) { transaction in
            var views: [ReplyTemplateView] = []
            let rows = try await transaction.query(
                """
                SELECT id, name, body, unit_id, updated_at FROM reply_templates
                WHERE district = \(claims.district.rawValue) AND (unit_id IS NULL OR unit_id = \(unit))
                ORDER BY unit_id IS NULL, name
                """)
            for try await (id, name, body, owner, updated) in rows.decode((UUID, String, String, UUID?, Date).self) {
                views.append(
                    ReplyTemplateView(
                        id: id, name: name, body: body, scope: owner == nil ? "district" : "unit", updatedAt: updated,
                        editable: owner == unit))
            }
            return views
        }
    }

    static func validated(_ input: ReplyTemplateInput) throws -> (name: String, body: String) {
        let name = try FieldText.required(input.name, "name", limit: 60, multiline: false)
        let body = try FieldText.required(input.body, "body", limit: 20_000, multiline: true)
        let unknown = ReplyTemplate.unknownPlaceholders(in: body)
        guard unknown.isEmpty else {
            let known = ReplyTemplate.Placeholder.allCases.map { "{\($0.rawValue)}" }.joined(separator: " ")
            throw APIError.invalid("body", "unknown placeholder \(unknown.map { "{\($0)}" }.joined(separator: " ")); the placeholders are \(known)")
        }
        return (name, body)
    }

    /// Creates (`id` nil) or replaces one of the caller's own templates.
    func save(_ id: UUID?, _ input: ReplyTemplateInput, by claims: StaffClaims) async throws -> ReplyTemplateView {
        let (name, body) = try Self.validated(input)
        let unit = try Self.scope(of: claims)
        let now = clock.now
        return try await database.transaction(.district(claims.district)) { transaction in
            // One writer per scope at a time: the count and the name stay true.
            try await transaction.execute(
                "SELECT pg_advisory_xact_lock(7300000, hashtext(\(claims.district.rawValue) || coalesce(\(unit)::text, '')))")
            var clash = false
            for try await _ in try await transaction.query(
                """
                SELECT 1 FROM reply_templates WHERE district = \(claims.district.rawValue) AND unit_id IS NOT DISTINCT FROM \(unit)
                  AND name = \(name) AND id IS DISTINCT FROM \(id)
                """)
            { clash = true }
            if clash { throw APIError.invalid("name", "another template has this name") }
            let templateID: UUID
            if let id {
                var found = false
                for try await _ in try await transaction.query(
                    """
                    UPDATE reply_templates SET name = \(name), body = \(body), updated_at = \(now), updated_by = \(claims.subject)
                    WHERE id = \(id) AND unit_id IS NOT DISTINCT FROM \(unit) RETURNING 1
                    """)
                { found = true }
                guard found else { throw APIError.notFound }
                templateID = id
            } else {
                var count = 0
                for try await value in try await transaction.query(
                    """
                    SELECT count(*)::int FROM reply_templates WHERE district = \(claims.district.rawValue) AND unit_id IS NOT DISTINCT FROM \(unit)
                    """
                ).decode(Int.self) { count = value }
                guard count < Self.maximumPerScope else { throw APIError.invalid("name", "at most \(Self.maximumPerScope) templates are kept") }
                templateID = UUID()
                try await transaction.execute(
                    """
                    INSERT INTO reply_templates (id, district, unit_id, name, body, updated_at, updated_by)
                    VALUES (\(templateID), \(claims.district.rawValue), \(unit), \(name), \(body), \(now), \(claims.subject))
                    """)
            }
            try await AuditTrail.record(
                "reply-template-saved", "reply-template", templateID.uuidString.lowercased(),
                district: claims.district, at: now, in: transaction)
            return ReplyTemplateView(id: templateID, name: name, body: body, scope: unit == nil ? "district" : "unit", updatedAt: now, editable: true)
        }
    }

    func delete(_ id: UUID, by claims: StaffClaims) async throws {
        let unit = try Self.scope(of: claims)
        try await database.transaction(.district(claims.district)) { transaction in
            var found = false
            for try await _ in try await transaction.query(
                "DELETE FROM reply_templates WHERE id = \(id) AND unit_id IS NOT DISTINCT FROM \(unit) RETURNING 1")
            { found = true }
            guard found else { throw APIError.notFound }
            try await AuditTrail.record(
                "reply-template-deleted", "reply-template", id.uuidString.lowercased(),
                district: claims.district, at: clock.now, in: transaction)
        }
    }

    /// A reply to start from: template `id` (the district's or the unit's) filled with the unit's
    /// assignment `assignment`.
    func draft(_ id: UUID, for assignment: UUID, by claims: StaffClaims) async throws -> String {
        let unit = try HandlingRepository.unit(of: claims)
        return try await database.transaction(.district(claims.district)) { transaction in
            var body: String?
            for try await text in try await transaction.query(
                """
                SELECT body FROM reply_templates WHERE id = \(id) AND (unit_id IS NULL OR unit_id = \(unit))
                """
            ).decode(String.self) { body = text }
            guard let body else { throw APIError.invalid("template", "no such template") }
            var values: [ReplyTemplate.Placeholder: String] = [:]
            let rows = try await transaction.query(
                """
                SELECT a.case_number, p.title, a.unit_name, a.assigned_on, a.deadline
                FROM supervised_assignments a JOIN proposals p ON p.id = a.proposal_id
                WHERE a.assignment_id = \(assignment) AND a.unit_id = \(unit)
                """)
            var found = false
            for try await (number, title, unitName, assigned, deadline) in rows.decode((String, String, String, LocalDate?, LocalDate?).self) {
                found = true
                values[.caseNumber] = number
                values[.title] = title
                values[.unit] = unitName
                values[.assignedOn] = assigned?.description
                values[.deadline] = deadline?.description
            }
            guard found else { throw APIError.notFound }
            let settings = try await TimerRepository.settings(of: claims.district, in: transaction)
            values[.today] = LocalDate.on(clock.now, in: settings.zone).description
            return ReplyTemplate.fill(body, with: values)
        }
    }
}
