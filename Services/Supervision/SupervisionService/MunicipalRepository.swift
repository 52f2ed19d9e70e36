import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

/// One district's year as the municipal committee compares them.
struct DistrictFigures: Codable, Sendable {
    var code: String
    var name: String
    var clues = 0
    /// Clues the district sent up by the through train (直通车).
    var sentUp = 0
    var reviewed = 0
    var filed = 0
    var replied = 0
    var repliedOnTime = 0
    var evaluated = 0
    var satisfied = 0
}

/// A clue that arrived by the through train from a member district, and what became of it here.
struct ThroughTrainArrival: Codable, Sendable {
    var trackingNumber: String
    var title: String
    var fromDistrict: String
    var fromTrackingNumber: String?
    var arrivedAt: Date
    var status: String
    var route: String?
    var caseNumber: String?
}

/// A proposal of a member district in a list the municipal committee reads.
struct DistrictProposalRow: Codable, Sendable {
    var id: UUID
    var district: String
    var caseNumber: String?
    var title: String
    var status: String
    var units: String
    var satisfaction: String?
}

/// A member district's proposal, read-only, for the municipal committee.
struct DistrictProposal: Codable, Sendable {
    struct Part: Codable, Sendable {
        var unitName: String
        var role: String
        var deadline: LocalDate
        var state: String
        var satisfaction: String?
        var reply: String?
        var repliedAt: Date?
    }

    var id: UUID
    var district: String
    var districtName: String
    var caseNumber: String?
    var title: String
    var status: String
    var caseSummary: String
    var reasons: String
    var suggestions: String
    var parts: [Part]
}

struct MunicipalOverview: Codable, Sendable {
    var year: Int
    var districts: [DistrictFigures]
    var arrivals: [ThroughTrainArrival]
}

/// The municipal committee's view of its member districts (a tenant whose districts name it as
/// parent): their figures side by side, the through-train arrivals, and any proposal, read-only.
/// Read across districts, so scoped to all of them and filtered to the members by the query.
struct MunicipalRepository: Sendable {
    let database: Database

    /// The municipal tenant's member districts; refused for a tenant that has none.
    static func members(of municipal: DistrictCode, in transaction: Transaction) async throws -> [(code: String, name: String)] {
        var members: [(code: String, name: String)] = []
        for try await (code, name) in try await transaction.query(
            "SELECT code, name FROM districts WHERE parent = \(municipal.rawValue) ORDER BY code"
        ).decode((String, String).self) { members.append((code, name)) }
        guard !members.isEmpty else { throw APIError.forbidden("\(municipal) has no member districts: this view is the municipal committee's") }
        return members
    }

    func overview(of municipal: DistrictCode, year: Int) async throws -> MunicipalOverview {
        try await database.transaction(.allDistricts) { transaction in
            let members = try await Self.members(of: municipal, in: transaction)
            let codes = members.map(\.code)
            var figures = Dictionary(uniqueKeysWithValues: members.map { ($0.code, DistrictFigures(code: $0.code, name: $0.name)) })
            // Years are counted in China time: every district of one municipal committee shares it.
            for try await (code, clues, sentUp) in try await transaction.query(
                """
                SELECT c.district, count(*)::int, count(t.linked_clue_id)::int FROM clues c LEFT JOIN triage_clues t ON t.clue_id = c.id
                WHERE c.district = ANY(\(codes)::text[]) AND extract(year FROM c.received_at AT TIME ZONE 'Asia/Shanghai')::int = \(year)
                GROUP BY 1
                """
            ).decode((String, Int, Int).self) {
                figures[code]?.clues = clues
                figures[code]?.sentUp = sentUp
            }
            for try await (code, reviewed, filed) in try await transaction.query(
                """
                SELECT district, count(*)::int, count(case_number)::int FROM proposals
                WHERE district = ANY(\(codes)::text[]) AND reviewed_at IS NOT NULL
                  AND extract(year FROM reviewed_at AT TIME ZONE 'Asia/Shanghai')::int = \(year)
                GROUP BY 1
                """
            ).decode((String, Int, Int).self) {
                figures[code]?.reviewed = reviewed
                figures[code]?.filed = filed
            }
            for try await (code, replied, onTime, evaluated, satisfied) in try await transaction.query(
                """
                SELECT district, count(replied_at)::int, count(*) FILTER (WHERE (replied_at AT TIME ZONE 'Asia/Shanghai')::date <= deadline)::int,
                       count(satisfaction)::int, count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basically-satisfied'))::int
                FROM supervised_assignments
                WHERE district = ANY(\(codes)::text[]) AND state <> 'superseded' AND extract(year FROM assigned_on)::int = \(year)
                GROUP BY 1
                """
            ).decode((String, Int, Int, Int, Int).self) {
                figures[code]?.replied = replied
                figures[code]?.repliedOnTime = onTime
                figures[code]?.evaluated = evaluated
                figures[code]?.satisfied = satisfied
            }
            var arrivals: [ThroughTrainArrival] = []
            for try await row in try await transaction.query(
                """
                SELECT c.tracking_number, c.title, coalesce(d.name, o.district, ''), o.tracking_number, c.received_at, t.status, t.route, p.case_number
                FROM triage_clues t
                JOIN clues c ON c.id = t.clue_id
                LEFT JOIN clues o ON o.id = t.linked_from_clue_id
                LEFT JOIN districts d ON d.code = o.district
                LEFT JOIN proposals p ON p.id = t.proposal_id
                WHERE t.district = \(municipal.rawValue) AND t.linked_from_clue_id IS NOT NULL
                  AND extract(year FROM c.received_at AT TIME ZONE 'Asia/Shanghai')::int = \(year)
                ORDER BY c.received_at DESC LIMIT 500
                """
            ).decode((String, String, String, String?, Date, String, String?, String?).self) {
                arrivals.append(
                    ThroughTrainArrival(
                        trackingNumber: row.0, title: row.1, fromDistrict: row.2, fromTrackingNumber: row.3,
                        arrivedAt: row.4, status: row.5, route: row.6, caseNumber: row.7))
            }
            return MunicipalOverview(year: year, districts: codes.compactMap { figures[$0] }, arrivals: arrivals)
        }
    }

