import Foundation
import HTTPTypes
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

// The annual clue compilation (线索汇编) of a district: every clue received in a year (China
// time), by domain and then by group of near-duplicates, as CSV for spreadsheets and as a
// printable HTML page. Identifiers, categories and titles only: no contact data.

/// One clue's line in the compilation.
struct CompiledClue: Sendable, Hashable {
    var trackingNumber: String
    /// The day it was received, `yyyy-MM-dd` in China time.
    var receivedOn: String
    var title: String
    var sourceCategory: String
    var channel: String
    var status: String
    var route: String?
    var urgency: String
    var street: String?
}

/// The clues of one group (an issue) within a domain.
struct GroupSection: Sendable, Hashable {
    /// Nil for the domain's clues without a group.
    var groupID: UUID?
    /// The group's clues received in the year (its voices that year).
    var voices: Int
    var clues: [CompiledClue]
}

/// The clues of one domain.
struct DomainSection: Sendable, Hashable {
    /// The domain's code; nil for unclassified clues.
    var domain: String?
    /// The name shown (the rules' name of the domain, 未分类 for nil).
    var name: String
    var groups: [GroupSection]
    var count: Int
}

/// A district's compilation for one year.
struct Compilation: Sendable, Hashable {
    var districtName: String
    var year: Int
    var domains: [DomainSection]

    var total: Int { domains.reduce(0) { $0 + $1.count } }
}

extension Compilation {
    /// One clue as read, before grouping.
    struct Entry: Sendable, Hashable {
        var domain: String?
        var groupID: UUID?
        var clue: CompiledClue
    }

    static let unclassifiedName = "未分类"

    /// Groups `entries` by domain and then by group, in the compilation's order: domains by count
    /// (most first) then name, groups by voices (most first) then first tracking number (clues
    /// without a group last), clues by tracking number. `domainNames` maps domain codes to the names shown.
    init(districtName: String, year: Int, entries: [Entry], domainNames: [String: String]) {
        var byDomain: [String?: [UUID?: [CompiledClue]]] = [:]
        for entry in entries {
            byDomain[entry.domain, default: [:]][entry.groupID, default: []].append(entry.clue)
        }
        var domains: [DomainSection] = []
        for (domain, groups) in byDomain {
            var sections: [GroupSection] = []
            for (groupID, clues) in groups {
                let sorted = clues.sorted { Compilation.trackingOrder($0.trackingNumber, $1.trackingNumber) }
                sections.append(GroupSection(groupID: groupID, voices: sorted.count, clues: sorted))
            }
            sections.sort { left, right in
                // The clues without a group come after the groups.
                if (left.groupID == nil) != (right.groupID == nil) { return right.groupID == nil }
                if left.voices != right.voices { return left.voices > right.voices }
                let (a, b) = (left.clues.first?.trackingNumber ?? "", right.clues.first?.trackingNumber ?? "")
                if a != b { return Compilation.trackingOrder(a, b) }
                return (left.groupID?.uuidString ?? "") < (right.groupID?.uuidString ?? "")
            }
            let name = domain.map { domainNames[$0] ?? $0 } ?? Compilation.unclassifiedName
            domains.append(
                DomainSection(
                    domain: domain, name: name, groups: sections, count: sections.reduce(0) { $0 + $1.clues.count }))
        }
        domains.sort { left, right in
            if left.count != right.count { return left.count > right.count }
            if left.name != right.name { return left.name < right.name }
            return (left.domain ?? "") < (right.domain ?? "")
        }
        self.init(districtName: districtName, year: year, domains: domains)
    }

    /// Tracking numbers in numeric order (HZ-2026-000009 before HZ-2026-000010, and before
    /// HZ-2026-1000000 should a year ever pass a million).
    static func trackingOrder(_ left: String, _ right: String) -> Bool {
        left.compare(right, options: [.numeric]) == .orderedAscending
    }
}

/// Chinese names of the codes a compilation shows.
enum CompilationLabels {
    static func sourceCategory(_ code: String) -> String {
        SourceCategory(rawValue: code)?.chineseName ?? code
    }

