import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

/// A handling unit (承办单位) of the district's directory, as staff see it (contacts included;
/// they are never published).
struct UnitRecord: Codable, Sendable, Hashable {
    struct Contact: Codable, Sendable, Hashable {
        var name: String
        var phone: String?
        var role: String?
    }

    var id: UUID
    var code: String
    var name: String
    var kind: HandlingUnit.Kind
    var domains: [String]
    var keywords: [String]
    var contacts: [Contact]
    var active: Bool
    var version: Int
    var updatedAt: Date
    var updatedBy: String

    var profile: UnitProfile {
        UnitProfile(id: id, code: code, name: name, domains: Set(domains), keywords: keywords, isActive: active)
    }
}

/// The body of `POST /v1/assignment/units` and `PUT /v1/assignment/units/:id`.
struct UnitInput: Decodable, Sendable {
    var code: String?
    var name: String?
    var kind: String?
    var domains: [String]?
    var keywords: [String]?
    var contacts: [UnitRecord.Contact]?
    var active: Bool?
    /// The version the edit starts from (updates only): a newer saved version answers 409.
    var basedOn: Int?

    struct Valid: Sendable {
        var code: String
        var name: String
        var kind: HandlingUnit.Kind
        var domains: [String]
        var keywords: [String]
        var contacts: [UnitRecord.Contact]
        var active: Bool
    }

    func validated() throws -> Valid {
        let code = try FieldText.required(self.code, "code", limit: 40, multiline: false)
        guard code.range(of: "^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$", options: .regularExpression) != nil else {
            throw APIError.invalid("code", "2-40 lower-case letters, digits or hyphens, e.g. haizhu-transport")
        }
        let name = try FieldText.required(self.name, "name", limit: 100, multiline: false)
        let kinds = HandlingUnit.Kind.allCases.map(\.rawValue).joined(separator: ", ")
        guard let kindText = self.kind else { throw APIError.invalid("kind", "is required (one of \(kinds))") }
        guard let kind = HandlingUnit.Kind(rawValue: kindText) else { throw APIError.invalid("kind", "must be one of \(kinds)") }
        var domains: [String] = []
        for (index, domain) in (self.domains ?? []).enumerated() {
            let field = "domains[\(index)]"
            let cleaned = try FieldText.required(domain, field, limit: 40, multiline: false)
            guard !domains.contains(cleaned) else { throw APIError.invalid(field, "\(cleaned) is listed twice") }
            domains.append(cleaned)
        }
        guard domains.count <= 20 else { throw APIError.invalid("domains", "at most 20 domains") }
        var keywords: [String] = []
        for (index, keyword) in (self.keywords ?? []).enumerated() {
            let field = "keywords[\(index)]"
            let cleaned = try FieldText.required(keyword, field, limit: 20, multiline: false)
            guard ComparableText.of(cleaned).unicodeScalars.count >= 2 else {
                throw APIError.invalid(field, "a keyword needs at least two letters or characters")
            }
            guard !keywords.contains(cleaned) else { throw APIError.invalid(field, "\(cleaned) is listed twice") }
            keywords.append(cleaned)
        }
        guard keywords.count <= 100 else { throw APIError.invalid("keywords", "at most 100 keywords") }
        var contacts: [UnitRecord.Contact] = []
        for (index, contact) in (self.contacts ?? []).enumerated() {
            contacts.append(
                UnitRecord.Contact(
                    name: try FieldText.required(contact.name, "contacts[\(index)].name", limit: 50, multiline: false),
                    phone: try FieldText.optional(contact.phone, "contacts[\(index)].phone", limit: 30, multiline: false),
                    role: try FieldText.optional(contact.role, "contacts[\(index)].role", limit: 50, multiline: false)))
        }
        guard contacts.count <= 10 else { throw APIError.invalid("contacts", "at most 10 contacts") }
        return Valid(code: code, name: name, kind: kind, domains: domains, keywords: keywords, contacts: contacts, active: active ?? true)
    }
}

struct UnitVersion: Codable, Sendable {
    var version: Int
    var changedAt: Date
    var changedBy: String
    var unit: UnitRecord
}

/// The district's handling-unit directory in PostgreSQL. Every save is a new version, kept.
struct HandlingUnitRepository: Sendable {
    let database: Database

    static let columns = "id, code, name, kind, domains, keywords, contacts::text, active, version, updated_at, updated_by"

    static func units(where condition: PostgresQuery, forUpdate: Bool = false, in transaction: Transaction) async throws -> [UnitRecord] {
        let query = PostgresQuery(
            "SELECT \(columns) FROM handling_units WHERE", condition: condition, tail: forUpdate ? "FOR UPDATE" : "ORDER BY code")
        var units: [UnitRecord] = []
        let rows = try await transaction.query(query)
        for try await (id, code, name, kind, domains, keywords, contacts, active, version, updatedAt, updatedBy)
            in rows.decode((UUID, String, String, String, [String], [String], String, Bool, Int, Date, String).self)
        {
            units.append(
                UnitRecord(
                    id: id, code: code, name: name, kind: HandlingUnit.Kind(rawValue: kind) ?? .districtDepartment,
                    domains: domains, keywords: keywords,
                    contacts: (try? JSONDecoder().decode([UnitRecord.Contact].self, from: Data(contacts.utf8))) ?? [],
                    active: active, version: version, updatedAt: updatedAt, updatedBy: updatedBy))
        }
        return units
    }

