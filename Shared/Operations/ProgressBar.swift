import Foundation
import Synchronization

/// Progress of a long operation on standard error: a bar with rate and time left, redrawn in
/// place on a terminal; plain lines every few seconds when the output is a file or a pipe.
public final class ProgressBar {
    private let title: String
    private var total: Int?
    private let interactive: Bool
    private let started = ContinuousClock.now
    private var lastDrawn = ContinuousClock.now - .seconds(60)
    private var done = 0
    private let output = FileHandle.standardError

    public init(_ title: String, total: Int?, interactive: Bool = isatty(FileHandle.standardError.fileDescriptor) != 0) {
        self.title = title
        self.total = total
        self.interactive = interactive
    }

    public func update(_ done: Int, total: Int? = nil) {
        self.done = done
        if let total { self.total = total }
        let now = ContinuousClock.now
        // 10 redraws a second on a terminal; a line every 5 s in a log.
        guard now - lastDrawn >= (interactive ? .milliseconds(100) : .seconds(5)) else { return }
        lastDrawn = now
        draw(final: false)
    }

    public func finish() {
        draw(final: true)
    }

    private func draw(final: Bool) {
        let elapsed = (ContinuousClock.now - started).components
        let seconds = max(0.001, Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
        let line = Self.line(title: title, done: done, total: total, seconds: seconds, barWidth: interactive ? 30 : 0)
        output.write(Data(((interactive ? "\r\u{1B}[2K" : "") + line + (interactive && !final ? "" : "\n")).utf8))
    }

    /// `title [#####.....] 512/1,000 51% 250/s ETA 2s`; without a bar when `barWidth` is 0.
    static func line(title: String, done: Int, total: Int?, seconds: Double, barWidth: Int) -> String {
        let rate = Double(done) / seconds
        var parts = [title]
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            if barWidth > 0 {
                let filled = Int(fraction * Double(barWidth))
                parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "]")
            }
            parts.append("\(done)/\(total)")
            parts.append(String(format: "%.0f%%", fraction * 100))
            parts.append(String(format: "%.0f/s", rate))
            let left = rate > 0 ? Double(total - done) / rate : 0
            parts.append(done >= total ? String(format: "in %.1fs", seconds) : "ETA \(duration(left))")
        } else {
            parts.append("\(done)")
            parts.append(String(format: "%.0f/s", rate))
        }
        return parts.joined(separator: " ")
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(String(format: "%02d", whole % 60))s" }
        return "\(whole / 3600)h\(String(format: "%02d", whole / 60 % 60))m"
    }
}

/// A progress bar that `@Sendable` progress callbacks may update.
public final class LockedProgress: Sendable {
    private let bar: Mutex<ProgressBar>

    public init(_ bar: sending ProgressBar) { self.bar = Mutex(bar) }

    public func update(_ done: Int, total: Int? = nil) { bar.withLock { $0.update(done, total: total) } }
    public func finish() { bar.withLock { $0.finish() } }
}
