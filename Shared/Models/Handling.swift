import Foundation

/// A government body that answers proposals (承办单位).
public enum HandlingUnit {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case districtDepartment = "district-department"
        case streetOffice = "street-office"
        case municipalDepartment = "municipal-department"
    }
}

/// What kind of proposal it is; 百姓提案 have the fast track and a one-month reply limit.
public enum ProposalKind: String, Codable, Sendable, CaseIterable {
    case citizen
    case ordinary
}

/// One unit's part in handling a proposal (交办).
public enum Assignment {
    /// The lead unit (主办) or a co-handling unit (会办).
    public enum Role: String, Codable, Sendable, CaseIterable {
        case lead
        case coHandling = "co-handling"
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

/// The proposer's evaluation of one unit's handling (满意、基本满意、不满意).
public enum Satisfaction: String, Codable, Sendable, CaseIterable {
    case satisfied
    case basicallySatisfied = "basically-satisfied"
    case dissatisfied
}