    /// Every unit of the district (the transaction is scoped to it).
    static func all(in transaction: Transaction) async throws -> [UnitRecord] {
        try await units(where: "true", in: transaction)
    }

    func list(in district: DistrictCode, includeInactive: Bool) async throws -> [UnitRecord] {
        try await database.transaction(.district(district)) { transaction in
            try await Self.units(where: includeInactive ? "true" : "active", in: transaction)
        }
    }

    func unit(_ id: UUID, in district: DistrictCode) async throws -> UnitRecord? {
        try await database.transaction(.district(district)) { transaction in
            try await Self.units(where: "id = \(id)", in: transaction).first
        }
    }

    func create(_ input: UnitInput, by claims: StaffClaims, now: Date = Date()) async throws -> UnitRecord {
        let valid = try input.validated()
        let district = claims.district
        return try await database.transaction(.district(district)) { transaction in
            for try await _ in try await transaction.query("SELECT 1 FROM handling_units WHERE code = \(valid.code)") {
                throw APIError(.conflict, code: "duplicate-code", message: "a unit with code \(valid.code) exists", field: "code")
            }
            let unit = UnitRecord(
                id: UUID(), code: valid.code, name: valid.name, kind: valid.kind, domains: valid.domains, keywords: valid.keywords,
                contacts: valid.contacts, active: valid.active, version: 1, updatedAt: now, updatedBy: claims.subject)
            try await transaction.execute(
                """
                INSERT INTO handling_units (id, district, code, name, kind, domains, keywords, contacts, active, version, updated_at, updated_by)
                VALUES (\(unit.id), \(district.rawValue), \(unit.code), \(unit.name), \(unit.kind.rawValue), \(unit.domains),
                        \(unit.keywords), \(try Self.json(unit.contacts))::jsonb, \(unit.active), 1, \(now), \(claims.subject))
                """)
            try await Self.recordVersion(unit, district: district, in: transaction)
            try await AuditTrail.record(
                "unit-created", "handling-unit", unit.id.uuidString.lowercased(), after: AuditTrail.json(unit),
                district: district, at: now, in: transaction)
            return unit
        }
    }

    func update(_ id: UUID, _ input: UnitInput, by claims: StaffClaims, now: Date = Date()) async throws -> UnitRecord {
        let valid = try input.validated()
        guard let basedOn = input.basedOn else { throw APIError.invalid("basedOn", "is required: the version this edit starts from") }
        let district = claims.district
        return try await database.transaction(.district(district)) { transaction in
            guard let current = try await Self.units(where: "id = \(id)", forUpdate: true, in: transaction).first else { throw APIError.notFound }
            guard current.version == basedOn else {
                throw APIError(
                    .conflict, code: "stale-version",
                    message: "version \(current.version) was saved after \(basedOn); reload and edit again", field: "basedOn")
            }
            if valid.code != current.code {
                for try await _ in try await transaction.query("SELECT 1 FROM handling_units WHERE code = \(valid.code)") {
                    throw APIError(.conflict, code: "duplicate-code", message: "a unit with code \(valid.code) exists", field: "code")
                }
            }
            let unit = UnitRecord(
                id: id, code: valid.code, name: valid.name, kind: valid.kind, domains: valid.domains, keywords: valid.keywords,
                contacts: valid.contacts, active: valid.active, version: current.version + 1, updatedAt: now, updatedBy: claims.subject)
            try await transaction.execute(
                """
                UPDATE handling_units SET code = \(unit.code), name = \(unit.name), kind = \(unit.kind.rawValue), domains = \(unit.domains),
                       keywords = \(unit.keywords), contacts = \(try Self.json(unit.contacts))::jsonb, active = \(unit.active),
                       version = \(unit.version), updated_at = \(now), updated_by = \(claims.subject)
                WHERE id = \(id)
                """)
            try await Self.recordVersion(unit, district: district, in: transaction)
            try await AuditTrail.record(
                unit.active == current.active ? "unit-changed" : unit.active ? "unit-activated" : "unit-deactivated",
                "handling-unit", id.uuidString.lowercased(), before: AuditTrail.json(current),
                after: AuditTrail.json(unit), district: district, at: now, in: transaction)
            return unit
        }
    }

    func versions(of id: UUID, in district: DistrictCode) async throws -> [UnitVersion]? {
        try await database.transaction(.district(district)) { transaction in
            var versions: [UnitVersion] = []
            let rows = try await transaction.query(
                """
                SELECT version, changed_at, changed_by, snapshot::text FROM handling_unit_versions WHERE unit_id = \(id) ORDER BY version
                """)
            for try await (version, changedAt, changedBy, snapshot) in rows.decode((Int, Date, String, String).self) {
                let unit = try Self.decoder.decode(UnitRecord.self, from: Data(snapshot.utf8))
                versions.append(UnitVersion(version: version, changedAt: changedAt, changedBy: changedBy, unit: unit))
            }
            return versions.isEmpty ? nil : versions
        }
    }

    static func recordVersion(_ unit: UnitRecord, district: DistrictCode, in transaction: Transaction) async throws {
        try await transaction.execute(
            """
            INSERT INTO handling_unit_versions (unit_id, version, district, snapshot, changed_at, changed_by)
            VALUES (\(unit.id), \(unit.version), \(district.rawValue), \(try json(unit))::jsonb, \(unit.updatedAt), \(unit.updatedBy))
            """)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
