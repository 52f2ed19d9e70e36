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

/// The machine the figures come from, printed first by every benchmark.
func machineLine() -> String {
    "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB"
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    seconds(ContinuousClock.now - start)
}

/// Progress with rate and ETA on standard error: rewritten in place on a terminal, a plain line
/// every ten seconds (and at the end) otherwise, so logs of long runs stay short.
final class ProgressLine {
    private var lastLine = ContinuousClock.now

    func report(_ phase: String, done: Int, of total: Int, since start: ContinuousClock.Instant) {
        let elapsed = seconds(since: start)
        let perSecond = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = perSecond > 0 ? Double(total - done) / perSecond : 0
        let line = "\(phase): \(done)/\(total)  \(Int(perSecond.rounded()))/s  ETA \(Int(eta.rounded())) s"
        if isatty(STDERR_FILENO) == 1 {
            FileHandle.standardError.write(Data("\r\(line)   \(done >= total ? "\n" : "")".utf8))
        } else if done >= total || ContinuousClock.now - lastLine > .seconds(10) {
            lastLine = ContinuousClock.now
            FileHandle.standardError.write(Data("\(line)\n".utf8))
        }
    }
}
