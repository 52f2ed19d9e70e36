import ArgumentParser
import Foundation

/// bench-supervision: the supervision benchmarks. `evaluation` needs nothing else; `timers` needs
/// DATABASE_URL, which ops/bench/supervision/run.sh provides (no Kafka: a timer pass only writes
/// outbox rows).
@main
struct SupervisionBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-supervision",
        abstract: "Supervision benchmarks: a district-year's unit evaluation in memory, and one scheduler pass over due timers.",
        subcommands: [EvaluationBenchmark.self, TimerBenchmark.self])
}
