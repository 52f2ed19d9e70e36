import ArgumentParser
import BenchSupport
import Foundation
import Similarity
import TriageService

/// The similarity core alone, in memory: signature and LSH candidate lookup per clue, grouping
/// as triage does it, on one core; and recall against brute-force Jaccard at the same threshold.
struct CoreBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "Clues/s of signature + candidate lookup on one core, and recall against brute force.")

    @Option(help: "Clues grouped in the in-memory index.") var clues = 300_000
    @Option(help: "Clues of the recall sample (brute force compares each query with every earlier clue).") var sample = 10_000
    @Option(help: "Queries checked by brute force in the sample.") var queries = 2_000
    @Option(help: "Similarity threshold.") var threshold = 0.5

    func run() throws {
        let hasher = MinHasher()
        let banding = LSHBands.stored
        let minimumShared = LSHBands.storedMinimumSharedBands
        print(
            "threshold \(threshold): \(banding.bands) bands × \(banding.rows) rows of \(hasher.count) MinHash values; candidates share ≥ \(minimumShared) bands"
        )
        let corpus = Array(Corpus(count: clues, seed: 7))
        let characters = corpus.reduce(0) { $0 + $1.text.count }
        print("corpus: \(clues) clues, \(characters / clues) characters on average")

        // Signatures alone, with the kernel triage uses and with the portable one.
        var start = ContinuousClock.now
        var checksum: UInt32 = 0
        for clue in corpus { checksum ^= hasher.signature(ofText: clue.text)[0] }
        let signing = seconds(since: start)
        let portable = MinHasher(kernel: .portable)
        start = ContinuousClock.now
        var portableChecksum: UInt32 = 0
        for clue in corpus.prefix(50_000) { portableChecksum ^= portable.signature(ofText: clue.text)[0] }
        let portableSigning = seconds(since: start)

        // Grouping as triage does it: join the most similar representative at ≥ threshold among
        // the candidates, or start a group and become its representative (only those are indexed).
        var index = LSHIndex(banding: banding)
        var tally = LSHTally()
        var representatives: [[UInt32]] = []
        var candidatesSeen = 0
        start = ContinuousClock.now
        for (number, clue) in corpus.enumerated() {
            let signature = hasher.signature(ofText: clue.text)
            let candidates = index.candidates(for: signature, sharingAtLeast: minimumShared, tally: &tally)
            candidatesSeen += candidates.count
            let joins = candidates.contains { MinHasher.similarity(signature, representatives[$0]) >= threshold }
            if !joins {
                index.insert(representatives.count, signature: signature)
                representatives.append(signature)
            }
            if number > 0 && number % 100_000 == 0 { FileHandle.standardError.write(Data("  \(number) clues grouped\n".utf8)) }
        }
        let grouping = seconds(since: start)
        // How much of that is the lookup: the same clues against the finished index, without
        // signing (signatures kept from a first pass), and how many ids one lookup walks.
        let lookupSignatures = corpus.prefix(50_000).map { hasher.signature(ofText: $0.text) }
        start = ContinuousClock.now
        var found = 0
        for signature in lookupSignatures { found += index.candidates(for: signature, sharingAtLeast: minimumShared, tally: &tally).count }
        let lookups = seconds(since: start)
        let sharingOne = lookupSignatures.prefix(5_000).reduce(0) { $0 + index.candidates(for: $1, sharingAtLeast: 1, tally: &tally).count }
        print(
            String(
                format: "candidate lookups alone: %.0f/s against %d groups (%.1f groups share ≥ 1 band with a clue, %.1f share ≥ %d)",
                Double(lookupSignatures.count) / lookups, representatives.count, Double(sharingOne) / 5_000,
                Double(found) / Double(lookupSignatures.count), minimumShared))
        print(
            String(
                format: "signatures only: %.0f clues/s on one core with the %@ kernel (checksum %u); portable kernel %.0f clues/s",
                Double(clues) / signing, "\(hasher.kernel)", checksum, Double(min(clues, 50_000)) / portableSigning))
        print(
            String(
                format:
                    "similarity core: %.0f clues/s on one core (signature, candidate lookup, similarity check, group or index; %.2f candidates per clue, %d groups for %d clues)",
                Double(clues) / grouping, Double(candidatesSeen) / Double(clues), representatives.count, clues))

        // Recall: for sampled queries, each earlier clue at exact Jaccard ≥ threshold should be a
        // candidate (≥ the bands the store asks for) whose estimated similarity passes the same threshold.
        let sampleClues = Array(Corpus(count: sample, seed: 8))
        let shingles = sampleClues.map { Shingles.of($0.text) }
        let signatures = sampleClues.map { hasher.signature(ofText: $0.text) }
        var sampleIndex = LSHIndex(banding: banding)
        var random = SplitMix64(seed: 9)
        var querySet = Set<Int>()
        while querySet.count < min(queries, sample) { querySet.insert(random.below(sample)) }
        var truePairs = 0, candidatesFound = 0, decided = 0, falseJoins = 0
        start = ContinuousClock.now
        for id in 0..<sample {
            if querySet.contains(id) {
                let candidates = Set(sampleIndex.candidates(for: signatures[id], sharingAtLeast: minimumShared, tally: &tally))
                for earlier in 0..<id {
                    let exact = Shingles.jaccard(shingles[id], shingles[earlier])
                    let estimatePasses = MinHasher.similarity(signatures[id], signatures[earlier]) >= threshold
                    if exact >= threshold {
                        truePairs += 1
                        if candidates.contains(earlier) {
                            candidatesFound += 1
                            if estimatePasses { decided += 1 }
                        }
                    } else if candidates.contains(earlier) && estimatePasses {
                        falseJoins += 1
                    }
                }
            }
            sampleIndex.insert(id, signature: signatures[id])
        }
        print(
            String(
                format:
                    "recall against brute force (Jaccard ≥ %.2f, %d queries in a %d-clue sample, %d true pairs): candidates %.4f, after the similarity check %.4f; %d pairs below the threshold passed the check",
                threshold, querySet.count, sample, truePairs, Double(candidatesFound) / Double(max(truePairs, 1)),
                Double(decided) / Double(max(truePairs, 1)), falseJoins))
    }
}
