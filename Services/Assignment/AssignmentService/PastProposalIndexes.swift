import Foundation
import Models
import PostgresNIO
import ServiceKit
import Similarity
import Storage
import Synchronization

/// Each district's past proposals and the units that handled them, held in memory by every
/// assignment instance and brought up to date from `assignment_cases.change_seq` before use:
/// a suggestion compares a proposal with 100,000 earlier ones in a few milliseconds this way.
/// PostgreSQL stays the record; an instance that starts reads a district once, then only changes.
final class PastProposalIndexes: Sendable {
    private let turns = Turns<DistrictCode>()
    private let districts = Mutex<[DistrictCode: District]>([:])

    struct District: Sendable {
        var proposals = PastProposals()
        var lastChange: Int64 = 0
    }

    /// Reads the district's changed cases since this instance last looked and applies them.
    /// Needs no lock: every writer of `change_seq` holds the district's lock from its first
    /// write to its commit (`CaseRepository.lockHandlers`), so a snapshot that sees a sequence number sees
    /// every smaller one, and reading on from the last one seen misses nothing.
    @discardableResult
    func catchUp(_ district: DistrictCode, in transaction: Transaction) async throws -> Int {
        // One catch-up at a time per district: the others then read only what it left.
        try await turns.take(district) {
            let since = districts.withLock { $0[district]?.lastChange ?? 0 }
            let rows = try await transaction.query(
                """
                SELECT proposal_id, case_number, signature, handled_by, change_seq FROM assignment_cases
                WHERE district = \(district.rawValue) AND change_seq > \(since) ORDER BY change_seq
                """)
            var changes: [(PastProposals.Entry, Int64)] = []
            for try await (id, caseNumber, signature, handledBy, change) in rows.decode((UUID, String, ByteBuffer, [UUID], Int64).self) {
                changes.append(
                    (
                        PastProposals.Entry(
                            proposalID: id, caseNumber: caseNumber,
                            signature: SignatureCoding.signature(from: Array(buffer: signature)), handledBy: handledBy), change
                    ))
            }
            guard !changes.isEmpty else { return 0 }
            districts.withLock { districts in
                var state = districts.removeValue(forKey: district) ?? District()
                for (entry, change) in changes where change > state.lastChange {
                    state.proposals.record(entry)
                    state.lastChange = change
                }
                districts[district] = state
            }
            return changes.count
        }
    }

    /// The nearest past proposals of each signature.
    func nearest(
        to signatures: [[UInt32]], in district: DistrictCode, weights: SuggestionWeights, excluding: [UUID?]
    ) -> [[(PastProposals.Entry, Double)]] {
        districts.withLock { districts in
            guard var state = districts.removeValue(forKey: district) else { return signatures.map { _ in [] } }
            defer { districts[district] = state }
            return zip(signatures, excluding).map { signature, excluded in
                state.proposals.nearest(
                    to: signature, limit: weights.neighbours, minimumSimilarity: weights.minimumSimilarity,
                    sharingAtLeast: weights.minimumSharedBands, excluding: excluded)
            }
        }
    }
}
