import Foundation
import HTTPTypes
import Hummingbird
import Models
import Mustache
import NIOCore
import ServiceKit
import Synchronization

/// The public portal: server-rendered Chinese HTML from Mustache templates (every value
/// HTML-escaped by the templates), readable on a phone, no JavaScript. Unknown proposals and
/// wrong receipts get one and the same 404 page; parameters out of range a 400 page.
struct PortalController: Sendable {
    let queries: PortalRepository
    let templates: MustacheLibrary
    let cache: PageCache
    static let pageSize = 20

    func register(on router: Router<AppRequestContext>) {
        router.get("/", use: home)
        router.get("/feedback", use: feedback)
        router.get("/proposals/:id", use: proposal)
        router.get("/calls", use: calls)
        router.get("/track", use: trackForm)
        router.post("/track", use: track)
        router.get("/statistics", use: statistics)
        router.get("/showcase", use: showcase)
    }

    // MARK: pages

    @Sendable func home(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await cached(request) {
            struct Page { var answered: [PublicProposal] }
            return try self.page("home", Page(answered: try await queries.answered(limit: 8)))
        }
    }

    @Sendable func feedback(_ request: Request, context: AppRequestContext) async throws -> Response {
        let filter: FeedbackFilter
        do {
            filter = try FeedbackFilter(query: request.queryValues)
        } catch {
            return problem(error)
        }
        return try await cached(request) {
            let offset = (filter.page - 1) * Self.pageSize
            // One after another: each is nearly always answered from memory without suspending,
            // and child tasks would each wait their turn on a busy executor.
            let districts = try await cache.districts { try await queries.districts() }
            let calls = try await cache.calls { try await queries.calls(district: nil) }
            let (proposals, total): ([PublicProposal], Int)
            if let (ids, count) = try await cache.order.page(filter, offset: offset, limit: Self.pageSize + 1, queries: queries) {
                // The whole list or one district's: its order is in memory, the page is a lookup by id.
                (proposals, total) = (try await queries.proposals(ids), count)
            } else {
                async let page = queries.feedback(filter, offset: offset, limit: Self.pageSize + 1)
                async let count = cache.count(filter) { try await queries.count(filter) }
                (proposals, total) = (try await page, try await count)
            }
            var shown = proposals
            let more = shown.count > Self.pageSize
            if more { shown.removeLast() }
            // Dictionaries, not structs: the template engine reads them without reflection.
            var content: [String: Any] = [
                "filters": [
                    "q": filter.text ?? "", "domain": filter.domain ?? "", "year": filter.year.map(String.init) ?? "", "unit": filter.unit ?? "",
                ],
                "districts": districts.map { ["code": $0.code, "name": $0.name, "selected": $0.code == filter.district] as [String: Any] },
                "domains": try await queries.domainChoices().map {
                    ["code": $0.code, "name": $0.name, "selected": $0.code == filter.domain] as [String: Any]
                },
                "statuses": PublicProposalStatus.allCases.map {
                    ["code": $0.rawValue, "name": $0.label, "selected": $0 == filter.status] as [String: Any]
                },
                "calls": calls.map { ["id": $0.id, "title": $0.title, "selected": $0.id == filter.call?.uuidString.lowercased()] as [String: Any] },
                "cards": ProposalCards.html(shown), "hasProposals": !shown.isEmpty, "total": total, "page": filter.page, "query": filter.queryString,
            ]
            if filter.page > 1 { content["previous"] = "/feedback" + filter.queryString(page: filter.page - 1) }
            if more, filter.page < FeedbackFilter.maximumPage { content["next"] = "/feedback" + filter.queryString(page: filter.page + 1) }
            return try self.page("feedback", content)
        }
    }

