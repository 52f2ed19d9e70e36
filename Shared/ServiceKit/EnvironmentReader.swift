import Foundation

/// Reads configuration from environment variables and collects every problem, so a bad start
/// reports all of them at once, one line per variable.
public final class EnvironmentReader {
    public let environment: [String: String]
    public private(set) var problems: [String] = []

    public init(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func problem(_ name: String, _ message: String) {
        problems.append("\(name): \(message)")
    }

    /// A non-empty string, or the default; a missing required value is a problem.
    public func string(_ name: String, default defaultValue: String? = nil, help: String) -> String {
        if let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { return value }
        if let defaultValue { return defaultValue }
        problem(name, "required (\(help))")
        return ""
    }

    public func optionalString(_ name: String) -> String? {
        guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    public func integer(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        guard let text = optionalString(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            problem(name, "must be a whole number in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
            return defaultValue
        }
        return value
    }

    public func choice<T: RawRepresentable & CaseIterable>(_ name: String, default defaultValue: T) -> T where T.RawValue == String {
        guard let text = optionalString(name) else { return defaultValue }
        guard let value = T(rawValue: text.lowercased()) else {
            problem(name, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
            return defaultValue
        }
        return value
    }

    /// Throws one error listing every problem found so far.
    public func validate() throws(ConfigurationError) {
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public var problems: [String]
    public var description: String { problems.map { "configuration error: \($0)" }.joined(separator: "\n") }
}
