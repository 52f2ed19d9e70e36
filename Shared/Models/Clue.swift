import Foundation

/// How a clue reached us (渠道).
public enum Channel: String, Codable, Sendable, CaseIterable {
    case web
    case wechat
    case governmentServiceApp = "government-service-app"
    case qrCode = "qr-code"
    case staffEntry = "staff-entry"
    case batchImport = "batch-import"
    case open311
}

/// Where a clue comes from on the standard form (来源).
public enum SourceCategory: String, Codable, Sendable, CaseIterable {
    case onlinePlatform = "online-platform"
    case streetStudio = "street-studio"
    case community
    case committeeMember = "committee-member"
    case specialCommitteeResearch = "special-committee-research"
    case directReportPoint = "direct-report-point"
    case governmentDepartment = "government-department"
    case consultationActivity = "consultation-activity"

    /// The name on the standard form's 来源 line.
    public var chineseName: String {
        switch self {
        case .onlinePlatform: "网上平台"
        case .streetStudio: "街道委员工作室"
        case .community: "社区"
        case .committeeMember: "政协委员"
        case .specialCommitteeResearch: "专委会调研视察"
        case .directReportPoint: "直报点"
        case .governmentDepartment: "政府部门"
        case .consultationActivity: "协商活动"
        }
    }

    /// A code (`street-studio`) or a name as people write it on forms (街道委员工作室, 委员工作室).
    public init?(label: String) {
        let text = label.trimmingCharacters(in: .whitespaces)
        if let code = SourceCategory(rawValue: text.lowercased()) {
            self = code
            return
        }
        let names: [String: SourceCategory] = [
            "网上平台": .onlinePlatform, "线上平台": .onlinePlatform, "网络平台": .onlinePlatform, "在线平台": .onlinePlatform,
            "街道委员工作室": .streetStudio, "委员工作室": .streetStudio, "街道工作室": .streetStudio,
            "社区": .community, "社区党组织": .community,
            "政协委员": .committeeMember, "委员": .committeeMember,
            "专委会调研视察": .specialCommitteeResearch, "专委会": .specialCommitteeResearch, "调研视察": .specialCommitteeResearch,
            "直报点": .directReportPoint, "政府部门": .governmentDepartment,
            "协商活动": .consultationActivity, "有事好商量": .consultationActivity,
        ]
        guard let category = names[text] else { return nil }
        self = category
    }
}

/// The resident or unit behind a clue. Contact data never leaves PostgreSQL.
public enum Submitter: Sendable, Hashable {
    case anonymous
    case named(Contact)
}

public struct Contact: Codable, Sendable, Hashable {
    public var name: String
    public var phone: String?
    public var address: String?

    public init(name: String, phone: String? = nil, address: String? = nil) {
        self.name = name
        self.phone = phone
        self.address = address
    }
}

/// Who took the clue in when it was entered on someone's behalf (接收人: 委员/街道工作室).
public struct Receiver: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case member
        case studio
    }

    public var kind: Kind
    public var name: String
    /// The register entry credited with the clue (`RegisterEntry.code`); nil where the district
    /// keeps no register of this kind yet, or for clues received before it.
    public var code: String?
    /// The studio credited with the clue when it was received: the studio itself, or the
    /// member's studio at that time (a member who moves later leaves past clues where they were).
    public var studio: String?

    public init(kind: Kind, name: String, code: String? = nil, studio: String? = nil) {
        self.kind = kind
        self.name = name
        self.code = code
        self.studio = studio
    }
}

/// A file sent with a clue (附件). The content is stored in PostgreSQL beside the clue.
public struct AttachmentMetadata: Codable, Sendable, Hashable {
    public var name: String
    public var mediaType: String
    public var size: Int
    /// Lower-case hex SHA-256 of the content.
    public var sha256: String

    public init(name: String, mediaType: String, size: Int, sha256: String) {
        self.name = name
        self.mediaType = mediaType
        self.size = size
        self.sha256 = sha256
    }
}

