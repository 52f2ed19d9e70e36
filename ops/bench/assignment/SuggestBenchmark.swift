import ArgumentParser
import AssignmentService
import BenchSupport
import Foundation
import Models
import Similarity

/// One suggestion as the assignment service computes it for a filed proposal, in memory on one
/// core: the proposal's signature, its nearest past proposals in the LSH index, and the ranking
/// of the district's units by domain, keywords and who handled those past proposals. The issue
/// asks p99 ≤ 20 ms with 100,000 past proposals and 500 units.
struct SuggestBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suggest",
        abstract: "Latency of one unit suggestion (signature + nearest past proposals + ranking) and the ranking's accuracy.")

    @Option(help: "Past proposals, with the units that handled them, in the in-memory index.") var past = 100_000
    @Option(help: "New proposals suggested for, each timed.") var queries = 5_000
    @Option(help: "Handling units in the district's directory.") var units = 500
    @Option(help: "Seed of the generated directory and proposals.") var seed: UInt64 = 42

    func validate() throws {
        guard past >= 0, queries > 0, units > 0 else { throw ValidationError("--queries and --units must be positive, --past not negative") }
    }

    func run() throws {
        print(machineLine())
        let directory = DistrictDirectory(units: units, seed: seed)
        print(directory.summary)
        let weights = SuggestionWeights()
        let suggester = UnitSuggester(
            units: directory.units.map {
                UnitProfile(id: $0.id, code: $0.code, name: $0.name, domains: Set($0.domainCodes), keywords: $0.keywords)
            },
            weights: weights)
        let hasher = MinHasher()
        // Past and new proposals come from one stream: new ones restate past issues as in a real district.
        var proposals = ProposalStream(directory: directory, count: past + queries, seed: seed &+ 1).makeIterator()

        // The district's past: each proposal with the units that handled it, lead first.
        let progress = ProgressLine()
        var index = PastProposals()
        var characters = 0
        let indexStart = ContinuousClock.now
        for number in 0..<past {
            guard let proposal = proposals.next() else { break }
            characters += proposal.characters
            index.record(
                PastProposals.Entry(
                    proposalID: UUID(), caseNumber: CaseNumber(prefix: "BN", session: 1, year: 2025, sequence: number + 1).rawValue,
                    signature: hasher.signature(ofText: proposal.text), handledBy: handlers(of: proposal, in: directory)))
            if (number + 1) % 1_000 == 0 || number + 1 == past {
                progress.report("indexing past proposals", done: number + 1, of: past, since: indexStart)
            }
        }
        print(
            String(
                format: "past proposals: %d indexed in %.1f s (signature and LSH insert), %d characters on average",
                index.count, seconds(since: indexStart), characters / max(past, 1)))

        // New proposals, each timed from its text to the ranked suggestion.
        var latencies: [Double] = []
        latencies.reserveCapacity(queries)
        var right = 0, restated = 0, rightRestated = 0, withSimilar = 0, similarFound = 0
        for _ in 0..<queries {
            guard let proposal = proposals.next() else { break }
            let text = proposal.text
            let start = ContinuousClock.now
            let signature = hasher.signature(ofText: text)
            let similar = index.nearest(
                to: signature, limit: weights.neighbours, minimumSimilarity: weights.minimumSimilarity, sharingAtLeast: weights.minimumSharedBands)
            let suggestion = suggester.suggest(text: text, domain: proposal.domain, similar: similar)
            latencies.append(seconds(since: start) * 1_000)

            let isRight = suggestion.lead.first?.unitID == directory.units[proposal.responsible].id
            if isRight { right += 1 }
            if proposal.restates {
                restated += 1
                if isRight { rightRestated += 1 }
            }
            if !similar.isEmpty { withSimilar += 1 }
            similarFound += similar.count
        }

        let count = latencies.count
        let sorted = latencies.sorted()
        func percentile(_ share: Double) -> Double {
            sorted[min(count - 1, max(0, Int((share * Double(count)).rounded(.up)) - 1))]
        }
        let total = latencies.reduce(0, +)
        let p99 = percentile(0.99)
        print(
            String(
                format:
                    "suggestion (signature, nearest past proposals, ranking of %d units; one core; %d queries against %d past proposals): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; %.0f suggestions/s",
                directory.units.count, count, index.count, percentile(0.5), percentile(0.9), p99, sorted[count - 1], Double(count) / (total / 1_000)))
        let newIssues = count - restated
        print(
            String(
                format:
                    "ranking accuracy: the top suggested lead is the responsible unit for %.1f %% of queries (%.1f %% of %d restating a past issue, %.1f %% of %d new issues); similar past proposals found for %.1f %% of queries, %.1f on average",
                percent(right, of: count), percent(rightRestated, of: restated), restated, percent(right - rightRestated, of: newIssues), newIssues,
                percent(withSimilar, of: count), Double(similarFound) / Double(count)))
        print("target p99 ≤ 20 ms: \(p99 <= 20 ? "met" : "NOT met") (p99 \(String(format: "%.2f", p99)) ms)")
    }

    /// The units that handled a past proposal, lead first.
    func handlers(of proposal: GeneratedProposal, in directory: DistrictDirectory) -> [UUID] {
        var ids = [directory.units[proposal.responsible].id]
        if let coUnit = proposal.coUnit { ids.append(directory.units[coUnit].id) }
        return ids
    }
}

func percent(_ part: Int, of whole: Int) -> Double {
    whole > 0 ? Double(part) * 100 / Double(whole) : 0
}
