import Foundation

/// Where a filed proposal stands, as the public feedback list (结果反馈清单) shows it.
public enum PublicProposalStatus: String, Codable, Sendable, CaseIterable {
    case filed, assigned, replied, evaluated, closed

    public var label: String {
        switch self {
        case .filed: "已立案"
        case .assigned: "办理中"
        case .replied: "已答复"
        case .evaluated: "已评价"
        case .closed: "已办结"
        }
    }

    /// One unit's part as the read model knows it.
    public struct Part: Sendable, Hashable {
        public var isLead: Bool
        public var superseded: Bool
        public var repliedAt: Date?
        public var reopenedAt: Date?
        public var evaluatedAt: Date?

        public init(isLead: Bool, superseded: Bool = false, repliedAt: Date? = nil, reopenedAt: Date? = nil, evaluatedAt: Date? = nil) {
            self.isLead = isLead
            self.superseded = superseded
            self.repliedAt = repliedAt
            self.reopenedAt = reopenedAt
            self.evaluatedAt = evaluatedAt
        }

        /// Replied, and not sent back for re-handling since.
        public var standingReply: Bool {
            guard let repliedAt else { return false }
            return reopenedAt.map { $0 < repliedAt } ?? true
        }
    }

    /// Closed when closed; otherwise what the current lead unit's part says: evaluated after its
    /// standing reply, replied, or still being handled; filed when no unit holds it yet.
    public static func of(closed: Bool, parts: [Part]) -> PublicProposalStatus {
        if closed { return .closed }
        let current = parts.filter { !$0.superseded }
        guard !current.isEmpty else { return .filed }
        guard let lead = current.first(where: \.isLead), lead.standingReply else { return .assigned }
        if let evaluatedAt = lead.evaluatedAt, let repliedAt = lead.repliedAt, evaluatedAt >= repliedAt { return .evaluated }
        return .replied
    }
}

extension ReplyCategory {
    public var publicLabel: String {
        switch self {
        case .solvedOrAdopted: "A 类（已解决或采纳）"
        case .inProgressOrPlanned: "B 类（正在解决或列入计划）"
        case .keptForReference: "C 类（留作参考）"
        }
    }
}

extension Satisfaction {
    public var label: String {
        switch self {
        case .satisfied: "满意"
        case .basicallySatisfied: "基本满意"
        case .dissatisfied: "不满意"
        }
    }
}

/// Who proposed, as the public may read it. Members, special committees and units propose in
/// their public role and are named; a resident is shown masked (王*) only with consent to
/// publish, and otherwise as anonymous.
public enum PublicNames {
    public struct Proposer: Sendable, Hashable {
        public var name: String
        public var kind: String
        public init(name: String, kind: String) {
            self.name = name
            self.kind = kind
        }
    }

    public static func proposers(_ proposers: [Proposer], residentsConsented: Bool) -> String {
        var shown: [String] = []
        for proposer in proposers {
            let name =
                proposer.kind == "resident"
                ? (residentsConsented ? Redaction.maskName(proposer.name) : "群众（匿名）")
                : Redaction.redact(proposer.name)
            if !shown.contains(name) { shown.append(name) }
        }
        return shown.isEmpty ? "群众（匿名）" : shown.joined(separator: "、")
    }

    /// At most `limit` characters, cut at a character boundary with an ellipsis.
    public static func summary(_ text: String, limit: Int = 160) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmedOfWhitespace
        guard flat.count > limit else { return flat }
        return String(flat.prefix(limit)) + "…"
    }
}

extension Channel {
    /// How the channel reads in public statistics.
    public var chineseName: String {
        switch self {
        case .web: "网页表单"
        case .wechat: "微信"
        case .governmentServiceApp: "政务服务平台"
        case .qrCode: "扫码提交"
        case .staffEntry: "工作人员录入"
        case .batchImport: "批量导入"
        case .open311: "开放接口"
        }
    }
}

/// How a proposal's steps read on its public page.
public enum PublicStage {
    public static func label(_ stage: String) -> String {
        switch stage {
        case "received": "收到群众线索"
        case "triaged": "梳理分类"
        case "filed": "审查立案"
        case "assigned": "交办"
        case "replied": "承办单位答复"
        case "evaluated": "提案人评价"
        case "reopened": "重新办理"
        case "closed": "办结"
        case "follow-up": "回头看"
        default: stage
        }
    }
}

/// The classification rules every district starts with (Resources/default-rules.json), and the
/// names a rule set gives its domains and committees, which the public reads instead of codes.
public enum BuiltInClassificationRules {
    public static let data: Data? = {
        guard let url = Bundle.module.url(forResource: "default-rules", withExtension: "json") else { return nil }
        return try? Data(contentsOf: url)
    }()

    public struct Names: Sendable, Hashable {
        public var domains: [String: String]
        public var committees: [String: String]
        public init(domains: [String: String] = [:], committees: [String: String] = [:]) {
            self.domains = domains
            self.committees = committees
        }
    }

    /// The names in a rule set's JSON definition (only codes and names are read).
    public static func names(in definition: Data) -> Names? {
        struct Named: Decodable { var code: String; var name: String }
        struct Definition: Decodable { var domains: [Named]?; var committees: [Named]? }
        guard let parsed = try? JSONDecoder().decode(Definition.self, from: definition) else { return nil }
        return Names(
            domains: Dictionary((parsed.domains ?? []).map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first }),
            committees: Dictionary((parsed.committees ?? []).map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first }))
    }

    public static let names: Names = data.flatMap { names(in: $0) } ?? Names()
}

/// Where a notification is in its delivery (`notifications.state`).
public enum NotificationState: String, Codable, Sendable, CaseIterable {
    /// Waiting for its next attempt.
    case pending
    case delivered
    /// Given up after its attempts (dead-lettered); staff may send it again.
    case dead
}
