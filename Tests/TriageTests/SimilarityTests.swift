import Foundation
import Models
import Similarity
import Testing

@testable import TriageService

@Suite struct SimilarityTests {
    let hasher = MinHasher()
    let ebike = "电动自行车楼道充电安全隐患。老旧小区居民在楼道内为电动自行车充电，存在火灾隐患。建议在小区内建设集中充电桩并加强巡查。"
    let paraphrase = "老旧小区电动自行车楼道充电有安全隐患。居民在楼道内给电动自行车充电，存在火灾隐患。建议小区建设集中充电桩，加强巡查。"
    let canteen = "社区长者饭堂排队时间长。港海社区长者饭堂午餐时段排队超过半小时。建议增加供餐窗口并在小区内推行线上预约。"
    let commonWords = "关于加强社区建设的建议。社区居民反映小区内存在安全隐患。建议加强巡查。"

    @Test func shinglesIgnoreCaseWidthSpacingAndPunctuation() {
        #expect(Shingles.of("电动车，充电！ABC") == Shingles.of("电动车充电 ａｂｃ"))
        #expect(Shingles.of("") == [])
        #expect(Shingles.of("桥").count == 1)
    }

    @Test func paraphrasedDuplicatesAreSimilarAndUnrelatedClauseSharingWordsAreNot() {
        let threshold = 0.5
        let (a, b, c, d) = (Shingles.of(ebike), Shingles.of(paraphrase), Shingles.of(canteen), Shingles.of(commonWords))
        #expect(Shingles.jaccard(a, b) >= threshold)
        #expect(Shingles.jaccard(a, c) < 0.1)
        #expect(Shingles.jaccard(a, d) < threshold, "sharing 小区, 安全隐患, 建议, 加强巡查 does not make it the same issue")
        // The MinHash estimate is close to the exact value.
        let estimate = MinHasher.similarity(hasher.signature(of: a), hasher.signature(of: b))
        #expect(abs(estimate - Shingles.jaccard(a, b)) < 0.12)
        #expect(MinHasher.similarity(hasher.signature(of: a), hasher.signature(of: d)) < threshold)
    }

    @Test func signaturesAreStableAcrossRuns() {
        // Stored signatures must stay comparable: the same text gives the same signature from a
        // hasher built anew (fixed seed), and these first values never change.
        let signature = MinHasher().signature(of: Shingles.of(ebike))
        #expect(signature == hasher.signature(of: Shingles.of(ebike)))
        #expect(signature == hasher.signature(ofText: ebike), "the text path hashes the same shingles")
        #expect(hasher.signature(ofText: "桥") == hasher.signature(of: Shingles.of("桥")))
        #expect(signature.count == 128)
        #expect(Array(signature.prefix(4)) == [53_686_858, 3_891_665, 148_770_713, 4_042_336], "a change here makes stored signatures incomparable")
    }

    /// The AVX2 kernel is a speed-up only: on every text it gives the portable loop's values,
    /// so signatures stored by either stay comparable.
    @Test(.enabled(if: MinHasher.Kernel.best == .avx2, "this CPU has no AVX2"))
    func avx2KernelGivesThePortableValues() {
        let portable = MinHasher(kernel: .portable)
        let avx2 = MinHasher(kernel: .avx2)
        let texts = GeneratedCorpus(size: 300, seed: 5).texts + [ebike, "", "桥", "ABC１２３", "é\u{301}电动车"]
        for text in texts {
            #expect(avx2.signature(ofText: text) == portable.signature(ofText: text), "\(text)")
        }
        let longer = MinHasher(count: 200, seed: 3, kernel: .avx2)
        #expect(longer.signature(ofText: ebike) == MinHasher(count: 200, seed: 3, kernel: .portable).signature(ofText: ebike))
    }

    @Test func estimatesTrackExactJaccardAcrossManyPairs() {
        // One-permutation hashing must estimate as well as independent hash functions: over
        // pairs spread from unrelated to identical, the error stays small on average and bounded.
        let sentences = [ebike, paraphrase, canteen, commonWords]
        var errors: [Double] = []
        for (i, a) in sentences.enumerated() {
            for b in sentences[i...] {
                for cut in stride(from: 0, through: 40, by: 8) {
                    let shortened = String(b.dropLast(cut))
                    let exact = Shingles.jaccard(Shingles.of(a), Shingles.of(shortened))
                    let estimate = MinHasher.similarity(hasher.signature(ofText: a), hasher.signature(ofText: shortened))
                    errors.append(abs(exact - estimate))
                }
            }
        }
        let mean = errors.reduce(0, +) / Double(errors.count)
        #expect(mean < 0.05, "mean absolute error \(mean)")
        #expect(errors.max()! < 0.15)
    }

    @Test func bandingFollowsTheThreshold() {
        let banding = LSHBands.forThreshold(0.5)
        #expect(banding.bands * banding.rows <= 128)
        #expect(banding.candidateProbability(0.5) >= 0.95, "clues at the threshold are found")
        #expect(banding.candidateProbability(0.1) < 0.05, "unrelated clues are rarely candidates")
        let strict = LSHBands.forThreshold(0.7)
        #expect(strict.rows > banding.rows, "a higher threshold bands more rows together")
        #expect(strict.candidateProbability(0.7) >= 0.95 && strict.candidateProbability(0.35) < banding.candidateProbability(0.25))
    }