/// A tracking number residents quote: the district's prefix, the year and a per-district,
/// per-year sequence, e.g. `HZ-2026-000123`.
public struct TrackingNumber: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public init(prefix: String, year: Int, sequence: Int) {
        let digits = String(sequence)
        let padded = String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        self.rawValue = "\(prefix)-\(year)-\(padded)"
    }

    /// Whether `text` has the shape of a tracking number (prefix, year, six or more digits).
    public static func isWellFormed(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, (1...8).contains(parts[0].count), parts[1].count == 4, (6...9).contains(parts[2].count) else { return false }
        return parts[0].allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
            && parts[1].allSatisfy { $0.isASCII && $0.isNumber } && parts[2].allSatisfy { $0.isASCII && $0.isNumber }
    }

    public var description: String { rawValue }
}

/// A clue (线索) as submitted on the standard form (附件3). Received time is the server's.
public struct Clue: Sendable, Hashable {
    public var id: UUID
    public var district: DistrictCode
    public var trackingNumber: TrackingNumber
    public var title: String
    public var situationAnalysis: String
    public var specificSuggestions: String
    public var sourceCategory: SourceCategory
    public var channel: Channel
    public var receiver: Receiver?
    public var submitter: Submitter
    public var consentToPublish: Bool
    public var themedCallID: UUID?
    public var attachments: [AttachmentMetadata]
    public var receivedAt: Date

    public init(
        id: UUID, district: DistrictCode, trackingNumber: TrackingNumber, title: String,
        situationAnalysis: String, specificSuggestions: String, sourceCategory: SourceCategory,
        channel: Channel, receiver: Receiver? = nil, submitter: Submitter, consentToPublish: Bool = false,
        themedCallID: UUID? = nil, attachments: [AttachmentMetadata] = [], receivedAt: Date
    ) {
        self.id = id
        self.district = district
        self.trackingNumber = trackingNumber
        self.title = title
        self.situationAnalysis = situationAnalysis
        self.specificSuggestions = specificSuggestions
        self.sourceCategory = sourceCategory
        self.channel = channel
        self.receiver = receiver
        self.submitter = submitter
        self.consentToPublish = consentToPublish
        self.themedCallID = themedCallID
        self.attachments = attachments
        self.receivedAt = receivedAt
    }
}

/// A themed call (选题征集): a topic opened to the public for a period; clues may answer it.
public struct ThemedCall: Codable, Sendable, Hashable {
    public var id: UUID
    public var district: DistrictCode
    public var title: String
    public var description: String
    public var opensAt: Date
    public var closesAt: Date?
    public var closedAt: Date?

    public init(id: UUID, district: DistrictCode, title: String, description: String, opensAt: Date, closesAt: Date?, closedAt: Date?) {
        self.id = id
        self.district = district
        self.title = title
        self.description = description
        self.opensAt = opensAt
        self.closesAt = closesAt
        self.closedAt = closedAt
    }

    /// Open when it has begun, was not closed and its period has not ended.
    public func isOpen(at date: Date) -> Bool {
        closedAt == nil && opensAt <= date && (closesAt.map { date < $0 } ?? true)
    }
}

/// How a clue's status reads to residents.
public enum ClueStatusLabel {
    /// Where a clue stands as its submitter reads it: triage's status once triage has it
    /// (`ClueTriageStatus`), intake's before.
    public static func chinese(_ status: String) -> String {
        switch status {
        case "received": "已受理，等待梳理"
        case "awaiting-review": "梳理中"
        case "forwarded": "已转送有关部门研处"
        case "to-special-committee", "with-special-committee": "已转专委会研究"
        case "reference-topic": "已作为参考选题发布"
        case "claimed": "参考选题已被认领，正在培育提案"
        case "in-proposal": "已形成提案"
        case "sent-to-municipal": "已报送市政协或市级部门"
        case "filed": "已立案"
        case "merged": "已与同类线索合并"
        case "closed": "已办结"
        case "not-adopted": "未予采纳"
        default: status
        }
    }

    /// The status column a submitter's view reads: triage's (`triage_clues` as `t`) over intake's (`clues` as `c`).
    public static let column = "coalesce(t.status, c.status)"
    /// When that status last changed.
    public static let changedColumn = "coalesce(t.decided_at, c.status_updated_at, c.received_at)"
}