    @Sendable func proposal(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), let (proposal, timeline) = try await queries.proposal(id) else {
            return notFound()
        }
        struct Page { var proposal: PublicProposal; var timeline: [PortalRepository.TimelineStep] }
        return try render("proposal", Page(proposal: proposal, timeline: timeline))
    }

    @Sendable func calls(_ request: Request, context: AppRequestContext) async throws -> Response {
        let district = request.queryValues["district"].flatMap { $0.isEmpty ? nil : $0 }
        if let district, DistrictCode(rawValue: district) == nil {
            return problem(PortalProblem("district", "参数 district 不是有效的区代码"))
        }
        return try await cached(request) {
            struct Page { var calls: [PortalRepository.Call] }
            return try self.page("calls", Page(calls: try await queries.calls(district: district)))
        }
    }

    struct TrackPage { var result: PortalRepository.Tracked? }

    @Sendable func trackForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        try render("track", TrackPage(result: nil))
    }

    /// Tracking number and receipt token come in a form body, so they stay out of URLs and logs.
    @Sendable func track(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.collectBody(limit: 4_096)
        let fields = URLEncodedForm.parse(Data(buffer: body)) ?? []
        let number = fields.first { $0.name == "number" }?.value.trimmingCharacters(in: .whitespaces) ?? ""
        let token = fields.first { $0.name == "token" }?.value.trimmingCharacters(in: .whitespaces) ?? ""
        guard let result = try await queries.track(number: number, token: token) else { return notFound() }
        var response = try render("track", TrackPage(result: result))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// One district's figures, or a municipal tenant's rolled up with its member districts'.
    /// Without a district the page opens on the first roll-up: a tenant alone has next to no clues.
    @Sendable func statistics(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.queryValues
        let districts = try await cache.districts { try await queries.districts() }
        let year: Int
        do {
            year = try FeedbackFilter.number("year", query["year"], in: FeedbackFilter.years) ?? LocalDate.on(Date(), in: .chinaTime).year
        } catch {
            return problem(error)
        }
        let parents = Set(districts.compactMap(\.parent))
        let code =
            query["district"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (districts.first(where: { parents.contains($0.code) }) ?? districts.first)?.code ?? ""
        guard let district = districts.first(where: { $0.code == code }) else {
            return problem(PortalProblem("district", "参数 district 不是已知的区"))
        }
        let members = districts.filter { $0.parent == district.code }
        return try await cached(request) {
            let statistics = try await queries.statistics(districts: [district.code] + members.map(\.code), year: year)
            struct Option { var code: String; var name: String; var selected: Bool }
            struct Chart { var svg: String; var caption: String }
            struct UnitRow { var name: String; var assignments: Int; var replied: Int; var onTime: String; var satisfied: String }
            struct DistrictRow {
                var name: String
                /// The district's own page; none for the tenant's own row (its page is the roll-up).
                var link: String?
                var clues: Int
                var reviewed: Int
                var filed: Int
                var filingRate: String
                var replied: Int
                var onTimeRate: String
                var satisfactionRate: String
            }
            struct Page {
                var districtName: String
                var year: Int
                var districts: [Option]
                var clues: Int
                var filingRate: String
                var onTimeRate: String
                var satisfactionRate: String
                var charts: [Chart]
                var units: [UnitRow]
                var rollUp: Bool
                var members: [DistrictRow]
            }
            func row(_ name: String, _ figures: PortalRepository.Figures, link: String?) -> DistrictRow {
                DistrictRow(
                    name: name, link: link, clues: figures.clues, reviewed: figures.reviewed, filed: figures.filed,
                    filingRate: percentage(figures.filed, of: figures.reviewed), replied: figures.replied,
                    onTimeRate: percentage(figures.repliedOnTime, of: figures.replied),
                    satisfactionRate: percentage(figures.satisfied, of: figures.evaluated))
            }
            let rollUp = !members.isEmpty
            let names = Dictionary(uniqueKeysWithValues: districts.map { ($0.code, $0.name) })
            let charts = [
                Chart(svg: BarChart(title: "线索来源渠道", bars: statistics.byChannel, unit: "条").svg, caption: "按提交渠道统计的线索数"),
                Chart(svg: BarChart(title: "线索所在街道", bars: statistics.byStreet, unit: "条").svg, caption: "按街道统计的线索数（前 15 位）"),
                Chart(svg: BarChart(title: "线索所属领域", bars: statistics.byDomain, unit: "条").svg, caption: "按领域统计的线索数（前 15 位）"),
                Chart(svg: BarChart(title: "每月收到线索", bars: statistics.byMonth, unit: "条").svg, caption: "按月统计的线索数"),
            ]
            var rows: [DistrictRow] = []
            if rollUp {
                rows.append(row(district.name + "（本级）", statistics.byDistrict[district.code] ?? .init(), link: nil))
                for member in members {
                    let link = "/statistics?" + URLEncodedForm.encode([("district", member.code), ("year", String(year))])
                    rows.append(row(member.name, statistics.byDistrict[member.code] ?? .init(), link: link))
                }
            }
            let totals = statistics.totals
            let content = Page(
                districtName: rollUp ? district.name + "（含各区）" : district.name, year: year,
                districts: districts.map {
                    Option(code: $0.code, name: parents.contains($0.code) ? $0.name + "（全市汇总）" : $0.name, selected: $0.code == district.code)
                },
                clues: totals.clues, filingRate: percentage(totals.filed, of: totals.reviewed),
                onTimeRate: percentage(totals.repliedOnTime, of: totals.replied),
                satisfactionRate: percentage(totals.satisfied, of: totals.evaluated), charts: charts,
                units: statistics.units.map {
                    // In a roll-up, units of the same name in different districts are told apart by their district.
                    UnitRow(
                        name: rollUp ? "\($0.name)（\(names[$0.district] ?? $0.district)）" : $0.name, assignments: $0.assignments,
                        replied: $0.replied, onTime: percentage($0.onTime, of: $0.replied), satisfied: percentage($0.satisfied, of: $0.evaluated))
                },
                rollUp: rollUp, members: rows)
            return try self.page("statistics", content)
        }
    }

    @Sendable func showcase(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await cached(request) {
            struct Entry {
                var id: String; var title: String; var caseNumber: String; var districtName: String; var units: String; var citation: String;
                var reply: String?
            }
            struct Page { var entries: [Entry] }
            let entries = try await queries.showcase().map {
                Entry(
                    id: $0.proposal.id, title: $0.proposal.title, caseNumber: $0.proposal.caseNumber, districtName: $0.proposal.districtName,
                    units: $0.proposal.units, citation: $0.citation, reply: $0.proposal.reply)
            }
            return try self.page("showcase", Page(entries: entries))
        }
    }

    // MARK: rendering

    func render(_ template: String, _ page: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        Self.html(try self.page(template, page), status: status)
    }

    static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func notFound() -> Response {
        struct Page { var heading: String; var message: String }
        let html = templates.render(Page(heading: "未找到", message: "没有找到您要查看的内容。请检查链接，或受理编号和查询码是否正确。"), withTemplate: "problem") ?? "未找到"
        return Self.html(html, status: .notFound)
    }

    func problem(_ problem: PortalProblem) -> Response {
        struct Page { var heading: String; var message: String }
        let html = templates.render(Page(heading: "请求有误", message: problem.message), withTemplate: "problem") ?? problem.message
        var response = Self.html(html, status: .badRequest)
        response.headers[HTTPField.Name("X-Invalid-Parameter")!] = problem.parameter
        return response
    }

    /// The page for this URL from the cache, or rendered (once, however many ask) and kept.
    func cached(_ request: Request, render: @escaping @Sendable () async throws -> String) async throws -> Response {
        Self.html(try await cache.page(request.uri.description, render: render))
    }

    func page(_ template: String, _ page: Any) throws -> String {
        guard let html = templates.render(page, withTemplate: template) else { throw PortalError.missingTemplate(template) }
        return html
    }
}

enum PortalError: Error {
    case missingTemplate(String)
}

/// Rendered pages, counts and the list's order, kept for a few seconds: readers of the same
/// page share one rendering. A lifetime of zero keeps nothing (tests read their own writes).
final class PageCache: Sendable {
    let lifetime: Duration
    private let pages: Remembered<String>
    private let counts: Remembered<Int>
    private let districtList: Remembered<[PortalRepository.District]>
    private let callList: Remembered<[PortalRepository.Call]>
    let order: ListOrder

    init(lifetime: Duration, maximumPages: Int = 5_000) {
        self.lifetime = lifetime
        pages = Remembered(lifetime: lifetime, capacity: maximumPages)
        counts = Remembered(lifetime: lifetime, capacity: maximumPages)
        districtList = Remembered(lifetime: lifetime, capacity: 1)
        callList = Remembered(lifetime: lifetime, capacity: 1)
        order = ListOrder(lifetime: lifetime)
    }

    func page(_ key: String, render: @escaping @Sendable () async throws -> String) async throws -> String {
        try await pages.value(for: key, load: render)
    }

    func count(_ filter: FeedbackFilter, load: @escaping @Sendable () async throws -> Int) async throws -> Int {
        try await counts.value(for: filter.queryString, load: load)
    }

    func districts(load: @escaping @Sendable () async throws -> [PortalRepository.District]) async throws -> [PortalRepository.District] {
        try await districtList.value(for: "", load: load)
    }

    func calls(load: @escaping @Sendable () async throws -> [PortalRepository.Call]) async throws -> [PortalRepository.Call] {
        try await callList.value(for: "", load: load)
    }
}

/// The feedback list's order (all proposals, and each district's), kept for the cache's lifetime:
/// a page anywhere in it is then a slice and a lookup by id, where an OFFSET deep in the list
/// would walk the index to it. Other filters go to SQL.
///
/// When the lifetime is up, the order is loaded again only if the list changed: reloading 100,000
/// rows every few seconds, decoded on an event loop, was most of the feedback list's latency tail.
final class ListOrder: Sendable {
    struct Order: Sendable {
        var all: [UUID]
        var byDistrict: [String: [UUID]]
        /// The list as it stood just before the rows were read.
        var stamp: PortalRepository.ListStamp
    }

    private let kept: Remembered<Order>

    init(lifetime: Duration) { kept = Remembered(lifetime: lifetime, capacity: 1) }

    /// The ids of `filter`'s page and the filter's total, or nil when the filter is not the whole
    /// list or one district's (or nothing is kept).
    func page(_ filter: FeedbackFilter, offset: Int, limit: Int, queries: PortalRepository) async throws -> ([UUID], Int)? {
        guard filter.domain == nil, filter.status == nil, filter.year == nil, filter.call == nil, filter.unit == nil, filter.text == nil,
            let order = try await load(queries)
        else { return nil }
        let ids = filter.district.map { order.byDistrict[$0] ?? [] } ?? order.all
        guard offset < ids.count else { return ([], ids.count) }
        return (Array(ids[offset..<min(ids.count, offset + limit)]), ids.count)
    }

    private func load(_ queries: PortalRepository) async throws -> Order? {
        try await kept.valueIfKept(for: "") { previous in
            // Stamped before the rows are read: a proposal filed in between shows in the rows
            // now or changes the next stamp, so it is never missed.
            let stamp = try await queries.listStamp()
            if let previous, previous.stamp == stamp { return previous }
            let rows = try await queries.listOrder()
            var byDistrict: [String: [UUID]] = [:]
            for row in rows { byDistrict[row.district, default: []].append(row.id) }
            return Order(all: rows.map(\.id), byDistrict: byDistrict, stamp: stamp)
        }
    }
}

/// The feedback list's cards, written directly: the list is the portal's busiest page and the
/// template engine's name lookups were most of its cost. Every value goes through
/// `HTMLText.escape`, as the templates' `{{ }}` would.
enum ProposalCards {
    static func html(_ proposals: [PublicProposal]) -> String {
        var html = ""
        html.reserveCapacity(proposals.count * 1_200)
        for proposal in proposals {
            let e = HTMLText.escape
            html += "<article class=\"card\">\n<h2><a href=\"/proposals/\(e(proposal.id))\">\(e(proposal.title))</a></h2>\n"
            html += "<p class=\"meta\"><span>\(e(proposal.caseNumber))</span><span>\(e(proposal.districtName))</span>"
            if let domain = proposal.domainName { html += "<span>\(e(domain))</span>" }
            html +=
                "<span class=\"status \(e(proposal.status))\">\(e(proposal.statusLabel))</span></p>\n<p>\(e(proposal.summary))</p>\n<p class=\"meta\">"
            if !proposal.units.isEmpty { html += "<span>承办单位：\(e(proposal.units))</span>" }
            if let deadline = proposal.deadline { html += "<span>办理期限：\(e(deadline))</span>" }
            if let category = proposal.category { html += "<span>答复：\(e(category))</span>" }
            if let satisfaction = proposal.satisfaction { html += "<span>提案人评价：\(e(satisfaction))</span>" }
            html += "</p>\n"
            if let reply = proposal.reply { html += "<p><strong>答复摘要：</strong>\(e(reply))</p>\n" }
            html += "</article>\n"
        }
        return html
    }
}