    /// The counted lookup finds exactly the ids that share at least so many band keys, with one
    /// tally reused across lookups (stale counts of earlier lookups must not leak in).
    @Test func countedLookupMatchesCountingBandKeysByHand() {
        let corpus = GeneratedCorpus(size: 400, seed: 11)
        let banding = LSHBands.stored
        var index = LSHIndex(banding: banding)
        let keys = corpus.texts.map { banding.keys(of: hasher.signature(ofText: $0)) }
        for (id, text) in corpus.texts.enumerated() { index.insert(id, signature: hasher.signature(ofText: text)) }
        var tally = LSHTally()
        var nonEmpty = 0
        for minimum in [1, 2, 3] {
            for (id, text) in corpus.texts.enumerated() {
                let found = index.candidates(for: hasher.signature(ofText: text), sharingAtLeast: minimum, tally: &tally)
                let expected = keys.indices.filter { other in
                    zip(keys[id], keys[other]).filter { $0 == $1 }.count >= minimum
                }
                #expect(found.sorted() == expected, "clue \(id), at least \(minimum) bands")
                #expect(found.count == Set(found).count, "no id twice")
                if expected.count > 1 { nonEmpty += 1 }
            }
        }
        #expect(nonEmpty > 100, "the corpus has clues sharing bands (\(nonEmpty))")
    }

    /// Recall of LSH + signature check against brute-force Jaccard at the same threshold, on a
    /// generated corpus of variants of a few dozen issues.
    @Test func recallAgainstBruteForceOnAGeneratedCorpus() {
        let threshold = 0.5
        let corpus = GeneratedCorpus(size: 1_500, seed: 7)
        let banding = LSHBands.forThreshold(threshold)
        var index = LSHIndex(banding: banding)
        var shingles: [Set<UInt64>] = []
        var signatures: [[UInt32]] = []
        var truePairs = 0, foundPairs = 0, falsePairs = 0
        for (id, text) in corpus.texts.enumerated() {
            let set = Shingles.of(text)
            let signature = hasher.signature(of: set)
            let candidates = index.candidates(for: signature)
            for earlier in 0..<id where Shingles.jaccard(set, shingles[earlier]) >= threshold {
                truePairs += 1
                if candidates.contains(earlier) && MinHasher.similarity(signature, signatures[earlier]) >= threshold - 0.1 { foundPairs += 1 }
            }
            for earlier in candidates where Shingles.jaccard(set, shingles[earlier]) < threshold - 0.2 { falsePairs += 1 }
            index.insert(id, signature: signature)
            shingles.append(set)
            signatures.append(signature)
        }
        let recall = Double(foundPairs) / Double(max(truePairs, 1))
        #expect(truePairs > 1_000, "the corpus has duplicates to find (\(truePairs))")
        #expect(recall >= 0.95, "recall \(recall) over \(truePairs) pairs")
        #expect(falsePairs < truePairs / 10, "\(falsePairs) clearly dissimilar candidates")
    }
}

/// Clues about a few dozen issues, each written in several ways: sentences are picked, dropped,
/// reordered and padded with everyday words, the way residents write about the same problem.
struct GeneratedCorpus {
    let texts: [String]

    static let issues: [[String]] = [
        ["电动自行车在楼道内充电", "存在火灾隐患", "建议建设集中充电桩", "加强物业巡查"],
        ["社区长者饭堂排队时间长", "午餐时段排队超过半小时", "建议增加供餐窗口", "推行线上预约"],
        ["老旧小区加装电梯协调难", "低层住户意见不一", "建议建立街道协调机制", "公开补贴标准"],
        ["沙园七街架空线杂乱", "雨天有安全隐患", "推动三线下地", "统一规划管线"],
        ["琶洲人才公寓配套不足", "周边缺少商业和交通", "增加公交线路", "引入便民商业"],
        ["历史建筑长期闲置", "缺乏维护", "引入社会资本活化利用", "设立公共文化空间"],
        ["珠江沿岸步道照明不足", "夜间散步不安全", "增设路灯", "加强治安巡逻"],
        ["学校周边上下学时段拥堵", "接送车辆乱停", "设置临时停车区", "错峰放学"],
        ["农贸市场卫生条件差", "污水横流气味难闻", "升级改造市场", "落实保洁责任"],
        ["政务服务网上办理事项少", "群众多次跑腿", "扩大一网通办范围", "优化办事流程"],
    ]
    static let padding = ["我们小区", "希望有关部门", "尽快", "认真研究", "谢谢", "居民普遍反映", "近期", "确实"]

    init(size: Int, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        var texts: [String] = []
        for _ in 0..<size {
            let issue = Self.issues[Int.random(in: 0..<Self.issues.count, using: &generator)]
            var sentences = issue.filter { _ in Int.random(in: 0..<10, using: &generator) < 9 }
            if sentences.isEmpty { sentences = [issue[0]] }
            if Bool.random(using: &generator) { sentences.swapAt(0, sentences.count - 1) }
            let padding = (0..<Int.random(in: 0...2, using: &generator)).map { _ in Self.padding.randomElement(using: &generator)! }
            texts.append((padding + sentences).joined(separator: "，") + "。")
        }
        self.texts = texts
    }
}

/// A deterministic generator, so the corpus is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
