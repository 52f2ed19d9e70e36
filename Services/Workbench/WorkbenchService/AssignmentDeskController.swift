import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// The proposals committee's assignment desk (交办): filed proposals waiting for their units,
/// each with the units suggested and the reasons for every point; assign or pre-assign (预交办),
/// decide contests (reassign, or reject with a note), mark key proposals with their leader and
/// change a deadline with a reason. Everything goes through assignment's API.
struct AssignmentDeskController: Sendable {
    let desk: DeskController
    var pages: Pages { desk.pages }
    var services: ServiceCalls { desk.services }

    static let committee: Set<StaffClaims.Role> = [.proposalsCommittee, .administrator]
    static let states: [(code: String, name: String)] = [
        ("awaiting-assignment", "待交办"), ("pre-assigned", "预交办待确认"), ("contested", "有异议"), ("assigned", "已交办"),
    ]

    func register(on router: Router<AppRequestContext>) {
        router.get("/assignment", use: queue)
        router.get("/assignment/proposals/:id", use: proposal)
        router.post("/assignment/proposals/:id/:step", use: step)
    }

    static func stateName(_ code: String?) -> String { states.first { $0.code == code }?.name ?? (code ?? "") }

    static func domainName(_ code: String?) -> String {
        guard let code else { return "" }
        return BuiltInClassificationRules.names.domains[code] ?? code
    }

    static let actions = [
        "suggested": "生成承办建议", "assigned": "交办", "confirmed": "单位确认预交办", "contested": "单位提出异议",
        "contest-rejected": "不同意异议", "reassigned": "重新交办", "deadline-changed": "修改期限", "marked-key": "列为重点提案",
    ]

    /// A suggestion's reason as staff read it.
    static func wording(_ reason: [String: Any]) -> String {
        // Suggestions stored before reasons named their subject keep their English detail.
        guard let subject = reason["subject"] as? String else { return reason["detail"] as? String ?? "" }
        switch reason["kind"] as? String {
        case "domain": return "主管领域：" + domainName(subject)
        case "keyword": return "提案中有关键词“\(subject)”"
        case "similar-proposal":
            let percent = String(format: "%.0f%%", ((reason["similarity"] as? Double) ?? 0) * 100)
            return ((reason["asLead"] as? Bool) == true ? "主办过" : "协办过") + "相似提案 \(subject)（相似度 \(percent)）"
        default: return reason["detail"] as? String ?? ""
        }
    }

