import ArgumentParser

/// bench-triage: the triage benchmarks of issue 4. `core` needs nothing else; `pipeline` needs
/// DATABASE_URL, KAFKA_BROKERS and (for the local mock cluster) KAFKA_MOCK_CONTROL, which
/// ops/bench/triage/run.sh provides.
@main
struct TriageBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-triage",
        abstract: "Triage benchmarks: the similarity core in memory, and automatic triage end to end.",
        subcommands: [CoreBenchmark.self, PipelineBenchmark.self])
}
