import Foundation
import Similarity

/// An existing group a new clue may join: its id and its representative's signature.
public struct GroupCandidate: Sendable, Hashable {
    public var id: UUID
    public var signature: [UInt32]

    public init(id: UUID, signature: [UInt32]) {
        self.id = id
        self.signature = signature
    }
}

/// Where a new clue goes: into the most similar group at or above the threshold, or a group of
/// its own. Clues of one batch also find each other, in order.
public struct GroupAssigner: Sendable {
    public let banding: LSHBands
    public let threshold: Double

    public init(banding: LSHBands = .stored, threshold: Double) {
        self.banding = banding
        self.threshold = threshold
    }

    public struct Placement: Sendable, Hashable {
        public var groupID: UUID
        public var startedGroup: Bool
        /// The estimated similarity to the group's representative (1 for a new group).
        public var similarity: Double
    }

    /// `candidates[i]`: the existing groups the store found for clue `i`; `newGroupIDs[i]`: the
    /// id clue `i`'s group gets if it starts one.
    public func assign(signatures: [[UInt32]], candidates: [[GroupCandidate]], newGroupIDs: [UUID]) -> [Placement] {
        var started = LSHIndex(banding: banding, capacity: 64 * banding.bands)
        var placements: [Placement] = []
        placements.reserveCapacity(signatures.count)
        for (index, signature) in signatures.enumerated() {
            var best: (id: UUID, similarity: Double)?
            func consider(_ id: UUID, _ other: [UInt32]) {
                let similarity = MinHasher.similarity(signature, other)
                if similarity >= threshold, similarity > (best?.similarity ?? -1) { best = (id, similarity) }
            }
            for candidate in candidates[index] { consider(candidate.id, candidate.signature) }
            for earlier in started.candidates(for: signature).sorted() { consider(newGroupIDs[earlier], signatures[earlier]) }
            if let best {
                placements.append(Placement(groupID: best.id, startedGroup: false, similarity: best.similarity))
            } else {
                placements.append(Placement(groupID: newGroupIDs[index], startedGroup: true, similarity: 1))
                started.insert(index, signature: signature)
            }
        }
        return placements
    }
}