    static func status(_ code: String) -> String {
        guard let status = ClueTriageStatus(rawValue: code) else { return code }
        switch status {
        case .awaitingReview: return "待梳理"
        case .forwarded: return "已转送研处"
        case .withSpecialCommittee: return "专委会研究"
        case .referenceTopic: return "提案参考选题"
        case .claimed: return "已认领培育"
        case .inProposal: return "已形成提案"
        case .sentToMunicipal: return "已报送市级"
        case .closed: return "不予处理"
        }
    }

    static func route(_ code: String?) -> String? {
        guard let code else { return nil }
        guard let kind = ClueRoute.Kind(rawValue: code) else { return code }
        switch kind {
        case .forwardToDistrictBody: return "转送区有关方面研处"
        case .specialCommittee: return "专委会调研"
        case .referenceTopic: return "提案参考选题"
        case .throughTrain: return "直通车报送市政协"
        case .municipalDepartment: return "转送市职能部门"
        case .close: return "不予处理"
        }
    }

    static func urgency(_ code: String) -> String {
        guard let urgency = Urgency(rawValue: code) else { return code }
        switch urgency {
        case .normal: return "一般"
        case .important: return "重要"
        case .urgent: return "紧急"
        }
    }
}

/// The compilation as CSV and as HTML: pure functions of a `Compilation`, in its order.
enum CompilationFormat {
    static let csvHeader = ["领域", "议题组", "组内线索数", "跟踪号", "收到日期", "标题", "来源", "渠道", "状态", "去向", "紧急程度", "街道"]

    /// RFC 4180 with CRLF line ends, preceded by a UTF-8 byte order mark (so Excel reads the
    /// Chinese correctly); one record per clue after the header.
    static func csv(_ compilation: Compilation) -> String {
        var text = "\u{FEFF}"
        text.reserveCapacity(256 + 160 * compilation.total)
        appendRecord(csvHeader, to: &text)
        for domain in compilation.domains {
            for (group, label) in zip(domain.groups, groupLabels(domain)) {
                for clue in group.clues {
                    appendRecord(
                        [
                            domain.name, label, String(group.voices), clue.trackingNumber, clue.receivedOn, clue.title,
                            clue.sourceCategory, clue.channel, clue.status, clue.route ?? "", clue.urgency, clue.street ?? "",
                        ], to: &text)
                }
            }
        }
        return text
    }

    private static func appendRecord(_ fields: [String], to text: inout String) {
        for (index, field) in fields.enumerated() {
            if index > 0 { text += "," }
            text += csvField(field)
        }
        text += "\r\n"
    }

