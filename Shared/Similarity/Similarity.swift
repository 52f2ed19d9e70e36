import CMinHash
import Foundation
import Models

/// Near-duplicate detection on character shingles: MinHash signatures estimate the Jaccard
/// similarity of two clues' shingle sets, and locality-sensitive hashing (LSH) over bands of the
/// signature finds the candidates worth comparing without looking at every earlier clue. Chinese
/// needs no word segmenter here: shingles are runs of characters.
public enum Shingles {
    /// The distinct 2-character runs of the comparable text, hashed to 64 bits (FNV-1a: stable
    /// across runs and machines, since signatures are stored), stock phrases left out.
    public static func of(_ text: String) -> Set<UInt64> {
        Set(hashes(of: text))
    }

    /// The shingles in text order, repeats included (a signature does not mind them).
    /// Shingles inside the stock phrases every clue uses (建议, 社区, 有关部门…) are left out,
    /// so that sharing them makes two clues neither similar nor candidates; a text made of
    /// nothing else keeps them, so it still has a signature.
    static func hashes(of text: String) -> [UInt64] {
        let scalars = ComparableText.scalarValues(of: text)
        guard scalars.count > 1 else { return scalars.isEmpty ? [] : [hash(scalars[...])] }
        var all: [UInt64] = []
        all.reserveCapacity(scalars.count - 1)
        var kept: [UInt64] = []
        kept.reserveCapacity(scalars.count - 1)
        for start in 0..<(scalars.count - 1) {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            hash ^= UInt64(scalars[start])
            hash = hash &* 0x0000_0100_0000_01B3
            hash ^= UInt64(scalars[start + 1])
            hash = hash &* 0x0000_0100_0000_01B3
            all.append(hash)
            if !StockPhrases.contains(hash) { kept.append(hash) }
        }
        return kept.isEmpty ? all : kept
    }

