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

/// A tracking number residents quote: district, year and a per-district sequence, e.g. `HAIZHU-2026-000042`.
public struct TrackingNumber: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public init(district: DistrictCode, year: Int, sequence: Int) {
        let digits = String(sequence)
        let padded = String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        self.rawValue = "\(district.rawValue.uppercased())-\(year)-\(padded)"
    }

    public var description: String { rawValue }
}

/// A clue (线索) as submitted on the standard form (附件3).
public struct Clue: Sendable, Hashable {
    public var id: UUID
    public var district: DistrictCode
    public var trackingNumber: TrackingNumber
    public var title: String
    public var situationAnalysis: String
    public var specificSuggestions: String
    public var sourceCategory: SourceCategory
    public var channel: Channel
    public var submitter: Submitter
    public var receivedAt: Date

    public init(
        id: UUID, district: DistrictCode, trackingNumber: TrackingNumber, title: String,
        situationAnalysis: String, specificSuggestions: String, sourceCategory: SourceCategory,
        channel: Channel, submitter: Submitter, receivedAt: Date
    ) {
        self.id = id
        self.district = district
        self.trackingNumber = trackingNumber
        self.title = title
        self.situationAnalysis = situationAnalysis
        self.specificSuggestions = specificSuggestions
        self.sourceCategory = sourceCategory
        self.channel = channel
        self.submitter = submitter
        self.receivedAt = receivedAt
    }
}