    @Sendable func queue(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.committee) { visit in
            let state =
                request.queryValues["state"].flatMap { code in Self.states.contains { $0.code == code } ? code : nil } ?? "awaiting-assignment"
            let answer = try await services.get(.assignment, "/v1/assignment/queue?state=\(state)&limit=200", for: visit)
            guard answer.ok else { return desk.refusal(answer, visit: visit) }
            let rows = ((answer.json["proposals"] as? [[String: Any]]) ?? []).map { row -> [String: Any] in
                var row = row
                row["proposalId"] = ((row["proposalId"] as? String) ?? "").lowercased()
                row["filed"] = Labels.time(row["filedAt"])
                row["domain"] = Self.domainName(row["domain"] as? String)
                row["suggested"] = ((row["suggestedLead"] as? [String: Any])?["name"] as? String) ?? ""
                return row
            }
            let tabs = Self.states.map { ["code": $0.code, "name": $0.name, "current": $0.code == state] }
            return pages.render("assignment-queue", ["title": "交办", "proposals": rows, "empty": rows.isEmpty, "tabs": tabs], visit: visit)
        }
    }

    @Sendable func proposal(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.committee) { visit in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:))?.uuidString.lowercased() else {
                return pages.problem("没有找到这件提案。", status: .notFound, visit: visit)
            }
            return try await proposalPage(id, visit: visit, form: nil, step: nil, message: nil, status: .ok)
        }
    }

    func proposalPage(_ id: String, visit: Visit, form: FormRequest?, step: String?, message: String?, status: HTTPResponse.Status) async throws
        -> Response
    {
        // Suggested afresh: the directory and past proposals may have changed since filing.
        async let opened = services.get(.assignment, "/v1/assignment/proposals/\(id)?fresh=true", for: visit)
        async let listed = services.get(.assignment, "/v1/assignment/units", for: visit)
        let (answer, unitsAnswer) = try await (opened, listed)
        guard answer.ok else { return desk.refusal(answer, visit: visit) }
        let record = answer.json
        let state = record["state"] as? String
        let suggestion = (record["suggestion"] as? [String: Any]) ?? [:]
        func suggested(_ list: Any?) -> [[String: Any]] {
            ((list as? [[String: Any]]) ?? []).map { unit in
                var unit = unit
                unit["score"] = String(format: "%.1f", (unit["score"] as? Double) ?? 0)
                unit["reasons"] = ((unit["reasons"] as? [[String: Any]]) ?? []).map { reason -> [String: Any] in
                    var reason = reason
                    reason["points"] = String(format: "%.1f", (reason["points"] as? Double) ?? 0)
                    reason["wording"] = Self.wording(reason)
                    return reason
                }
                return unit
            }
        }
        let typed = step.flatMap { step in form.map { [step: $0.fields] } } ?? [:]
        let chosenLead =
            typed["assign"]?["lead"] ?? typed["reassign"]?["lead"]
            ?? ((suggestion["lead"] as? [[String: Any]])?.first?["unitId"] as? String)
        let chosenCo = Set(form?.all("coUnits") ?? [])
        let units = ((unitsAnswer.json["units"] as? [[String: Any]]) ?? []).map { unit -> [String: Any] in
            let unitID = (unit["id"] as? String) ?? ""
            return [
                "id": unitID, "name": unit["name"] ?? "", "lead": unitID.lowercased() == chosenLead?.lowercased(),
                "co": chosenCo.contains(unitID),
            ]
        }
        let assignments = ((record["assignments"] as? [[String: Any]]) ?? []).filter { ($0["status"] as? String) != "superseded" }
            .map { part -> [String: Any] in
                var part = part
                part["id"] = ((part["id"] as? String) ?? "").lowercased()
                part["roleName"] = UnitLabels.role(part["role"] as? String)
                part["statusName"] = UnitLabels.status(part["status"] as? String)
                return part
            }
        let contests = ((record["contests"] as? [[String: Any]]) ?? []).map { contest -> [String: Any] in
            var contest = contest
            contest["id"] = ((contest["id"] as? String) ?? "").lowercased()
            contest["when"] = Labels.time(contest["contestedAt"])
            contest["open"] = contest["resolution"] == nil || contest["resolution"] is NSNull
            contest["decisionName"] = UnitLabels.contestDecision(contest["resolution"] as? String)
            contest["unitName"] =
                assignments.first { ($0["id"] as? String) == ((contest["assignmentId"] as? String) ?? "").lowercased() }?["unitName"] ?? ""
            return contest
        }
        var values: [String: Any] = [
            "title": "交办 " + ((record["caseNumber"] as? String) ?? ""), "id": id, "caseNumber": record["caseNumber"] ?? "",
            "proposalTitle": record["title"] ?? "", "domain": Self.domainName(record["domain"] as? String), "state": Self.stateName(state),
            "isKey": record["isKey"] ?? false, "leader": record["supervisingLeader"] ?? NSNull(),
            "leads": suggested(suggestion["lead"]), "coSuggestions": suggested(suggestion["coUnits"]),
            "similar": ((suggestion["similarProposals"] as? [[String: Any]]) ?? []).map { similar -> [String: Any] in
                var similar = similar
                similar["percent"] = String(format: "%.0f%%", ((similar["similarity"] as? Double) ?? 0) * 100)
                return similar
            },
            "units": units, "assignments": assignments, "contests": contests,
            "history": Labels.stamped(record["history"], "at").map { entry -> [String: Any] in
                var entry = entry
                entry["actionName"] = Self.actions[entry["action"] as? String ?? ""] ?? (entry["action"] as? String ?? "")
                return entry
            },
            "canAssign": state == "awaiting-assignment", "canReassign": state == "contested" || state == "assigned" || state == "pre-assigned",
        ]
        if let step, let message { values["error"] = ["step": step, "message": message] }
        values["typed"] = typed
        return pages.render("assignment-proposal", values, visit: visit, status: status)
    }

    /// Assign, reassign, reject a contest, mark key, change a deadline.
    @Sendable func step(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.committee) { visit, form in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:))?.uuidString.lowercased(),
                let step = context.parameters.get("step")
            else { return pages.problem("没有这个操作。", status: .notFound, visit: visit) }
            func value(_ name: String) -> Any { form[name].flatMap { $0.isEmpty ? nil : $0 } ?? NSNull() }
            let path: String
            var json: [String: Any] = [:]
            switch step {
            case "assign", "reassign":
                path = "/v1/assignment/proposals/\(id)/" + (step == "assign" ? "assignment" : "reassignment")
                json = [
                    "lead": value("lead"), "coUnits": form.all("coUnits").filter { !$0.isEmpty }, "deadline": value("deadline"),
                    "notes": form["notes"] ?? "",
                ]
                if step == "assign" { json["preAssign"] = form["preAssign"] == "true" }
            case "reject":
                guard let contest = form["contestId"].flatMap(UUID.init(uuidString:)) else {
                    return pages.problem("没有这项异议。", status: .notFound, visit: visit)
                }
                path = "/v1/assignment/contests/\(contest.uuidString.lowercased())/rejection"
                json = ["note": form["note"] ?? ""]
            case "key":
                path = "/v1/assignment/proposals/\(id)/key"
                json = ["supervisingLeader": value("supervisingLeader")]
            case "deadline":
                guard let part = form["assignmentId"].flatMap(UUID.init(uuidString:)) else {
                    return pages.problem("没有这件交办件。", status: .notFound, visit: visit)
                }
                path = "/v1/assignment/assignments/\(part.uuidString.lowercased())/deadline"
                json = ["deadline": value("deadline"), "reason": value("reason")]
            default:
                return pages.problem("没有这个操作。", status: .notFound, visit: visit)
            }
            let answer = try await services.send(.POST, .assignment, path, json: json, for: visit)
            if answer.ok { return Pages.redirect("/assignment/proposals/\(id)") }
            if [400, 409, 422].contains(answer.status) {
                let field = answer.problem.field.map { FieldNames.chinese($0) + "：" } ?? ""
                return try await proposalPage(
                    id, visit: visit, form: form, step: step, message: field + answer.problem.message,
                    status: HTTPResponse.Status(code: answer.status))
            }
            return desk.refusal(answer, visit: visit)
        }
    }
}
