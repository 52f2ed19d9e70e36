import Foundation

/// A government body that answers proposals (承办单位).
public struct HandlingUnit: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case districtDepartment = "district-department"
        case streetOffice = "street-office"
        case municipalDepartment = "municipal-department"
    }

    public var id: UUID
    public var district: DistrictCode
    public var name: String
    public var kind: Kind
    public var isActive: Bool

    public init(id: UUID, district: DistrictCode, name: String, kind: Kind, isActive: Bool = true) {
        self.id = id
        self.district = district
        self.name = name
        self.kind = kind
        self.isActive = isActive
    }
}

/// What kind of proposal it is; 百姓提案 have the fast track and a one-month reply limit.
public enum ProposalKind: String, Codable, Sendable, CaseIterable {
    case citizen
    case ordinary
}

public struct Proposal: Sendable, Hashable {
    public var id: UUID
    public var district: DistrictCode
    public var title: String
    public var kind: ProposalKind
    public var isKey: Bool
    public var status: ProposalStatus
    public var clueIDs: [UUID]

    public init(
        id: UUID, district: DistrictCode, title: String, kind: ProposalKind,
        isKey: Bool = false, status: ProposalStatus = .drafting, clueIDs: [UUID] = []
    ) {
        self.id = id
        self.district = district
        self.title = title
        self.kind = kind
        self.isKey = isKey
        self.status = status
        self.clueIDs = clueIDs
    }
}

/// One unit's part in handling a proposal (交办): the lead unit (主办) or a co-handling unit (会办).
public struct Assignment: Sendable, Hashable {
    public enum Role: String, Codable, Sendable, CaseIterable {
        case lead
        case coHandling = "co-handling"
    }

    public var id: UUID
    public var district: DistrictCode
    public var proposalID: UUID
    public var unitID: UUID
    public var role: Role
    public var deadline: Date

    public init(id: UUID, district: DistrictCode, proposalID: UUID, unitID: UUID, role: Role, deadline: Date) {
        self.id = id
        self.district = district
        self.proposalID = proposalID
        self.unitID = unitID
        self.role = role
        self.deadline = deadline
    }
}

/// The result category of a reply (答复).
public enum ReplyCategory: String, Codable, Sendable, CaseIterable {
    /// A: solved or adopted.
    case solvedOrAdopted = "A"
    /// B: being solved or planned, with a promised date.
    case inProgressOrPlanned = "B"
    /// C: kept for reference, with an explanation.
    case keptForReference = "C"
}

public struct Reply: Sendable, Hashable {
    public var assignmentID: UUID
    public var text: String
    public var category: ReplyCategory
    public var promisedDate: Date?

    public init(assignmentID: UUID, text: String, category: ReplyCategory, promisedDate: Date? = nil) {
        self.assignmentID = assignmentID
        self.text = text
        self.category = category
        self.promisedDate = promisedDate
    }
}

/// The proposer's evaluation of one unit's handling (满意、基本满意、不满意).
public enum Satisfaction: String, Codable, Sendable, CaseIterable {
    case satisfied
    case basicallySatisfied = "basically-satisfied"
    case dissatisfied
}
