import ArgumentParser
import Foundation

/// bench-assignment: the assignment benchmarks. `suggest` needs nothing else; `pipeline` needs
/// DATABASE_URL, KAFKA_BROKERS and (for the local mock cluster) KAFKA_MOCK_CONTROL, which
/// ops/bench/assignment/run.sh provides.
@main
struct AssignmentBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-assignment",
        abstract: "Assignment benchmarks: one suggestion in memory, and taking filed proposals in end to end.",
        subcommands: [SuggestBenchmark.self, PipelineBenchmark.self])
}
