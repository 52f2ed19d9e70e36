import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

/// The district's showcase of excellent proposals, each with the committee's citation.
struct ShowcaseRepository: Sendable {
    let database: Database

    /// Adds (or re-cites) a proposal of the district's public list; false for any other proposal.
    func add(_ proposal: UUID, citation: String, by claims: StaffClaims) async throws -> Bool {
        try await database.transaction(.district(claims.district)) { transaction in
            let rows = try await transaction.query(
                """
                INSERT INTO showcase_entries (proposal_id, district, citation, added_by)
                SELECT proposal_id, district, \(citation), \(claims.subject) FROM public_proposals
                WHERE proposal_id = \(proposal) AND district = \(claims.district.rawValue)
                ON CONFLICT (proposal_id) DO UPDATE SET citation = EXCLUDED.citation, added_by = EXCLUDED.added_by, added_at = now()
                RETURNING proposal_id
                """)
            var added = false
            for try await _ in rows { added = true }
            if added {
                try await AuditTrail.record(
                    "showcase-added", "proposal", proposal.uuidString.lowercased(),
                    after: AuditTrail.json(["citation": citation]), district: claims.district, in: transaction)
            }
            return added
        }
    }

    /// False when the proposal was not in the showcase.
    func remove(_ proposal: UUID, in district: DistrictCode) async throws -> Bool {
        try await database.transaction(.district(district)) { transaction in
            var removed = false
            for try await _ in try await transaction.query("DELETE FROM showcase_entries WHERE proposal_id = \(proposal) RETURNING proposal_id") {
                removed = true
            }
            if removed {
                try await AuditTrail.record("showcase-removed", "proposal", proposal.uuidString.lowercased(), district: district, in: transaction)
            }
            return removed
        }
    }
}
