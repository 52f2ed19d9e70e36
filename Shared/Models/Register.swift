import Foundation

/// The register of a district's committee members and street studios (委员、委员工作室): who
/// collects clues, counted for quotas and performance records by their entry, not by whatever
/// name a form carried.
public struct RegisterEntry: Codable, Sendable, Hashable {
    /// Short and stable, e.g. `studio-shayuan`, `m-0123`: what CSV files and APIs name.
    public var code: String
    public var kind: Receiver.Kind
    public var name: String
    /// A member's sector (界别).
    public var sector: String?
    /// A member's special committee (专门委员会).
    public var specialCommittee: String?
    /// A member's studio (its code); a studio's own street.
    public var studio: String?
    public var street: String?
    public var active: Bool

    public init(code: String, kind: Receiver.Kind, name: String, sector: String? = nil, specialCommittee: String? = nil, studio: String? = nil,
                street: String? = nil, active: Bool = true) {
        self.code = code
        self.kind = kind
        self.name = name
        self.sector = sector
        self.specialCommittee = specialCommittee
        self.studio = studio
        self.street = street
        self.active = active
    }
}

/// Finding the register entry a form's receiver means: its code, or its exact name (spaces and
/// full-width forms aside). Nothing is guessed: an unknown receiver is refused with the closest
/// names, for the person to choose.
public enum RegisterLookup {
    public enum Outcome: Sendable, Hashable {
        case found(RegisterEntry)
        /// No entry has this code or name; `closest` are the likeliest meant, best first.
        case unknown(closest: [String])
        /// The entry exists but is no longer active (a member who left, a studio closed).
        case inactive(RegisterEntry)
        /// More than one entry has this name (two members may share one): the code decides.
        case ambiguous(codes: [String])
    }

    /// The entry `text` names among `entries` of `kind` (nil: either kind).
    public static func resolve(_ text: String, kind: Receiver.Kind?, in entries: [RegisterEntry], suggestions: Int = 3) -> Outcome {
        let wanted = normalized(text)
        let candidates = entries.filter { kind == nil || $0.kind == kind }
        if let entry = candidates.first(where: { $0.code.lowercased() == wanted.lowercased() }) {
            return entry.active ? .found(entry) : .inactive(entry)
        }
        let named = candidates.filter { normalized($0.name) == wanted }
        if named.count > 1 { return .ambiguous(codes: named.map(\.code).sorted()) }
        if let entry = named.first { return entry.active ? .found(entry) : .inactive(entry) }
        let ranked = candidates.filter(\.active)
            .map { (entry: $0, distance: distance(wanted, normalized($0.name))) }
            // Names sharing nothing with what was typed are no suggestion.
            .filter { $0.distance < max(wanted.count, normalized($0.entry.name).count) }
            .sorted { ($0.distance, $0.entry.name) < ($1.distance, $1.entry.name) }
        return .unknown(closest: ranked.prefix(suggestions).map(\.entry.name))
    }

    /// Without spaces, full-width letters and digits as ASCII: what people type differently
    /// for the same name.
    public static func normalized(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars where !CharacterSet.whitespacesAndNewlines.contains(scalar) {
            // Full-width forms (Ａ, １) are ASCII shifted by 0xFEE0.
            if (0xFF01...0xFF5E).contains(scalar.value), let ascii = Unicode.Scalar(scalar.value - 0xFEE0) {
                result.unicodeScalars.append(ascii)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Edit distance in characters (insert, delete, replace), the measure of "closest".
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
