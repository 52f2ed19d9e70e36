import Foundation

// What every benchmark executable prints and draws with: the machine line, durations, progress
// with rate and ETA, and a seeded generator so every run draws the same data.

/// The machine the figures come from, printed first by every benchmark.
public func machineLine() -> String {
    "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB"
}

public func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

public func seconds(since start: ContinuousClock.Instant) -> Double {
    seconds(ContinuousClock.now - start)
}

public func percent(_ part: Int, of whole: Int) -> Double {
    whole > 0 ? Double(part) * 100 / Double(whole) : 0
}

/// Progress with rate and ETA on standard error: rewritten in place on a terminal, a plain line
/// every ten seconds (and at the end) otherwise, so logs of long runs stay short.
public final class ProgressLine {
    private var lastLine = ContinuousClock.now

    public init() {}

    public func report(_ phase: String, done: Int, of total: Int, since start: ContinuousClock.Instant) {
        let elapsed = seconds(since: start)
        let perSecond = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = perSecond > 0 ? Double(total - done) / perSecond : 0
        // A rate over less than a second (a first batch arriving at once) says nothing yet.
        let rate = elapsed >= 1 ? "\(Int(perSecond.rounded()))/s  ETA \(Int(eta.rounded())) s" : "…"
        let line = "\(phase): \(done)/\(total)  \(rate)"
        if isatty(STDERR_FILENO) == 1 {
            FileHandle.standardError.write(Data("\r\(line)   \(done >= total ? "\n" : "")".utf8))
        } else if done >= total || ContinuousClock.now - lastLine > .seconds(10) {
            lastLine = ContinuousClock.now
            FileHandle.standardError.write(Data("\(line)\n".utf8))
        }
    }
}

/// SplitMix64: a small deterministic generator, so every run draws the same corpus.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// True with probability `share` (0 to 1).
    public mutating func chance(_ share: Double) -> Bool { unit() < share }
    public mutating func pick<Element>(_ items: [Element]) -> Element { items[below(items.count)] }

    /// `count` distinct numbers below `bound` (all of them when there are fewer).
    public mutating func distinct(_ count: Int, below bound: Int) -> [Int] {
        var chosen: [Int] = []
        while chosen.count < min(count, bound) {
            let value = below(bound)
            if !chosen.contains(value) { chosen.append(value) }
        }
        return chosen
    }

    /// A version-4 UUID from the stream, the same from run to run.
    public mutating func uuid() -> UUID {
        let words = [next(), next()]
        var bytes = (0..<16).map { index in UInt8(truncatingIfNeeded: words[index / 8] >> UInt64(56 - 8 * (index % 8))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}
