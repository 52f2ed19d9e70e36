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

/// A horizontal bar chart drawn as SVG on the server: readable without JavaScript, with a title
/// and a description for screen readers, every label escaped.
public struct BarChart: Sendable {
    public var title: String
    public var bars: [(label: String, value: Int)]
    /// Shown after each value, e.g. "条".
    public var unit: String

    public init(title: String, bars: [(label: String, value: Int)], unit: String) {
        self.title = title
        self.bars = bars
        self.unit = unit
    }

    public var svg: String {
        // Narrow enough to stay legible on a phone without scaling the text down much.
        let width = 440, labelWidth = 120, barHeight = 22, gap = 8, top = 34
        let height = top + max(1, bars.count) * (barHeight + gap) + 8
        let largest = max(1, bars.map(\.value).max() ?? 1)
        let room = width - labelWidth - 64
        // A stable id (FNV-1a of the title): the same page renders the same bytes.
        let id = "chart-" + String(title.unicodeScalars.reduce(UInt32(2_166_136_261)) { ($0 ^ $1.value) &* 16_777_619 }, radix: 16)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(width) \(height)" width="\(width)" height="\(height)" role="img" \
            aria-labelledby="\(id)-title \(id)-desc"><title id="\(id)-title">\(escape(title))</title>\
            <desc id="\(id)-desc">\(escape(bars.map { "\($0.label) \($0.value)\(unit)" }.joined(separator: "；")))</desc>\
            <text x="0" y="20" font-size="17" font-weight="bold">\(escape(title))</text>
            """
        if bars.isEmpty {
            svg += ##"<text x="0" y="52" font-size="14" fill="#555">暂无数据</text>"##
        }
        for (index, bar) in bars.enumerated() {
            let y = top + index * (barHeight + gap)
            let length = bar.value == 0 ? 0 : max(2, bar.value * room / largest)
            svg += """
                <text x="\(labelWidth - 6)" y="\(y + 16)" font-size="14" text-anchor="end">\(escape(String(bar.label.prefix(8))))</text>\
                <rect x="\(labelWidth)" y="\(y)" width="\(length)" height="\(barHeight)" fill="#b71c1c"/>\
                <text x="\(labelWidth + length + 6)" y="\(y + 16)" font-size="14">\(bar.value)\(escape(unit))</text>
                """
        }
        return svg + "</svg>"
    }

    func escape(_ text: String) -> String { HTMLText.escape(text) }
}

/// A share as the statistics page prints it: "87.5%", or "—" with nothing to divide.
public func percentage(_ part: Int, of whole: Int) -> String {
    guard whole > 0 else { return "—" }
    return String(format: "%.1f%%", Double(part) * 100 / Double(whole))
}
