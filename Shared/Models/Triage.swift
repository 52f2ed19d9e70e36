import Foundation

/// How pressing a clue is; danger and safety words raise it (分级).
public enum Urgency: String, Codable, Sendable, CaseIterable, Comparable {
    case normal, important, urgent

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Whose authority a clue falls under: the district's, or the city's (metro lines, ports).
public enum Jurisdiction: String, Codable, Sendable, CaseIterable {
    case district, municipal
}

/// Where a clue stands in triage.
public enum ClueTriageStatus: String, Codable, Sendable, CaseIterable {
    /// In the review queue, waiting for staff to choose its route.
    case awaitingReview = "awaiting-review"
    /// Forwarded at once to a district body (转送研处).
    case forwarded
    /// With a special committee for research, deliberation, cultivation, consultation or a report.
    case withSpecialCommittee = "with-special-committee"
    /// Published as a reference topic proposers may claim (认领).
    case referenceTopic = "reference-topic"
    /// Its reference topic was claimed; a proposal is being cultivated (培育).
    case claimed
    /// Part of a drafted proposal.
    case inProposal = "in-proposal"
    /// Sent up the through train (直通车) or to a municipal department.
    case sentToMunicipal = "sent-to-municipal"
    /// Not actionable; the submitter is told why.
    case closed

    /// Statuses in which the clue still waits on the committee (the `clues_open` gauge).
    public static let open: [ClueTriageStatus] = [.awaitingReview, .withSpecialCommittee, .referenceTopic, .claimed]
}

/// What a special committee is asked to do with a clue.
public enum CommitteePurpose: String, Codable, Sendable, CaseIterable {
    case research
    /// Candidate for the standing committee's deliberation (常委会议题).
    case standingCommitteeDeliberation = "standing-committee-deliberation"
    /// Cultivated into a key proposal (重点提案培育).
    case keyProposalCultivation = "key-proposal-cultivation"
    case consultationTopic = "consultation-topic"
    /// Reported as public-opinion information (社情民意信息).
    case publicOpinionReport = "public-opinion-report"
}

/// The one route staff give a clue (or a whole group) after review.
public enum ClueRoute: Sendable, Hashable {
    /// Urgent matter within the district's authority, to the named district body (转送研处).
    case forwardToDistrictBody(body: String)
    case specialCommittee(committee: String, purpose: CommitteePurpose)
    case referenceTopic
    /// To the parent (municipal) tenant's own triage (直通车).
    case throughTrain
    case municipalDepartment(department: String)
    /// Closed with a reason the submitter is told.
    case close(reason: String)

    public enum Kind: String, Codable, Sendable, CaseIterable {
        case forwardToDistrictBody = "forward-to-district-body"
        case specialCommittee = "special-committee"
        case referenceTopic = "reference-topic"
        case throughTrain = "through-train"
        case municipalDepartment = "municipal-department"
        case close
    }

    public var kind: Kind {
        switch self {
        case .forwardToDistrictBody: .forwardToDistrictBody
        case .specialCommittee: .specialCommittee
        case .referenceTopic: .referenceTopic
        case .throughTrain: .throughTrain
        case .municipalDepartment: .municipalDepartment
        case .close: .close
        }
    }

    /// The status a clue has once routed this way.
    public var resultingStatus: ClueTriageStatus {
        switch self {
        case .forwardToDistrictBody: .forwarded
        case .specialCommittee: .withSpecialCommittee
        case .referenceTopic: .referenceTopic
        case .throughTrain, .municipalDepartment: .sentToMunicipal
        case .close: .closed
        }
    }
}

/// A triage decision the clue's status forbids (answered 409 with this reason).
public struct IllegalTriageDecision: Error, Equatable, Sendable, CustomStringConvertible {
    public let status: ClueTriageStatus
    public let action: String

    public init(status: ClueTriageStatus, action: String) {
        self.status = status
        self.action = action
    }

    public var description: String { "a clue that is \(status.rawValue) cannot be \(action)" }
}

extension ClueTriageStatus {
    /// The status after routing; only clues awaiting review take a route, exactly once.
    public func routing(_ route: ClueRoute) throws(IllegalTriageDecision) -> ClueTriageStatus {
        guard self == .awaitingReview else { throw IllegalTriageDecision(status: self, action: "routed (\(route.kind.rawValue))") }
        return route.resultingStatus
    }

    /// The status after a claimant takes the clue's reference topic.
    public func claiming() throws(IllegalTriageDecision) -> ClueTriageStatus {
        guard self == .referenceTopic || self == .claimed else { throw IllegalTriageDecision(status: self, action: "claimed") }
        return .claimed
    }

    /// The status once a drafted proposal uses the clue: claimed reference topics, and clues a
    /// special committee took for research or cultivation.
    public func drafting() throws(IllegalTriageDecision) -> ClueTriageStatus {
        guard self == .claimed || self == .withSpecialCommittee else {
            throw IllegalTriageDecision(status: self, action: "drafted into a proposal (claim its reference topic first)")
        }
        return .inProposal
    }
}

/// Where a proposal that is not filed goes instead.
public enum AlternativeRoute: String, Codable, Sendable, CaseIterable {
    case publicOpinionReport = "public-opinion-report"
    /// A letter to the department concerned (转有关部门参考).
    case letterToDepartment = "letter-to-department"
    case none
}

/// A filed proposal's case number (案号): the district's prefix, session (届), year and a
/// per-district, per-session, per-year sequence, e.g. `HZ-14-2026-0007`.
public struct CaseNumber: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public init(prefix: String, session: Int, year: Int, sequence: Int) {
        let digits = String(sequence)
        rawValue = "\(prefix)-\(session)-\(year)-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    public var description: String { rawValue }
}
