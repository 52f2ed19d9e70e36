import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// The committee's reports on handling: the unit evaluation (考核) for a period as a table and
/// charts with its CSV, and the clue quotas of the register's studios and members with who is
/// behind and the reminders. Supervision computes the figures.
struct ReportsController: Sendable {
    let desk: DeskController
    var pages: Pages { desk.pages }
    var services: ServiceCalls { desk.services }
    var clock: ServiceClock { desk.workbench.clock }

    static let committee: Set<StaffClaims.Role> = [.proposalsCommittee]

    func register(on router: Router<AppRequestContext>) {
        router.get("/supervision/evaluation", use: evaluation)
        router.get("/supervision/evaluation.csv", use: evaluationCSV)
        router.get("/supervision/quotas", use: quotas)
        router.post("/supervision/quotas/reminders", use: remind)
    }

    var today: LocalDate { LocalDate.on(clock.now, in: .chinaTime) }

    /// The period asked for; this year up to today when none is given.
    func period(_ request: Request) -> (from: String, to: String) {
        let query = request.queryValues
        let from = query["from"].flatMap { $0.isEmpty ? nil : $0 } ?? LocalDate(year: today.year, month: 1, day: 1)?.description ?? today.description
        let to = query["to"].flatMap { $0.isEmpty ? nil : $0 } ?? today.description
        return (from, to)
    }

    static func rate(_ value: Any?) -> String {
        guard let rate = value as? Double else { return "—" }
        return String(format: "%.1f%%", rate * 100)
    }

    @Sendable func evaluation(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.committee) { visit in
            let (from, to) = period(request)
            var values: [String: Any] = ["title": "承办单位考核", "from": from, "to": to]
            guard let first = LocalDate(from), let last = LocalDate(to), first <= last, first.days(until: last) <= 366 else {
                values["error"] = "请选择起始日期和截止日期（格式 YYYY-MM-DD），起始日期不晚于截止日期，期间不超过一年。"
                return pages.render("evaluation", values, visit: visit, status: .unprocessableContent)
            }
            let answer = try await services.get(
                .supervision, "/v1/supervision/evaluation" + DeskController.query([("from", from), ("to", to)]), for: visit)
            guard answer.ok else {
                if answer.status == 400 || answer.status == 422 {
                    values["error"] = answer.problem.message
                    return pages.render("evaluation", values, visit: visit, status: HTTPResponse.Status(code: answer.status))
                }
                return desk.refusal(answer, visit: visit)
            }
            let units = (answer.json["units"] as? [[String: Any]]) ?? []
            values["units"] = units.map { unit -> [String: Any] in
                [
                    "rank": unit["rank"] ?? "", "name": unit["unitName"] ?? "", "score": String(format: "%.2f", (unit["score"] as? Double) ?? 0),
                    "assignments": unit["assignments"] ?? 0, "lead": unit["leadAssignments"] ?? 0,
                    "onTime": Self.rate(unit["onTimeReplyRate"]), "meetings": Self.rate(unit["threeMeetingRate"]),
                    "opinions": Self.rate(unit["coUnitOpinionRate"]), "satisfaction": Self.rate(unit["satisfactionRate"]),
                    "rehandlings": unit["rehandlings"] ?? 0, "extensions": unit["extensions"] ?? 0,
                ]
            }
            values["empty"] = units.isEmpty
            // Units with nothing to measure (no reply due, nothing evaluated) are left out of a
            // rate's chart, not drawn at 0 %.
            func chart(_ title: String, _ bar: ([String: Any]) -> Int?, unit: String) -> String {
                BarChart(
                    title: title, bars: units.prefix(15).compactMap { row in bar(row).map { (((row["unitName"] as? String) ?? ""), $0) } },
                    unit: unit
                ).svg
            }
            values["charts"] =
                units.isEmpty
                ? []
                : [
                    chart("考核得分", { Int((($0["score"] as? Double) ?? 0).rounded()) }, unit: "分"),
                    chart("按时答复率", { ($0["onTimeReplyRate"] as? Double).map { Int(($0 * 100).rounded()) } }, unit: "%"),
                    chart("提案人满意率", { ($0["satisfactionRate"] as? Double).map { Int(($0 * 100).rounded()) } }, unit: "%"),
                ]
            let commendations = (answer.json["commendations"] as? [String: Any]) ?? [:]
            values["advanced"] = ((commendations["advancedUnits"] as? [[String: Any]]) ?? []).compactMap { $0["unitName"] as? String }
            values["excellent"] = ((commendations["excellentProposals"] as? [[String: Any]]) ?? []).map {
                ["caseNumber": $0["caseNumber"] ?? "", "unit": $0["leadUnitName"] ?? ""]
            }
            values["csv"] = "/supervision/evaluation.csv" + DeskController.query([("from", from), ("to", to)])
            return pages.render("evaluation", values, visit: visit)
        }
    }

    @Sendable func evaluationCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.committee) { visit in
            let (from, to) = period(request)
            let path = "/v1/supervision/evaluation" + DeskController.query([("from", from), ("to", to), ("format", "csv")])
            return desk.download(try await services.get(.supervision, path, for: visit), visit: visit)
        }
    }

    @Sendable func quotas(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.committee) { visit in
            try await quotaPage(request.queryValues["month"], visit: visit, message: nil, reminded: nil, status: .ok)
        }
    }

    func quotaPage(_ month: String?, visit: Visit, message: String?, reminded: Int?, status: HTTPResponse.Status) async throws -> Response {
        let month = month.flatMap { $0.isEmpty ? nil : $0 } ?? String(today.description.prefix(7))
        let answer = try await services.get(.supervision, "/v1/supervision/quotas" + DeskController.query([("month", month)]), for: visit)
        var values: [String: Any] = ["title": "线索报送情况", "month": month]
        if answer.ok {
            // Supervision's order: the furthest behind first.
            let rows = (answer.json["standings"] as? [[String: Any]]) ?? []
            values["standings"] = rows.map { row -> [String: Any] in
                var row = row
                row["kindName"] = row["kind"] as? String == "studio" ? "委员工作室（每月）" : "委员（每年）"
                row["behind"] = ((row["shortfall"] as? Int) ?? 0) > 0
                return row
            }
            let behind = rows.filter { (($0["shortfall"] as? Int) ?? 0) > 0 }.count
            // Mustache shows a section for 0: nil when nobody is behind.
            values["behindCount"] = behind > 0 ? behind : nil
            values["allMet"] = behind == 0 && !rows.isEmpty
            values["empty"] = rows.isEmpty
        } else {
            values["error"] = answer.problem.message
        }
        if let message { values["error"] = message }
        if let reminded { values["reminded"] = reminded == 0 ? "没有需要提醒的（本月已提醒过的不再重复提醒）。" : "已提醒 \(reminded) 个落后的工作室和委员。" }
        return pages.render("quotas", values, visit: visit, status: status)
    }

    @Sendable func remind(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.committee) { visit, form in
            let month = form["month"] ?? ""
            let answer = try await services.send(
                .POST, .supervision,
                "/v1/supervision/quotas/reminders?month=\(month.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")",
                json: [:], for: visit)
            guard answer.ok else {
                return try await quotaPage(
                    month, visit: visit, message: answer.problem.message, reminded: nil,
                    status: HTTPResponse.Status(code: answer.status >= 400 ? answer.status : 502))
            }
            return try await quotaPage(month, visit: visit, message: nil, reminded: (answer.json["reminded"] as? [Any])?.count ?? 0, status: .ok)
        }
    }
}
