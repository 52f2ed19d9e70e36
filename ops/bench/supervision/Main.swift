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

func percent(_ part: Int, of whole: Int) -> Double {
    whole > 0 ? Double(part) * 100 / Double(whole) : 0
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

/// SplitMix64: a small deterministic generator, so every run draws the same assignments.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// True with probability `share` (0 to 1).
    mutating func chance(_ share: Double) -> Bool { unit() < share }

    /// A version-4 UUID from the stream: the evaluation breaks ties by unit id, so ids must
    /// repeat from run to run too.
    mutating func uuid() -> UUID {
        let words = [next(), next()]
        var bytes = (0..<16).map { index in UInt8(truncatingIfNeeded: words[index / 8] >> UInt64(56 - 8 * (index % 8))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
