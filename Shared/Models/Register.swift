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

    public init(
        code: String, kind: Receiver.Kind, name: String, sector: String? = nil, specialCommittee: String? = nil, studio: String? = nil,
        street: String? = nil, active: Bool = true
    ) {
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

    /// The receiver a clue is credited to: the register's entry for `receiver.name` (a code or an
    /// exact name), with its code and the studio it collects for. A district that keeps no
    /// register of this kind yet takes the name as given (mapped later by a reviewed mapping).
    /// Refusals say why in the words staff read, with the closest names to choose from.
    public static func credit(_ receiver: Receiver, in register: [RegisterEntry]) -> Result<Receiver, ReceiverRefusal> {
        let text = receiver.name
        var outcome = resolve(text, kind: receiver.kind, in: register)
        if case .unknown = outcome, let entry = register.first(where: { $0.code.lowercased() == normalized(text).lowercased() }) {
            // A code names one entry whatever kind the form assumed from the wording.
            outcome = entry.active ? .found(entry) : .inactive(entry)
        }
        let kindName = receiver.kind == .studio ? "工作室" : "委员"
        switch outcome {
        case .found(let entry):
            return .success(Receiver(kind: entry.kind, name: entry.name, code: entry.code, studio: entry.kind == .studio ? entry.code : entry.studio))
        case .unknown(let closest):
            guard register.contains(where: { $0.kind == receiver.kind }) else { return .success(receiver) }
            let hint = closest.isEmpty ? "请先在登记册中登记" : "最接近的：" + closest.joined(separator: "、")
            return .failure(ReceiverRefusal(message: "登记册中没有名为“\(text)”的\(kindName)；\(hint)"))
        case .inactive(let entry):
            return .failure(ReceiverRefusal(message: "“\(entry.name)”（\(entry.code)）在登记册中已停用"))
        case .ambiguous(let codes):
            return .failure(ReceiverRefusal(message: "登记册中有多位名为“\(text)”的\(kindName)，请填写编号：\(codes.joined(separator: "、"))"))
        }
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

/// A receiver the register cannot credit, with the reason in the words staff read.
public struct ReceiverRefusal: Error, Sendable, Hashable {
    public var message: String

    public init(message: String) {
        self.message = message
    }
}

extension RegisterEntry {
    /// Whether `code` is a register code: ASCII letters, digits, `-` and `_`, at most 40.
    public static func isCode(_ code: String) -> Bool {
        code.utf8.count <= 40 && code.first.map { $0.isASCII && ($0.isLetter || $0.isNumber) } == true
            && code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// What is wrong with the entry, each with its field, given the register's studios by code:
    /// a member's studio must be one of them.
    public func problems(studios: Set<String>) -> [(field: String, message: String)] {
        var problems: [(field: String, message: String)] = []
        if !Self.isCode(code) { problems.append(("code", "编号只能由字母、数字、- 和 _ 组成（至多 40 位），不是“\(code)”")) }
        if name.trimmingCharacters(in: .whitespaces).isEmpty { problems.append(("name", "姓名或名称不能为空")) }
        if name.count > 100 { problems.append(("name", "姓名或名称至多 100 字")) }
        for (field, text) in [("sector", sector), ("specialCommittee", specialCommittee), ("street", street)] where (text?.count ?? 0) > 100 {
            problems.append((field, "至多 100 字"))
        }
        if let studio {
            if kind == .studio {
                problems.append(("studio", "工作室不属于另一个工作室"))
            } else if !studios.contains(studio) {
                problems.append(("studio", "登记册中没有编号为“\(studio)”的工作室"))
            }
        }
        return problems
    }
}

/// A register as a CSV file (导入登记册): a header naming the columns, then one entry a line.
public enum RegisterRows {
    public enum Column: String, CaseIterable, Sendable {
        case code, kind, name, sector, specialCommittee, studio, street, active
    }

    static let names: [Column: [String]] = [
        .code: ["编号", "code"], .kind: ["类型", "kind"], .name: ["姓名/名称", "姓名", "名称", "name"], .sector: ["界别", "sector"],
        .specialCommittee: ["专委会", "专门委员会", "specialcommittee"], .studio: ["所属工作室", "工作室", "studio"],
        .street: ["街道", "street"], .active: ["状态", "active"],
    ]

    /// Where each column is, from the header line; the code, kind and name must be there.
    public static func layout(header: [String]) -> Result<[Column: Int], ReceiverRefusal> {
        var layout: [Column: Int] = [:]
        for (index, title) in header.enumerated() {
            let wanted = RegisterLookup.normalized(title).lowercased()
            if let column = Column.allCases.first(where: { names[$0]?.contains(wanted) == true }), layout[column] == nil { layout[column] = index }
        }
        let missing = [Column.code, .kind, .name].filter { layout[$0] == nil }
        guard missing.isEmpty else {
            return .failure(ReceiverRefusal(message: "首行须有列：" + missing.compactMap { names[$0]?.first }.joined(separator: "、")))
        }
        return .success(layout)
    }

    /// One line as an entry; its studio as written (a code or a studio's name), resolved by the caller.
    public static func entry(_ fields: [String], layout: [Column: Int]) -> Result<(entry: RegisterEntry, studio: String?), ReceiverRefusal> {
        func value(_ column: Column) -> String? {
            guard let index = layout[column], index < fields.count else { return nil }
            let text = fields[index].trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? nil : text
        }
        guard let code = value(.code) else { return .failure(ReceiverRefusal(message: "缺少编号")) }
        let kind: Receiver.Kind
        switch value(.kind) {
        case "委员", "member": kind = .member
        case "工作室", "委员工作室", "studio": kind = .studio
        case let other: return .failure(ReceiverRefusal(message: "类型须为“委员”或“工作室”，不是“\(other ?? "")”"))
        }
        guard let name = value(.name) else { return .failure(ReceiverRefusal(message: "缺少姓名或名称")) }
        let active: Bool
        switch value(.active) {
        case nil, "在册", "启用", "true", "active": active = true
        case "停用", "离任", "false", "inactive": active = false
        case let other: return .failure(ReceiverRefusal(message: "状态须为“在册”或“停用”，不是“\(other ?? "")”"))
        }
        return .success(
            (
                RegisterEntry(
                    code: code, kind: kind, name: name, sector: value(.sector), specialCommittee: value(.specialCommittee),
                    street: value(.street), active: active), value(.studio)
            ))
    }
}
