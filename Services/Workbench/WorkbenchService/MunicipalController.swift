import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// The municipal committee's pages: its districts' figures side by side, the clues that arrived
/// by the through train, and any district's proposal read-only. Supervision reads the figures.
struct MunicipalController: Sendable {
    let desk: DeskController
    var pages: Pages { desk.pages }
    var services: ServiceCalls { desk.services }

    static let readers: Set<StaffClaims.Role> = [.proposalsCommittee, .administrator, .supervisingLeader]

    func register(on router: Router<AppRequestContext>) {
        router.get("/municipal", use: overview)
        router.get("/municipal/districts/:code", use: district)
        router.get("/municipal/proposals/:id", use: proposal)
    }

    var thisYear: Int { LocalDate.on(desk.workbench.clock.now, in: .chinaTime).year }

    func year(_ request: Request) -> Int {
        request.queryValues["year"].flatMap(Int.init).flatMap { (2000...2100).contains($0) ? $0 : nil } ?? thisYear
    }

    static func percentage(_ part: Any?, of whole: Any?) -> String {
        guard let whole = whole as? Int, whole > 0 else { return "—" }
        return String(format: "%.1f%%", Double(part as? Int ?? 0) * 100 / Double(whole))
    }

    func years(around year: Int) -> [[String: Any]] {
        (thisYear - 4...thisYear).reversed().map { ["year": $0, "selected": $0 == year] }
    }

    @Sendable func overview(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.readers) { visit in
            let year = year(request)
            let answer = try await services.get(.supervision, "/v1/supervision/municipal?year=\(year)", for: visit)
            guard answer.ok else { return desk.refusal(answer, visit: visit) }
            let districts = (answer.json["districts"] as? [[String: Any]]) ?? []
            var total: [String: Int] = [:]
            let rows = districts.map { row -> [String: Any] in
                for key in ["clues", "sentUp", "reviewed", "filed", "replied", "repliedOnTime", "evaluated", "satisfied"] {
                    total[key, default: 0] += row[key] as? Int ?? 0
                }
                var shown = row
                shown["filingRate"] = Self.percentage(row["filed"], of: row["reviewed"])
                shown["onTimeRate"] = Self.percentage(row["repliedOnTime"], of: row["replied"])
                shown["satisfactionRate"] = Self.percentage(row["satisfied"], of: row["evaluated"])
                return shown
            }
            let arrivals = ((answer.json["arrivals"] as? [[String: Any]]) ?? []).map { row -> [String: Any] in
                var shown = row
                shown["statusName"] = Labels.name(row["status"] as? String, in: Labels.clueStatus)
                shown["routeName"] = (row["route"] as? String).map { code in Labels.routes.first { $0.code == code }?.name ?? code } ?? "待分流"
                shown["arrived"] = Labels.time(row["arrivedAt"])
                return shown
            }
            let values: [String: Any] = [
                "title": "各区情况", "year": year, "years": years(around: year), "districts": rows,
                "total": total.mapValues { $0 as Any },
                "totalFilingRate": Self.percentage(total["filed"], of: total["reviewed"]),
                "totalOnTimeRate": Self.percentage(total["repliedOnTime"], of: total["replied"]),
                "totalSatisfactionRate": Self.percentage(total["satisfied"], of: total["evaluated"]),
                "arrivals": arrivals, "noArrivals": arrivals.isEmpty,
                "chart": BarChart(title: "各区收到线索", bars: districts.map { (($0["name"] as? String) ?? "", ($0["clues"] as? Int) ?? 0) }, unit: "条")
                    .svg,
            ]
            return pages.render("municipal", values, visit: visit)
        }
    }

    @Sendable func district(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.readers) { visit in
            guard let code = context.parameters.get("code"), DistrictCode(rawValue: code) != nil else {
                return pages.problem("没有这个区。", status: .notFound, visit: visit)
            }
            let year = year(request)
            async let listed = services.get(.supervision, "/v1/supervision/municipal/districts/\(code)/proposals?year=\(year)", for: visit)
            async let overview = services.get(.supervision, "/v1/supervision/municipal?year=\(year)", for: visit)
            let (answer, figures) = try await (listed, overview)
            guard answer.ok else { return desk.refusal(answer, visit: visit) }
            let name = ((figures.json["districts"] as? [[String: Any]]) ?? []).first { $0["code"] as? String == code }?["name"] as? String ?? code
            let proposals = ((answer.json["proposals"] as? [[String: Any]]) ?? []).map { row -> [String: Any] in
                var shown = row
                shown["statusName"] = Labels.name(row["status"] as? String, in: Labels.proposalStatus)
                shown["satisfactionName"] = Self.satisfaction(row["satisfaction"] as? String)
                return shown
            }
            return pages.render(
                "municipal-district",
                [
                    "title": "\(name)的提案", "name": name, "code": code, "year": year, "years": years(around: year), "proposals": proposals,
                    "empty": proposals.isEmpty,
                ], visit: visit)
        }
    }

    static func satisfaction(_ code: String?) -> String {
        switch code {
        case "satisfied": "满意"
        case "basically-satisfied": "基本满意"
        case "dissatisfied": "不满意"
        default: "未评价"
        }
    }

    @Sendable func proposal(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.readers) { visit in
            guard let id = DeskController.id(context) else { return pages.problem("没有找到这件提案。", status: .notFound, visit: visit) }
            let answer = try await services.get(.supervision, "/v1/supervision/municipal/proposals/\(id)", for: visit)
            guard answer.ok else { return desk.refusal(answer, visit: visit) }
            var values = answer.json
            values["title"] = (answer.json["title"] as? String) ?? "提案"
            values["statusName"] = Labels.name(answer.json["status"] as? String, in: Labels.proposalStatus)
            values["parts"] = ((answer.json["parts"] as? [[String: Any]]) ?? []).map { part -> [String: Any] in
                var shown = part
                shown["roleName"] = part["role"] as? String == "lead" ? "主办" : "协办"
                shown["satisfactionName"] = Self.satisfaction(part["satisfaction"] as? String)
                shown["replied"] = Labels.time(part["repliedAt"])
                return shown
            }
            return pages.render("municipal-proposal", values, visit: visit)
        }
    }
}
