import Foundation
import ServiceKit
import Yams

/// Files of the repository, found from this source file's place in it.
enum RepositoryFiles {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path)
    }

    static func yaml(_ path: String) throws -> [String: Any] {
        guard let document = try Yams.load(yaml: text(path)) as? [String: Any] else { throw Problem("\(path) is not a YAML mapping") }
        return document
    }

    /// Every metric name the code exports: swift-metrics labels in Shared/ and Services/, the
    /// business gauges' names, and Hummingbird's HTTP metrics as Telemetry renames them.
    static func exportedMetrics() throws -> Set<String> {
        // `up` is Prometheus's own, per scrape target.
        var names: Set<String> = Set(["up"] + Telemetry.renamedMetrics.values)
        let patterns = [#"label: "([a-z_]+)""#, #"Sample\("([a-z_]+)""#]
        for folder in ["Shared", "Services"] {
            let enumerator = FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            while let file = enumerator?.nextObject() as? URL {
                guard file.pathExtension == "swift" else { continue }
                let source = try String(contentsOf: file, encoding: .utf8)
                for pattern in patterns {
                    let expression = try NSRegularExpression(pattern: pattern)
                    for match in expression.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
                        names.insert(String(source[Range(match.range(at: 1), in: source)!]))
                    }
                }
            }
        }
        return names
    }

    /// Metric names a PromQL expression reads (histogram series reduced to their metric).
    static func metrics(in expression: String) -> Set<String> {
        var text = expression
        // Label matchers, label lists, ranges and strings name no metric.
        for pattern in [#"\{[^}]*\}"#, #"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"#, #"\[[^\]]*\]"#, #""[^"]*""#] {
            text = text.replacingOccurrences(of: pattern, with: " ", options: .regularExpression)
        }
        var found: Set<String> = []
        let identifier = try! NSRegularExpression(pattern: #"\b([a-z_][a-z0-9_]*)\b(\s*\()?"#)
        for match in identifier.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard match.range(at: 2).location == NSNotFound else { continue }  // a function call
            let name = String(text[Range(match.range(at: 1), in: text)!])
            guard name.contains("_") || name == "up" else { continue }  // keywords: and, or, unless, bool...
            found.insert(name.replacingOccurrences(of: #"_(bucket|sum|count)$"#, with: "", options: .regularExpression))
        }
        return found
    }
}

struct Problem: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
