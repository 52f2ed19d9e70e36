import Foundation
import Models
import ServiceKit

/// A query parameter the portal cannot use: the page says which and why (400, never a 500).
public struct PortalProblem: Error, Equatable, Sendable {
    public var parameter: String
    public var message: String

    public init(_ parameter: String, _ message: String) {
        self.parameter = parameter
        self.message = message
    }
}

/// The feedback list's filters (and the open data's), read and checked from the query string.
public struct FeedbackFilter: Equatable, Sendable {
    public var district: String?
    public var domain: String?
    public var status: PublicProposalStatus?
    public var year: Int?
    public var call: UUID?
    public var unit: String?
    public var text: String?
    public var page = 1

    public static let maximumPage = 10_000
    public static let years = 2000...2100

    public init() {}

    public init(query: [String: String]) throws(PortalProblem) {
        func value(_ name: String, maximumLength: Int) throws(PortalProblem) -> String? {
            guard let raw = query[name]?.trimmedOfWhitespace, !raw.isEmpty else { return nil }
            guard raw.count <= maximumLength else { throw PortalProblem(name, "参数 \(name) 过长（至多 \(maximumLength) 个字）") }
            return raw
        }
        if let district = try value("district", maximumLength: 32) {
            guard DistrictCode(rawValue: district) != nil else { throw PortalProblem("district", "参数 district 不是有效的区代码") }
            self.district = district
        }
        domain = try value("domain", maximumLength: 30)
        if let status = try value("status", maximumLength: 20) {
            guard let known = PublicProposalStatus(rawValue: status) else {
                throw PortalProblem("status", "参数 status 只能是 " + PublicProposalStatus.allCases.map(\.rawValue).joined(separator: "、"))
            }
            self.status = known
        }
        year = try Self.number("year", query["year"], in: Self.years)
        if let call = try value("call", maximumLength: 36) {
            guard let id = UUID(uuidString: call) else { throw PortalProblem("call", "参数 call 不是有效的编号") }
            self.call = id
        }
        unit = try value("unit", maximumLength: 60)
        text = try value("q", maximumLength: 50)
        page = try Self.number("page", query["page"], in: 1...Self.maximumPage) ?? 1
    }

    /// An integer parameter within `range`; nil when absent or empty.
    public static func number(_ name: String, _ raw: String?, in range: ClosedRange<Int>) throws(PortalProblem) -> Int? {
        guard let raw = raw?.trimmedOfWhitespace, !raw.isEmpty else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            throw PortalProblem(name, "参数 \(name) 应为 \(range.lowerBound) 到 \(range.upperBound) 之间的整数")
        }
        return value
    }

    /// The filters as a query string (without the page), e.g. `?district=haizhu&year=2026`.
    public var queryString: String { Self.encode(parameters) }

    public func queryString(page: Int) -> String {
        Self.encode(parameters + (page > 1 ? [("page", String(page))] : []))
    }

    var parameters: [(String, String)] {
        var parameters: [(String, String)] = []
        if let district { parameters.append(("district", district)) }
        if let domain { parameters.append(("domain", domain)) }
        if let status { parameters.append(("status", status.rawValue)) }
        if let year { parameters.append(("year", String(year))) }
        if let call { parameters.append(("call", call.uuidString.lowercased())) }
        if let unit { parameters.append(("unit", unit)) }
        if let text { parameters.append(("q", text)) }
        return parameters
    }

    static func encode(_ parameters: [(String, String)]) -> String {
        guard !parameters.isEmpty else { return "" }
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return "?" + parameters.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }
}
