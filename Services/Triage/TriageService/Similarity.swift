import Foundation
import Models

/// Near-duplicate detection on character shingles: MinHash signatures estimate the Jaccard
/// similarity of two clues' shingle sets, and locality-sensitive hashing (LSH) over bands of the
/// signature finds the candidates worth comparing without looking at every earlier clue. Chinese
/// needs no word segmenter here: shingles are runs of characters.
public enum Shingles {
    /// The distinct `length`-character runs of the comparable text, hashed to 64 bits
    /// (FNV-1a: stable across runs and machines, since signatures are stored).
    public static func of(_ text: String, length: Int = 2) -> Set<UInt64> {
        let scalars = Array(ComparableText.of(text).unicodeScalars)
        guard !scalars.isEmpty else { return [] }
        guard scalars.count > length else { return [hash(scalars[...])] }
        var shingles = Set<UInt64>(minimumCapacity: scalars.count)
        for start in 0...(scalars.count - length) {
            shingles.insert(hash(scalars[start..<(start + length)]))
        }
        return shingles
    }

    static func hash(_ scalars: ArraySlice<Unicode.Scalar>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for scalar in scalars {
            hash ^= UInt64(scalar.value)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// The exact Jaccard similarity of two shingle sets.
    public static func jaccard(_ a: Set<UInt64>, _ b: Set<UInt64>) -> Double {
        guard !a.isEmpty || !b.isEmpty else { return 1 }
        let common = a.count < b.count ? a.filter(b.contains).count : b.filter(a.contains).count
        return Double(common) / Double(a.count + b.count - common)
    }
}

/// MinHash with `count` hash functions h_i(x) = a_i·x + b_i (mod 2^64) over the shingle hashes;
/// the signature keeps each function's minimum, truncated to 32 bits.
public struct MinHasher: Sendable {
    public let count: Int
    private let multipliers: [UInt64]
    private let offsets: [UInt64]

    /// The coefficients come from a fixed seed: signatures stored in the database stay comparable.
    public init(count: Int = 128, seed: UInt64 = 0x5EED_0F_C1_0E5) {
        self.count = count
        var state = seed
        func next() -> UInt64 {
            // SplitMix64.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        multipliers = (0..<count).map { _ in next() | 1 }
        offsets = (0..<count).map { _ in next() }
    }

    public func signature(of shingles: Set<UInt64>) -> [UInt32] {
        var minimums = [UInt64](repeating: .max, count: count)
        minimums.withUnsafeMutableBufferPointer { minimums in
            multipliers.withUnsafeBufferPointer { multipliers in
                offsets.withUnsafeBufferPointer { offsets in
                    for shingle in shingles {
                        for index in 0..<minimums.count {
                            let value = multipliers[index] &* shingle &+ offsets[index]
                            if value < minimums[index] { minimums[index] = value }
                        }
                    }
                }
            }
        }
        return minimums.map { UInt32(truncatingIfNeeded: $0 >> 32) }
    }

    /// The share of equal positions: an estimate of the Jaccard similarity.
    public static func similarity(_ a: [UInt32], _ b: [UInt32]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        var equal = 0
        for index in a.indices where a[index] == b[index] { equal += 1 }
        return Double(equal) / Double(a.count)
    }
}

/// How a signature is cut into bands for LSH: two clues become candidates when all rows of at
/// least one band agree, which happens with probability 1 − (1 − s^rows)^bands at similarity s.
public struct LSHBands: Sendable, Hashable {
    public let bands: Int
    public let rows: Int

    public init(bands: Int, rows: Int) {
        self.bands = bands
        self.rows = rows
    }

    /// The banding of at most `hashes` signature values that finds pairs at `threshold` with at
    /// least 95 % probability while making as few candidates as possible of pairs half as
    /// similar (recall first: every candidate is checked against the threshold anyway).
    public static func forThreshold(_ threshold: Double, hashes: Int = 128) -> LSHBands {
        var best = LSHBands(bands: hashes, rows: 1)
        var fewestFalse = Double.infinity
        for rows in 1...max(1, min(16, hashes)) {
            let banding = LSHBands(bands: hashes / rows, rows: rows)
            guard banding.candidateProbability(threshold) >= 0.95 else { continue }
            let falseCandidates = banding.candidateProbability(threshold / 2)
            if falseCandidates < fewestFalse {
                best = banding
                fewestFalse = falseCandidates
            }
        }
        return best
    }

    /// The probability that a pair at similarity `s` becomes a candidate.
    public func candidateProbability(_ s: Double) -> Double {
        1 - pow(1 - pow(s, Double(rows)), Double(bands))
    }

    /// One key per band (band number mixed in), as stored and looked up.
    public func keys(of signature: [UInt32]) -> [Int64] {
        (0..<bands).map { band in
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(band)
            for value in signature[(band * rows)..<((band + 1) * rows)] {
                hash ^= UInt64(value)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            return Int64(bitPattern: hash)
        }
    }
}

/// An in-memory LSH index: what the database's band table does, for the benchmark and tests.
public struct LSHIndex<ID: Hashable & Sendable>: Sendable {
    public let banding: LSHBands
    private var buckets: [Int64: [ID]] = [:]

    public init(banding: LSHBands) {
        self.banding = banding
    }

    public mutating func insert(_ id: ID, signature: [UInt32]) {
        for key in banding.keys(of: signature) { buckets[key, default: []].append(id) }
    }

    public func candidates(for signature: [UInt32]) -> Set<ID> {
        var found = Set<ID>()
        for key in banding.keys(of: signature) {
            if let ids = buckets[key] { found.formUnion(ids) }
        }
        return found
    }
}

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
        var started = LSHIndex<Int>(banding: banding)
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

extension LSHBands {
    /// The banding of the band table. Fixed, because stored keys depend on it: 42 bands of 3
    /// rows find pairs at Jaccard 0.5 with 99.6 % probability (0.975 when two bands must agree,
    /// as the store asks); a district's threshold then only decides which candidates join.
    public static let stored = LSHBands(bands: 42, rows: 3)

    /// How many bands a stored group must share with a clue to be a candidate: one shared band
    /// is common between unrelated clues that share stock phrases, two rarely are.
    public static let storedMinimumSharedBands = 2
}

/// Signatures as stored (bytea, 4 bytes per value, little-endian).
public enum SignatureCoding {
    public static func hex(_ signature: [UInt32]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(signature.count * 8)
        for value in signature {
            for shift in stride(from: 0, to: 32, by: 8) {
                let byte = UInt8(truncatingIfNeeded: value >> UInt32(shift))
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func signature(from bytes: [UInt8]) -> [UInt32] {
        stride(from: 0, to: bytes.count - 3, by: 4).map { offset in
            UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }
    }
}
