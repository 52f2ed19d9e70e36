import ArgumentParser
import Foundation
import TriageService

/// The similarity core alone, in memory: MinHash signature and LSH candidate lookup per clue,
/// on one core, and recall against brute-force Jaccard at the same threshold.
@main
struct SimilarityBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-triage-similarity",
        abstract: "Clues/s of signature + candidate lookup on one core, and recall against brute force.")

    @Option(help: "Clues in the index.") var clues = 200_000
    @Option(help: "Clues of the recall sample (brute force compares each query with all of them).") var sample = 10_000
    @Option(help: "Queries checked by brute force in the sample.") var queries = 1_000
    @Option(help: "Similarity threshold.") var threshold = 0.5

    func run() throws {
        let hasher = MinHasher()
        let banding = LSHBands.forThreshold(threshold)
        print("threshold \(threshold): \(banding.bands) bands × \(banding.rows) rows of \(hasher.count) MinHash values")

        // Grouping as triage does it: a clue joins the group of the first candidate whose
        // signature passes the threshold; only a clue that starts a group is indexed (it is the
        // group's representative), so buckets stay small however many voices a group has.
        let corpus = Corpus(size: clues, seed: 1)
        var index = LSHIndex<Int>(banding: banding)
        var representatives: [Int: [UInt32]] = [:]
        var candidatesSeen = 0
        let start = ContinuousClock.now
        for (id, text) in corpus.texts.enumerated() {
            let signature = hasher.signature(of: Shingles.of(text))
            let candidates = index.candidates(for: signature)
            candidatesSeen += candidates.count
            let group = candidates.first { MinHasher.similarity(signature, representatives[$0]!) >= threshold }
            if group == nil {
                index.insert(id, signature: signature)
                representatives[id] = signature
            }
            if id > 0 && id % 50_000 == 0 { FileHandle.standardError.write(Data("  \(id) clues grouped\n".utf8)) }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "similarity core: %d clues in %.2f s = %.0f clues/s on one core (shingles, signature, candidate lookup, group or index; %.1f candidates per clue, %d groups)",
                     clues, seconds, Double(clues) / seconds, Double(candidatesSeen) / Double(clues), representatives.count))

        // Recall: for sampled queries, every earlier clue at ≥ threshold (brute force) should be a
        // candidate whose signature estimate passes the check triage applies.
        let sampleTexts = Array(Corpus(size: sample, seed: 2).texts)
        let shingles = sampleTexts.map { Shingles.of($0) }
        let signatures = shingles.map { hasher.signature(of: $0) }
        var sampleIndex = LSHIndex<Int>(banding: banding)
        var querySet = Set<Int>()
        var generator = SystemRandomNumberGenerator()
        while querySet.count < min(queries, sample) { querySet.insert(Int.random(in: 0..<sample, using: &generator)) }
        var truePairs = 0, found = 0
        for id in 0..<sample {
            if querySet.contains(id) {
                let candidates = sampleIndex.candidates(for: signatures[id])
                for earlier in 0..<id where Shingles.jaccard(shingles[id], shingles[earlier]) >= threshold {
                    truePairs += 1
                    if candidates.contains(earlier) && MinHasher.similarity(signatures[id], signatures[earlier]) >= threshold - 0.1 { found += 1 }
                }
            }
            sampleIndex.insert(id, signature: signatures[id])
        }
        print(String(format: "recall: %.4f (%d of %d pairs at Jaccard ≥ %.2f found; %d queries in a %d-clue sample)",
                     Double(found) / Double(max(truePairs, 1)), found, truePairs, threshold, querySet.count, sample))
    }
}

/// Variants of a few dozen issues (see Tests/TriageTests for the same idea), with enough
/// distinct issues that the index holds many groups.
struct Corpus {
    let texts: [String]

    static let sentences = [
        "电动自行车在楼道内充电", "存在火灾隐患", "建议建设集中充电桩", "加强物业巡查", "社区长者饭堂排队时间长",
        "午餐时段排队超过半小时", "建议增加供餐窗口", "推行线上预约", "老旧小区加装电梯协调难", "低层住户意见不一",
        "建议建立街道协调机制", "公开补贴标准", "沙园七街架空线杂乱", "雨天有安全隐患", "推动三线下地", "统一规划管线",
        "琶洲人才公寓配套不足", "周边缺少商业和交通", "增加公交线路", "引入便民商业", "历史建筑长期闲置", "缺乏维护",
        "引入社会资本活化利用", "设立公共文化空间", "珠江沿岸步道照明不足", "夜间散步不安全", "增设路灯", "加强治安巡逻",
        "学校周边上下学时段拥堵", "接送车辆乱停", "设置临时停车区", "错峰放学", "农贸市场卫生条件差", "污水横流气味难闻",
        "升级改造市场", "落实保洁责任", "政务服务网上办理事项少", "群众多次跑腿", "扩大一网通办范围", "优化办事流程",
    ]
    static let places = ["沙园", "琶洲", "南石头", "凤阳", "瑞宝", "江海", "新港", "昌岗", "素社", "海幢", "南华西", "龙凤", "赤岗", "滨江", "江南中", "官洲"]

    init(size: Int, seed: UInt64) {
        var state = seed
        func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
        var texts: [String] = []
        texts.reserveCapacity(size)
        for _ in 0..<size {
            // An issue is a place and four sentences of one theme; variants drop or reorder them.
            let place = Self.places[next(Self.places.count)]
            let theme = next(Self.sentences.count / 4) * 4
            var chosen = (0..<4).filter { _ in next(10) < 9 }.map { Self.sentences[theme + $0] }
            if chosen.isEmpty { chosen = [Self.sentences[theme]] }
            if next(2) == 0 { chosen.swapAt(0, chosen.count - 1) }
            texts.append(place + "街" + chosen.joined(separator: "，") + "。")
        }
        self.texts = texts
    }
}