    /// A member district's filed proposals of the year, newest first.
    func proposals(of district: String, municipal: DistrictCode, year: Int) async throws -> [DistrictProposalRow] {
        try await database.transaction(.allDistricts) { transaction in
            guard try await Self.members(of: municipal, in: transaction).contains(where: { $0.code == district }) else { throw APIError.notFound }
            var rows: [DistrictProposalRow] = []
            for try await row in try await transaction.query(
                """
                SELECT p.id, p.district, p.case_number, p.title, p.status,
                       coalesce((SELECT string_agg(s.unit_name, '、' ORDER BY s.role DESC, s.unit_name) FROM supervised_assignments s
                                 WHERE s.proposal_id = p.id AND s.state <> 'superseded'), ''),
                       (SELECT s.satisfaction FROM supervised_assignments s WHERE s.proposal_id = p.id AND s.role = 'lead' AND s.state <> 'superseded'
                        ORDER BY s.round DESC LIMIT 1)
                FROM proposals p
                WHERE p.district = \(district) AND p.case_number IS NOT NULL AND p.year = \(year)
                ORDER BY p.reviewed_at DESC LIMIT 1000
                """
            ).decode((UUID, String, String?, String, String, String, String?).self) {
                rows.append(
                    DistrictProposalRow(
                        id: row.0, district: row.1, caseNumber: row.2, title: row.3, status: row.4, units: row.5,
                        satisfaction: row.6))
            }
            return rows
        }
    }

    /// One proposal of a member district; nil when it is not one of theirs.
    func proposal(_ id: UUID, municipal: DistrictCode) async throws -> DistrictProposal? {
        try await database.transaction(.allDistricts) { transaction in
            let members = try await Self.members(of: municipal, in: transaction)
            var found: DistrictProposal?
            for try await row in try await transaction.query(
                """
                SELECT p.district, p.case_number, p.title, p.status, p.case_summary, p.reasons, p.suggestions
                FROM proposals p WHERE p.id = \(id) AND p.district = ANY(\(members.map(\.code))::text[])
                """
            ).decode((String, String?, String, String, String, String, String).self) {
                found = DistrictProposal(
                    id: id, district: row.0, districtName: members.first { $0.code == row.0 }?.name ?? row.0,
                    caseNumber: row.1, title: row.2, status: row.3, caseSummary: row.4, reasons: row.5, suggestions: row.6,
                    parts: [])
            }
            guard var proposal = found else { return nil }
            for try await row in try await transaction.query(
                """
                SELECT s.unit_name, s.role, s.deadline, s.state, s.satisfaction, r.text, r.replied_at
                FROM supervised_assignments s
                LEFT JOIN LATERAL (SELECT text, replied_at FROM replies WHERE assignment_id = s.assignment_id ORDER BY replied_at DESC LIMIT 1) r ON true
                WHERE s.proposal_id = \(id) AND s.state <> 'superseded'
                ORDER BY s.role DESC, s.unit_name
                """
            ).decode((String, String, LocalDate, String, String?, String?, Date?).self) {
                proposal.parts.append(
                    .init(
                        unitName: row.0, role: row.1, deadline: row.2, state: row.3, satisfaction: row.4, reply: row.5,
                        repliedAt: row.6))
            }
            return proposal
        }
    }
}
