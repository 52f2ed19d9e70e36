import Foundation
import HTTPTypes
import Hummingbird
import Models
import Mustache
import NIOCore
import ServiceKit

/// The feedback list as open data: CSV, JSON and an Atom feed of newly answered proposals, at
/// stable URLs, with the fields documented at `/open-data`.
struct OpenDataController: Sendable {
    let queries: PortalRepository
    let portal: PortalController
    /// Where the portal is reached from outside, for absolute links in the feed.
    let publicURL: String

    static let fields: [(name: String, meaning: String)] = [
        ("id", "提案编号（UUID），页面地址为 /proposals/{id}"),
        ("caseNumber", "案号"),
        ("district", "区代码"), ("districtName", "区名称"),
        ("title", "标题（已隐去个人信息）"), ("summary", "建议摘要（已隐去个人信息，至多 160 字）"),
        ("domain", "领域代码"), ("domainName", "领域名称"), ("committee", "归口专门委员会"),
        ("fastTrack", "是否按百姓提案快审快办"), ("year", "立案年度"),
        ("proposers", "提案人（群众仅在同意公开时显示姓氏，否则显示匿名）"),
        ("status", "状态代码：filed 已立案、assigned 办理中、replied 已答复、evaluated 已评价、closed 已办结"), ("statusLabel", "状态（中文）"),
        ("units", "承办单位，主办在前"), ("deadline", "主办单位办理期限（YYYY-MM-DD）"),
        ("reply", "答复摘要（已隐去个人信息）"), ("resultCategory", "答复类别：A 已解决或采纳、B 正在解决或列入计划、C 留作参考"),
        ("satisfactionCode", "提案人评价：satisfied、basically-satisfied、dissatisfied"),
        ("filedAt", "立案时间（ISO 8601）"), ("answeredAt", "答复时间"), ("closedAt", "办结时间"),
    ]

    func register(on router: Router<AppRequestContext>) {
        router.get("/open-data", use: documentation)
        router.get("/open-data/feedback.csv", use: csv)
        router.get("/open-data/feedback.json", use: json)
        router.get("/open-data/answered.atom", use: atom)
    }

    @Sendable func documentation(_ request: Request, context: AppRequestContext) async throws -> Response {
        struct Field { var name: String; var meaning: String }
        struct Page { var fields: [Field] }
        return try portal.render("opendata", Page(fields: Self.fields.map { Field(name: $0.name, meaning: $0.meaning) }))
    }

    /// Every matching proposal, streamed a thousand rows at a time.
    @Sendable func csv(_ request: Request, context: AppRequestContext) async throws -> Response {
        let filter: FeedbackFilter
        do {
            filter = try FeedbackFilter(query: request.queryValues)
        } catch {
            return portal.problem(error)
        }
        let queries = self.queries
        let body = ResponseBody { writer in
            // A BOM, so spreadsheet programs read the Chinese text as UTF-8.
            var header = "\u{FEFF}"
            header +=
                [
                    "id", "caseNumber", "district", "districtName", "title", "summary", "domain", "domainName", "committee", "fastTrack", "year",
                    "proposers",
                    "status", "statusLabel", "units", "deadline", "reply", "resultCategory", "satisfactionCode", "filedAt", "answeredAt", "closedAt",
                ]
                .joined(separator: ",") + "\r\n"
            try await writer.write(ByteBuffer(string: header))
            var offset = 0
            while true {
                let batch = try await queries.feedback(filter, offset: offset, limit: 1_000)
                var text = ""
                for proposal in batch {
                    let fields: [String] = [
                        proposal.id, proposal.caseNumber, proposal.district, proposal.districtName, proposal.title, proposal.summary,
                        proposal.domain ?? "", proposal.domainName ?? "", proposal.committee ?? "", proposal.fastTrack ? "true" : "false",
                        String(proposal.year), proposal.proposers,
                        proposal.status, proposal.statusLabel, proposal.units, proposal.deadline ?? "", proposal.reply ?? "",
                        proposal.resultCategory ?? "",
                        proposal.satisfactionCode ?? "", PortalFormat.iso(proposal.filedAt), proposal.answeredAt.map(PortalFormat.iso) ?? "",
                        proposal.closedAt.map(PortalFormat.iso) ?? "",
                    ]
                    text += fields.map(Self.csvField).joined(separator: ",") + "\r\n"
                }
                if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                guard batch.count == 1_000 else { break }
                offset += batch.count
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"feedback.csv\"",
            ], body: body)
    }

    static func csvField(_ value: String) -> String {
        // A leading =, +, - or @ would be a formula to a spreadsheet; a quote mark keeps it text.
        var value = value
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    struct JSONPage: Encodable {
        var total: Int
        var page: Int
        var pageSize: Int
        var items: [PublicProposal]
    }

    @Sendable func json(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.queryValues
        let filter: FeedbackFilter
        let pageSize: Int
        do {
            filter = try FeedbackFilter(query: query)
            pageSize = try FeedbackFilter.number("pageSize", query["pageSize"], in: 1...500) ?? 100
        } catch {
            return try jsonResponse(
                ["error": ["code": "invalid-parameter", "message": error.message, "field": error.parameter]], status: .badRequest)
        }
        async let items = queries.feedback(filter, offset: (filter.page - 1) * pageSize, limit: pageSize)
        async let total = portal.cache.count(filter) { try await queries.count(filter) }
        let page = JSONPage(total: try await total, page: filter.page, pageSize: pageSize, items: try await items)
        return try jsonResponse(page)
    }

    @Sendable func atom(_ request: Request, context: AppRequestContext) async throws -> Response {
        let answered = try await queries.answered(limit: 50)
        let updated = answered.first?.answeredAt ?? Date(timeIntervalSince1970: 0)
        var feed = """
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom">
            <title>百姓提案：最新答复</title>
            <id>\(xml(publicURL))/open-data/answered.atom</id>
            <link rel="self" href="\(xml(publicURL))/open-data/answered.atom"/>
            <link rel="alternate" href="\(xml(publicURL))/feedback?status=replied"/>
            <updated>\(PortalFormat.iso(updated))</updated>

            """
        for proposal in answered {
            let summary = [
                proposal.units.isEmpty ? nil : "承办单位：\(proposal.units)", proposal.category.map { "答复类别：\($0)" },
                proposal.reply.map { "答复摘要：\($0)" },
            ].compactMap { $0 }.joined(separator: "\n")
            feed += """
                <entry>
                <id>urn:uuid:\(proposal.id)</id>
                <title>\(xml(proposal.caseNumber + " " + proposal.title))</title>
                <link href="\(xml(publicURL))/proposals/\(proposal.id)"/>
                <updated>\(PortalFormat.iso(proposal.answeredAt ?? proposal.filedAt))</updated>
                <author><name>\(xml(proposal.districtName))政协</name></author>
                <summary>\(xml(summary))</summary>
                </entry>

                """
        }
        feed += "</feed>\n"
        return Response(
            status: .ok, headers: [.contentType: "application/atom+xml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: feed)))
    }

    func xml(_ text: String) -> String { HTMLText.escape(text) }
}