    static func hash(_ scalars: ArraySlice<UInt32>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for scalar in scalars {
            hash ^= UInt64(scalar)
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

/// Stock phrases of clues and proposals: words nearly every clue uses whatever its issue.
/// Their 2-character shingles are left out of similarity; a filter of 2^16 bits answers most
/// lookups without touching the set.
enum StockPhrases {
    static let words = [
        "建议", "关于", "问题", "希望", "加强", "有关部门", "相关部门", "政府", "街道", "社区", "小区", "居民", "群众", "市民",
        "反映", "情况", "存在", "影响", "进行", "开展", "工作", "管理", "服务", "解决", "落实", "推进", "完善", "提高", "增加",
        "设置", "建设", "安全", "隐患", "生活", "出行", "附近", "周边", "目前", "现在", "一些", "很多", "没有", "不能", "需要",
        "尽快", "及时", "长期", "经常", "严重", "方便", "不便", "我们", "他们", "大家", "已经", "但是", "因为", "所以", "同时",
        "其中", "还有", "以及", "并且", "或者", "如果", "可以", "应该", "相关", "有关", "部门", "单位", "措施", "机制", "力度",
    ]

    static let hashes: Set<UInt64> = {
        var hashes = Set<UInt64>()
        for word in words {
            let scalars = word.unicodeScalars.map(\.value)
            for start in 0..<(scalars.count - 1) { hashes.insert(Shingles.hash(scalars[start...(start + 1)])) }
        }
        return hashes
    }()

    static let filter: [UInt64] = {
        var bits = [UInt64](repeating: 0, count: 1 << 10)
        for hash in hashes {
            let bit = Int(truncatingIfNeeded: hash >> 48)
            bits[bit >> 6] |= 1 << UInt64(bit & 63)
        }
        return bits
    }()

    @inline(__always)
    static func contains(_ hash: UInt64) -> Bool {
        let bit = Int(truncatingIfNeeded: hash >> 48)
        guard filter[bit >> 6] & (1 << UInt64(bit & 63)) != 0 else { return false }
        return hashes.contains(hash)
    }
}

/// MinHash signatures: `count` hash values per shingle, each position keeping its minimum;
/// the share of equal positions of two signatures estimates the Jaccard similarity of their
/// shingle sets. Value i is the high 32 bits of a_i·x + b_i (mod 2^64) over the shingles' mixed
/// hashes (multiply-add-shift: the high bits of such a product are well spread, the low ones not).
/// (One-permutation hashing was faster still but correlates the values of short texts, most
/// of whose bins are empty and borrowed, and LSH bands of correlated values match far too often.)
public struct MinHasher: Sendable {
    public let count: Int
    public let kernel: Kernel
    private let multipliers: [UInt64]
    private let offsets: [UInt64]

    /// How the values are computed; every kernel gives the same signature.
    public enum Kernel: Sendable {
        /// Swift, for any CPU (the x86-64 baseline vectorises it with SSE2).
        case portable
        /// AVX2 lanes, about four times faster (`CMinHash`); needs a count that is a multiple of 8.
        case avx2

        /// The fastest this CPU runs.
        public static let best: Kernel = cminhash_avx2_available() ? .avx2 : .portable
    }

    /// The coefficients come from a fixed seed: signatures stored in the database stay comparable.
    public init(count: Int = 128, seed: UInt64 = 0x5EED_0F_C1_0E5, kernel: Kernel = .best) {
        precondition(count > 0)
        precondition(kernel == .portable || (count % 8 == 0 && cminhash_avx2_available()), "the AVX2 kernel needs AVX2 and a multiple of 8 values")
        self.count = count
        self.kernel = kernel
        var random = seed
        func next() -> UInt64 {
            // SplitMix64.
            random &+= 0x9E37_79B9_7F4A_7C15
            var z = random
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        multipliers = (0..<count).map { _ in next() | 1 }
        offsets = (0..<count).map { _ in next() }
    }

    public func signature(of shingles: Set<UInt64>) -> [UInt32] {
        signature(ofMixed: shingles.map(Self.mix))
    }

    /// The signature of a text's shingles: the same as `signature(of: Shingles.of(text))`,
    /// without building the set (a repeated shingle changes no minimum).
    public func signature(ofText text: String) -> [UInt32] {
        var hashes = Shingles.hashes(of: text)
        for index in hashes.indices { hashes[index] = Self.mix(hashes[index]) }
        return signature(ofMixed: hashes)
    }

    private func signature(ofMixed hashes: [UInt64]) -> [UInt32] {
        var minimums = [UInt32](repeating: .max, count: count)
        minimums.withUnsafeMutableBufferPointer { minimums in
            multipliers.withUnsafeBufferPointer { multipliers in
                offsets.withUnsafeBufferPointer { offsets in
                    hashes.withUnsafeBufferPointer { hashes in
                        switch kernel {
                        case .avx2:
                            cminhash_update_avx2(
                                minimums.baseAddress, multipliers.baseAddress, offsets.baseAddress, count, hashes.baseAddress, hashes.count)
                        case .portable:
                            for hash in hashes {
                                for index in 0..<minimums.count {
                                    let value = UInt32(truncatingIfNeeded: (multipliers[index] &* hash &+ offsets[index]) >> 32)
                                    minimums[index] = Swift.min(minimums[index], value)
                                }
                            }
                        }
                    }
                }
            }
        }
        return minimums
    }

    /// A shingle's FNV hash mixed (MurmurHash3's fmix64): FNV leaves the bits of similar
    /// inputs alike.
    @inline(__always)
    static func mix(_ input: UInt64) -> UInt64 {
        var z = input
        z = (z ^ (z >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        z = (z ^ (z >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return z ^ (z >> 33)
    }

    /// The share of equal positions: an estimate of the Jaccard similarity. Compared eight
    /// values at a time: checking candidates is most of a lookup's work.
    public static func similarity(_ a: [UInt32], _ b: [UInt32]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        let equal = a.withUnsafeBytes { a in
            b.withUnsafeBytes { b in
                let vectors = a.count / MemoryLayout<SIMD8<UInt32>>.size
                var counts = SIMD8<UInt32>()
                for vector in 0..<vectors {
                    let offset = vector * MemoryLayout<SIMD8<UInt32>>.size
                    let x = a.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt32>.self)
                    let y = b.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt32>.self)
                    counts &+= SIMD8<UInt32>(repeating: 0).replacing(with: 1, where: x .== y)
                }
                var equal = Int(counts.wrappedSum())
                let values = a.count / MemoryLayout<UInt32>.size
                for index in (vectors * 8)..<values {
                    let offset = index * MemoryLayout<UInt32>.size
                    if a.load(fromByteOffset: offset, as: UInt32.self) == b.load(fromByteOffset: offset, as: UInt32.self) { equal += 1 }
                }
                return equal
            }
        }
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

/// An in-memory LSH index over integer ids (positions in the caller's own arrays): what the
/// database's band table does, for grouping within a batch, the benchmark and tests.
///
/// Band keys are hashes already, so they index an open-addressing table directly (no
/// rehashing). A lookup costs one cache miss per band more than anything else, so a slot holds
/// its key and its bucket's first id together (most buckets have one id), the rest of a bucket
/// lies in one contiguous run, and a lookup asks for all its lines before it reads any.
/// Inlinable, so other modules get it specialised.
public struct LSHIndex: Sendable {
    public let banding: LSHBands
    @usableFromInline var slots: [Slot]
    @usableFromInline var usedSlots = 0
    /// Buckets' ids past their first, as runs of [capacity, count, ids…]. A full run moves to
    /// the end at twice its capacity, leaving its old place unused (at most as much again).
    @usableFromInline var runs: [Int32] = []
    /// One more than the largest id inserted.
    @usableFromInline var idCount = 0

    @usableFromInline
    struct Slot: Sendable {
        @usableFromInline var key: Int64
        /// The bucket's first id; -1 for an empty slot.
        @usableFromInline var first: Int32
        /// Where the rest of the bucket is in `runs`; -1 while it has one id.
        @usableFromInline var run: Int32

        @usableFromInline static let empty = Slot(key: 0, first: -1, run: -1)

        @usableFromInline
        init(key: Int64, first: Int32, run: Int32) {
            self.key = key
            self.first = first
            self.run = run
        }
    }

    /// `capacity`: the band keys expected, so the table need not grow before then.
    public init(banding: LSHBands, capacity: Int = 1 << 12) {
        self.banding = banding
        var slots = 16
        while slots * 3 < capacity * 4 { slots <<= 1 }
        self.slots = Array(repeating: .empty, count: slots)
    }

    @inlinable
    public mutating func insert(_ id: Int, signature: [UInt32]) {
        precondition(id >= 0 && id < Int(Int32.max))
        idCount = Swift.max(idCount, id + 1)
        for key in banding.keys(of: signature) {
            if (usedSlots + 1) * 4 > slots.count * 3 { grow() }
            let slot = Self.findSlot(key, in: slots)
            if slots[slot].first < 0 {
                slots[slot] = Slot(key: key, first: Int32(id), run: -1)
                usedSlots += 1
                continue
            }
            var run = Int(slots[slot].run)
            if run < 0 || runs[run + 1] == runs[run] {
                let (capacity, count) = run < 0 ? (2, 0) : (Int(runs[run]) * 2, Int(runs[run + 1]))
                precondition(runs.count + 2 + capacity < Int(Int32.max), "LSH index full")
                let moved = runs.count
                runs.append(Int32(capacity))
                runs.append(Int32(count))
                runs.append(contentsOf: repeatElement(-1, count: capacity))
                // Index by index: appending a slice of `runs` to itself would copy all of it.
                for offset in 0..<count { runs[moved + 2 + offset] = runs[run + 2 + offset] }
                slots[slot].run = Int32(moved)
                run = moved
            }
            runs[run + 2 + Int(runs[run + 1])] = Int32(id)
            runs[run + 1] += 1
        }
    }

    @inlinable
    public func candidates(for signature: [UInt32]) -> Set<Int> {
        var tally = LSHTally()
        return Set(candidates(for: signature, sharingAtLeast: 1, tally: &tally))
    }

    /// The ids sharing at least `minimum` bands with `signature` (the store asks for two), in no
    /// particular order. Counting goes through `tally`, kept by the caller from one lookup to the
    /// next: a dense count per id instead of sorting the thousand ids the buckets hold (2.4 times
    /// faster at 120,000 groups).
    @inlinable
    public func candidates(for signature: [UInt32], sharingAtLeast minimum: Int, tally: inout LSHTally) -> [Int] {
        tally.begin(ids: idCount)
        let epoch = tally.epoch << 8
        let minimum = UInt32(Swift.min(Swift.max(minimum, 1), 0xFF))
        let keys = banding.keys(of: signature)
        var result: [Int] = []
        tally.marks.withUnsafeMutableBufferPointer { marks in
            @inline(__always)
            func count(_ id: Int32) {
                let mark = marks[Int(id)]
                let count = mark & ~0xFF == epoch ? (mark & 0xFF) + 1 : 1
                marks[Int(id)] = epoch | Swift.min(count, 0xFF)
                if count == minimum { result.append(Int(id)) }
            }
            slots.withUnsafeBufferPointer { slots in
                runs.withUnsafeBufferPointer { runs in
                    // The bands' slots are asked for all at once, then their buckets' runs,
                    // before anything waits on them.
                    let mask = slots.count - 1
                    for key in keys { cminhash_prefetch(slots.baseAddress! + (Int(truncatingIfNeeded: key) & mask)) }
                    withUnsafeTemporaryAllocation(of: Slot.self, capacity: keys.count) { found in
                        var buckets = 0
                        for key in keys {
                            let slot = slots[Self.findSlot(key, in: slots)]
                            guard slot.first >= 0 else { continue }
                            if slot.run >= 0 { cminhash_prefetch(runs.baseAddress! + Int(slot.run)) }
                            found[buckets] = slot
                            buckets += 1
                        }
                        for slot in found[..<buckets] {
                            count(slot.first)
                            guard slot.run >= 0 else { continue }
                            let run = Int(slot.run)
                            for offset in 0..<Int(runs[run + 1]) { count(runs[run + 2 + offset]) }
                        }
                    }
                }
            }
        }
        return result
    }

    /// The slot holding `key`, or the empty slot where it would go.
    @inlinable
    static func findSlot<Slots: RandomAccessCollection<Slot>>(_ key: Int64, in slots: Slots) -> Int where Slots.Index == Int {
        let mask = slots.count - 1
        // The key's high bits after a Fibonacci multiply: the low bits of an FNV hash follow the
        // low bits of its input alone, so near-alike signatures crowded a few slots together
        // (20,000 groups took 38 s to index).
        let shift = UInt64(64 - slots.count.trailingZeroBitCount)
        var slot = Int(truncatingIfNeeded: (UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> shift) & mask
        while slots[slot].first >= 0 && slots[slot].key != key { slot = (slot + 1) & mask }
        return slot
    }

    @usableFromInline
    mutating func grow() {
        let old = slots
        slots = Array(repeating: .empty, count: old.count * 2)
        for slot in old where slot.first >= 0 { slots[Self.findSlot(slot.key, in: slots)] = slot }
    }
}

/// Scratch space for `LSHIndex` lookups: per id, the lookup it was last counted in (high 24 bits)
/// and its count of shared bands in that lookup (low 8 bits), so nothing is cleared between lookups.
public struct LSHTally: Sendable {
    @usableFromInline var marks: [UInt32] = []
    @usableFromInline var epoch: UInt32 = 0

    public init() {}

    @inlinable
    mutating func begin(ids: Int) {
        if marks.count < ids { marks += repeatElement(0, count: Swift.max(ids - marks.count, marks.count)) }
        epoch += 1
        if epoch == 1 << 24 {
            marks = Array(repeating: 0, count: marks.count)
            epoch = 1
        }
    }
}

extension LSHBands {
    /// The banding of the groups' index: 42 bands of 3 rows find pairs at Jaccard 0.5 with 99.6 %
    /// probability (0.975 when two bands must agree, as grouping asks); a district's threshold
    /// then decides which candidates join.
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