    /// A field quoted when it holds a comma, a quote, CR or LF (quotes doubled inside). A field a
    /// spreadsheet would take for a formula (=, +, -, @ first) is prefixed with an apostrophe.
    static func csvField(_ value: String) -> String {
        var field = value
        if let first = field.unicodeScalars.first, formulaStarts.contains(first) {
            field = "'" + field
        }
        guard field.contains(where: { quoted.contains($0) }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Characters that make a field quoted ("\r\n" is one Character in Swift).
    private static let quoted: Set<Character> = [",", "\"", "\r", "\n", "\r\n"]
    private static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    /// How the domain's groups are named in the compilation: by their place in the domain
    /// (第1组, 第2组, ...), 未分组 for the clues without a group.
    static func groupLabels(_ domain: DomainSection) -> [String] {
        var ordinal = 0
        return domain.groups.map { group in
            guard group.groupID != nil else { return "未分组" }
            ordinal += 1
            return "第\(ordinal)组"
        }
    }

    static func title(_ compilation: Compilation) -> String {
        "\(compilation.districtName) \(compilation.year) 年度线索汇编"
    }

    /// A complete printable page (A4): a summary by domain, then each domain on a page of its own,
    /// its groups with their clues.
    static func html(_ compilation: Compilation) -> String {
        let heading = htmlEscaped(Self.title(compilation))
        var page = ""
        page.reserveCapacity(4_096 + 400 * compilation.total)
        page += """
            <!doctype html>
            <html lang="zh-CN">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(heading)</title>
            <style>
            @page { size: A4; margin: 15mm 12mm; }
            body { font-family: "Noto Serif CJK SC", "Source Han Serif SC", "SimSun", serif; font-size: 10.5pt; color: #000; margin: 0 auto; max-width: 190mm; }
            h1 { font-size: 18pt; text-align: center; margin: 0 0 6mm; }
            h2 { font-size: 14pt; margin: 6mm 0 3mm; border-bottom: 1px solid #000; padding-bottom: 1mm; }
            h3 { font-size: 11.5pt; margin: 4mm 0 2mm; }
            p.meta { text-align: center; margin: 0 0 5mm; }
            table { border-collapse: collapse; width: 100%; margin: 0 0 4mm; }
            th, td { border: 1px solid #000; padding: 1mm 1.5mm; vertical-align: top; text-align: left; word-break: break-all; }
            th { background: #eee; font-weight: bold; }
            td.number, th.number { text-align: right; white-space: nowrap; }
            td.nowrap { white-space: nowrap; }
            thead { display: table-header-group; }
            tr { break-inside: avoid; page-break-inside: avoid; }
            h2, h3 { break-after: avoid; page-break-after: avoid; }
            section.domain + section.domain { break-before: page; page-break-before: always; }
            @media print { body { max-width: none; } th { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
            </style>
            </head>
            <body>
            <h1>\(heading)</h1>

            """
        page += "<p class=\"meta\">共 \(compilation.total) 条线索，\(compilation.domains.count) 个领域</p>\n"
        page += "<table class=\"summary\">\n<thead><tr><th>领域</th><th class=\"number\">线索数</th></tr></thead>\n<tbody>\n"
        for domain in compilation.domains {
            page += "<tr><td>\(htmlEscaped(domain.name))</td><td class=\"number\">\(domain.count)</td></tr>\n"
        }
        page += "<tr><th>合计</th><td class=\"number\">\(compilation.total)</td></tr>\n</tbody>\n</table>\n"
        if compilation.domains.isEmpty {
            page += "<p>本年度没有收到线索。</p>\n"
        }
        for domain in compilation.domains {
            page += "<section class=\"domain\">\n<h2>\(htmlEscaped(domain.name))（\(domain.count) 条）</h2>\n"
            for (group, label) in zip(domain.groups, groupLabels(domain)) {
                page += "<section class=\"group\">\n<h3>\(htmlEscaped(label)) · \(group.voices) 条线索</h3>\n"
                page += """
                    <table class="clues">
                    <thead><tr><th>跟踪号</th><th>收到日期</th><th>标题</th><th>来源</th><th>渠道</th><th>状态</th><th>去向</th><th>紧急程度</th><th>街道</th></tr></thead>
                    <tbody>

                    """
                for clue in group.clues {
                    page += "<tr><td class=\"nowrap\">\(htmlEscaped(clue.trackingNumber))</td>"
                    page += "<td class=\"nowrap\">\(htmlEscaped(clue.receivedOn))</td>"
                    page += "<td>\(htmlEscaped(clue.title))</td>"
                    page += "<td>\(htmlEscaped(clue.sourceCategory))</td>"
                    page += "<td>\(htmlEscaped(clue.channel))</td>"
                    page += "<td>\(htmlEscaped(clue.status))</td>"
                    page += "<td>\(htmlEscaped(clue.route ?? ""))</td>"
                    page += "<td class=\"nowrap\">\(htmlEscaped(clue.urgency))</td>"
                    page += "<td>\(htmlEscaped(clue.street ?? ""))</td></tr>\n"
                }
                page += "</tbody>\n</table>\n</section>\n"
            }
            page += "</section>\n"
        }
        page += "</body>\n</html>\n"
        return page
    }

    /// `text` with &, <, >, " and ' replaced by entities, safe in element content and attributes.
    static func htmlEscaped(_ text: String) -> String { HTMLText.escape(text) }
}
