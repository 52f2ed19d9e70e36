import ClassificationRules
import Foundation
import HTTPTypes
import Hummingbird
import Models
import NIOCore
import PostgresNIO
import ServiceKit
import Storage

/// A version of a district's classification rules.
struct RuleSetVersion: Codable, Sendable {
    var district: String
    /// 0: the built-in rules (the district has saved none).
    var version: Int
    var definition: RuleSet?
    var note: String
    var createdBy: String
    var createdAt: Date?
}

/// The body of `PUT /v1/triage/rules`.
struct RuleSetInput: Decodable, Sendable {
    var definition: RuleSet?
    var note: String?
    /// The version the edit started from; a save on top of a newer version is refused (409).
    var basedOn: Int?
}

/// A rule set refused at save time: 422 with every problem, each naming its rule, field and,
/// for match expressions, the 1-based character position.
struct RuleSetRejected: HTTPResponseError, Sendable {
    var problems: [RuleProblem]

    var status: HTTPResponse.Status { .unprocessableContent }

    struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var field: String?
        }
        var error: Detail
        var problems: [RuleProblem]
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let first = problems.first
        let field = first.map { "definition.\($0.rule).\($0.field)" }
        let message = first.map { "\($0.rule).\($0.field)\($0.position.map { " at \($0)" } ?? ""): \($0.message)" } ?? "invalid rules"
        let body = try EventCoding.encoder.encode(
            Body(
                error: .init(
                    code: "invalid-rules", message: problems.count > 1 ? "\(message) (and \(problems.count - 1) more)" : message, field: field),
                problems: problems))
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Each district edits its own rules; every save is a new version, in force for the next batch.
struct RuleSetRepository: Sendable {
    let database: Database
    let registrar: ClueRegistrar

    /// The rules in force, or with `version` that saved version (nil when the district has none such).
    func current(of district: DistrictCode, version wanted: Int? = nil) async throws -> RuleSetVersion? {
        try await database.transaction(.district(district)) { transaction in
            for try await (version, definition, note, by, at) in try await transaction.query(
                """
                SELECT version, definition::text, note, created_by, created_at FROM classification_rule_sets
                WHERE district = \(district.rawValue) AND (\(wanted)::int IS NULL OR version = \(wanted))
                ORDER BY version DESC LIMIT 1
                """
            ).decode((Int, String, String, String, Date).self) {
                return RuleSetVersion(
                    district: district.rawValue, version: version,
                    definition: try? JSONDecoder().decode(RuleSet.self, from: Data(definition.utf8)), note: note, createdBy: by, createdAt: at)
            }
            guard wanted == nil || wanted == 0 else { return nil }
            return RuleSetVersion(
                district: district.rawValue, version: 0, definition: RuleSet.builtIn, note: "built-in rules", createdBy: "system", createdAt: nil)
        }
    }

    func versions(of district: DistrictCode) async throws -> [RuleSetVersion] {
        try await database.transaction(.district(district)) { transaction in
            var versions: [RuleSetVersion] = []
            for try await (version, note, by, at) in try await transaction.query(
                """
                SELECT version, note, created_by, created_at FROM classification_rule_sets
                WHERE district = \(district.rawValue) ORDER BY version DESC
                """
            ).decode((Int, String, String, Date).self) {
                versions.append(
                    RuleSetVersion(district: district.rawValue, version: version, definition: nil, note: note, createdBy: by, createdAt: at))
            }
            return versions
        }
    }

    func save(_ input: RuleSetInput, by claims: StaffClaims, now: Date = Date()) async throws -> RuleSetVersion {
        guard let definition = input.definition else { throw APIError.invalid("definition", "is required (the whole rule set)") }
        let note = try FieldText.optional(input.note, "note", limit: 500, multiline: true) ?? ""
        do throws(RuleSetInvalid) {
            _ = try definition.compile()
        } catch {
            throw RuleSetRejected(problems: error.problems)
        }
        let district = claims.district
        let json = String(decoding: try JSONEncoder().encode(definition), as: UTF8.self)
        return try await database.transaction(.district(district)) { transaction in
            // One save at a time per district, so versions are consecutive and `basedOn` is checked.
            try await transaction.lock("triage-rules:" + district.rawValue)
            var latest = 0
            for try await version in try await transaction.query(
                """
                SELECT coalesce(max(version), 0) FROM classification_rule_sets WHERE district = \(district.rawValue)
                """
            ).decode(Int.self) { latest = version }
            if let basedOn = input.basedOn, basedOn != latest {
                throw APIError(
                    .conflict, code: "stale-rules",
                    message: "the rules changed meanwhile: version \(latest) is in force, the edit started from \(basedOn)", field: "basedOn")
            }
            var before: String?
            for try await previous in try await transaction.query(
                """
                SELECT definition::text FROM classification_rule_sets WHERE district = \(district.rawValue) AND version = \(latest)
                """
            ).decode(String.self) { before = previous }
            try await transaction.execute(
                """
                INSERT INTO classification_rule_sets (district, version, definition, note, created_by, created_at)
                VALUES (\(district.rawValue), \(latest + 1), \(json)::jsonb, \(note), \(claims.subject), \(now))
                """)
            try await AuditTrail.record(
                "rules-saved", "classification-rules", String(latest + 1), before: before, after: json,
                district: district, at: now, in: transaction)
            return RuleSetVersion(
                district: district.rawValue, version: latest + 1, definition: definition, note: note, createdBy: claims.subject, createdAt: now)
        }
    }

    /// Classifies a sample with the rules in force, or with a draft rule set before saving it.
    func explain(_ sample: ClassificationSample, in district: DistrictCode) async throws -> ClassificationPreview {
        let text = ClueText(
            title: try FieldText.required(sample.title, "title", limit: 100, multiline: false),
            situation: try FieldText.optional(sample.situationAnalysis, "situationAnalysis", limit: 5_000, multiline: true) ?? "",
            suggestions: try FieldText.optional(sample.specificSuggestions, "specificSuggestions", limit: 5_000, multiline: true) ?? "",
            address: try FieldText.optional(sample.address, "address", limit: 200, multiline: false),
            receiver: try FieldText.optional(sample.receiver, "receiver", limit: 50, multiline: false))
        if let draft = sample.definition {
            do throws(RuleSetInvalid) {
                return ClassificationPreview(version: nil, classification: try draft.compile().classify(text))
            } catch {
                throw RuleSetRejected(problems: error.problems)
            }
        }
        return try await database.transaction(.district(district)) { transaction in
            let (version, rules) = try await registrar.rulesInForce(of: district, in: transaction)
            return ClassificationPreview(version: version, classification: rules.classify(text))
        }
    }
}

/// The body of `POST /v1/triage/rules/classify`.
struct ClassificationSample: Decodable, Sendable {
    var title: String?
    var situationAnalysis: String?
    var specificSuggestions: String?
    var address: String?
    var receiver: String?
    var definition: RuleSet?
}

struct ClassificationPreview: Codable, Sendable {
    /// The version that classified it; nil for a draft rule set.
    var version: Int?
    var classification: Classification
}
