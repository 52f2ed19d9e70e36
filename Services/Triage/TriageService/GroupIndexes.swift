import Foundation
import Models
import PostgresNIO
import ServiceKit
import Similarity
import Storage
import Synchronization

/// The LSH index of each district's live groups, held in memory by every triage instance and
/// brought up to date from PostgreSQL (`clue_groups.change_seq`) before it is used.
///
/// PostgreSQL stays the record: an instance that starts loads the district's groups once, then
/// reads only what changed. Looking candidates up in the database instead (a band table) meant
/// dozens of index probes per clue and hundreds of rows of groups that share a band by chance;
/// in memory the same lookup is a few microseconds. Every change to a district's groups is made
/// under the district's grouping lock, so reading the changes under that lock sees all of them.
final class GroupIndexes: Sendable {
    private let turns = Turns<DistrictCode>()
    private let districts = Mutex<[DistrictCode: DistrictGroups]>([:])

    struct DistrictGroups: Sendable {
        var index = LSHIndex(banding: .stored, capacity: 1 << 12)
        /// By position in the index.
        var ids: [UUID] = []
        var signatures: [[UInt32]] = []
        var live: [Bool] = []
        var position: [UUID: Int] = [:]
        var lastChange: Int64 = 0
        var tally = LSHTally()

        mutating func apply(id: UUID, signature: [UInt32], isLive: Bool) {
            if let old = position[id] {
                if live[old] && isLive && signatures[old] == signature { return }
                live[old] = false
                position[id] = nil
            }
            // A signature too short for the bands (a row written by hand or damaged) cannot be
            // indexed: the group is left out of candidate lookups rather than crash the service.
            guard isLive, signature.count >= index.banding.bands * index.banding.rows else { return }
            let new = ids.count
            ids.append(id)
            signatures.append(signature)
            live.append(true)
            position[id] = new
            index.insert(new, signature: signature)
        }
    }

    /// Reads the district's group changes since this instance last looked (all of them the first
    /// time) and applies them. Returns how many changes were read.
    @discardableResult
    func catchUp(_ district: DistrictCode, in transaction: Transaction) async throws -> Int {
        // One catch-up at a time per district: the others then read only what it left.
        try await turns.take(district) {
            let since = districts.withLock { $0[district]?.lastChange ?? 0 }
            let rows = try await transaction.query(
                """
                SELECT id, signature, merged_into IS NULL, change_seq FROM clue_groups
                WHERE district = \(district.rawValue) AND change_seq > \(since) ORDER BY change_seq
                """)
            var changes: [(UUID, [UInt32], Bool, Int64)] = []
            for try await (id, signature, live, change) in rows.decode((UUID, ByteBuffer, Bool, Int64).self) {
                changes.append((id, SignatureCoding.signature(from: Array(buffer: signature)), live, change))
            }
            guard !changes.isEmpty else { return 0 }
            districts.withLock { districts in
                var groups = districts.removeValue(forKey: district) ?? DistrictGroups()
                // Another transaction of this process may have applied some of them meanwhile.
                for (id, signature, live, change) in changes where change > groups.lastChange {
                    groups.apply(id: id, signature: signature, isLive: live)
                    groups.lastChange = change
                }
                districts[district] = groups
            }
            return changes.count
        }
    }

    /// For each signature, the live groups sharing at least `minimumSharedBands` bands with it.
    func candidates(for signatures: [[UInt32]], in district: DistrictCode, minimumSharedBands: Int) -> [[GroupCandidate]] {
        districts.withLock { districts in
            // Taken out and put back so the index and its tally are not copied on write.
            guard var groups = districts.removeValue(forKey: district) else { return signatures.map { _ in [] } }
            defer { districts[district] = groups }
            return signatures.map { signature in
                groups.index.candidates(for: signature, sharingAtLeast: minimumSharedBands, tally: &groups.tally)
                    .filter { groups.live[$0] }
                    .sorted()
                    .map { GroupCandidate(id: groups.ids[$0], signature: groups.signatures[$0]) }
            }
        }
    }
}
