import Foundation

/// A reply letter to start from (答复函模板), kept by the district or by one handling unit, with
/// placeholders for the case it is used on: `{案号}`, `{标题}`, `{承办单位}`, `{交办日期}`,
/// `{答复期限}`, `{今天}`.
public enum ReplyTemplate {
    public enum Placeholder: String, CaseIterable, Sendable {
        case caseNumber = "案号"
        case title = "标题"
        case unit = "承办单位"
        case assignedOn = "交办日期"
        case deadline = "答复期限"
        case today = "今天"
    }

    /// The placeholders a text names that are not known, in order of appearance (a typo such
    /// as `{按号}` would otherwise reach the proposer as it is).
    public static func unknownPlaceholders(in text: String) -> [String] {
        let known = Set(Placeholder.allCases.map(\.rawValue))
        var unknown: [String] = []
        for name in names(in: text) where !known.contains(name) && !unknown.contains(name) { unknown.append(name) }
        return unknown
    }

    /// The text with each placeholder replaced by its value; a placeholder without a value is
    /// left for the person to fill in.
    public static func fill(_ text: String, with values: [Placeholder: String]) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { return result + rest[open...] }
            let name = String(after[..<close])
            if let placeholder = Placeholder(rawValue: name), let value = values[placeholder] {
                result += value
            } else {
                result += "{\(name)}"
            }
            rest = after[after.index(after: close)...]
        }
        return result + rest
    }

    static func names(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { break }
            // A brace pair around a long text is prose, not a placeholder.
            let name = after[..<close]
            if !name.isEmpty && name.count <= 10 && !name.contains("{") { names.append(String(name)) }
            rest = after[after.index(after: close)...]
        }
        return names
    }
}
