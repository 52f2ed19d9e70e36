import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// The handling unit's desk (承办单位): its assignments with deadlines and days left, and for one
/// of them every step the unit takes — confirm or contest the assignment (assignment's API),
/// record the three meetings, add progress, give the co-unit opinion, ask for more time, reply
/// (supervision's API). The services decide what is allowed; a refusal is shown with the form
/// as typed.
struct UnitDeskController: Sendable {
    let desk: DeskController
    var pages: Pages { desk.pages }
    var services: ServiceCalls { desk.services }
    var clock: ServiceClock { desk.workbench.clock }

    static let units: Set<StaffClaims.Role> = [.handlingUnit]

    func register(on router: Router<AppRequestContext>) {
        router.get("/unit/assignments", use: list)
        router.get("/unit/assignments/:id", use: assignment)
        router.post("/unit/assignments/:id/:step", use: step)
        router.get("/unit/replies/:id/attachments/:position", use: attachment)
    }

    @Sendable func attachment(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.replyAttachment(request, context, roles: Self.units, api: "/v1/supervision/my")
    }

    /// A reply's files, with the address each downloads from (`base`: the role's route).
    static func attachments(of reply: [String: Any], base: String) -> [[String: Any]] {
        let id = ((reply["id"] as? String) ?? "").lowercased()
        return ((reply["attachments"] as? [[String: Any]]) ?? []).enumerated().map { position, file in
            var file = file
            file["href"] = "\(base)/\(id)/attachments/\(position)"
            file["sizeText"] = Labels.size(file["size"] as? Int ?? 0)
            return file
        }
    }

    var today: LocalDate { LocalDate.on(clock.now, in: .chinaTime) }

    /// Days left (or overdue) as people say it; nil without a deadline (Mustache shows a section
    /// for an empty text, so nothing is left out as nil).
    func countdown(_ deadline: String?) -> String? {
        guard let deadline, let day = LocalDate(deadline) else { return nil }
        let left = today.days(until: day)
        return left > 0 ? "还有 \(left) 天" : left == 0 ? "今天到期" : "已超期 \(-left) 天"
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.units) { visit in
            async let assigned = services.get(.assignment, "/v1/assignment/my/assignments", for: visit)
            async let tracked = services.get(.supervision, "/v1/supervision/my/assignments", for: visit)
            let (parts, handling) = try await (assigned, tracked)
            guard parts.ok else { return desk.refusal(parts, visit: visit) }
            guard handling.ok else { return desk.refusal(handling, visit: visit) }
            var states: [String: [String: Any]] = [:]
            for row in (handling.json["assignments"] as? [[String: Any]]) ?? [] {
                if let id = row["assignmentId"] as? String { states[id.lowercased()] = row }
            }
            let rows = ((parts.json["assignments"] as? [[String: Any]]) ?? []).map { view -> [String: Any] in
                let record = (view["assignment"] as? [String: Any]) ?? [:]
                let id = ((record["id"] as? String) ?? "").lowercased()
                let tracking = states[id]
                let deadline = (tracking?["deadline"] as? String) ?? (record["deadline"] as? String)
                let status = record["status"] as? String
                return [
                    "id": id, "caseNumber": view["caseNumber"] ?? "", "title": view["title"] ?? "",
                    "role": UnitLabels.role(record["role"] as? String),
                    "state": tracking.map { UnitLabels.state($0["state"] as? String) } ?? UnitLabels.status(status),
                    // Days left only while the reply is still owed.
                    "deadline": deadline ?? "",
                    "countdown":
                        (status != "proposed" && (tracking == nil || tracking?["state"] as? String == "handling") ? countdown(deadline) : nil) as Any,
                    "overdue": deadline.flatMap(LocalDate.init).map { $0 < today && (tracking?["state"] as? String) == "handling" } ?? false,
                    "escalation": (tracking?["escalationLevel"] as? String).flatMap(EscalationLevel.init(rawValue:)).map(
                        StaffNoticeRouting.escalationName) as Any,
                    "toConfirm": status == "proposed",
                ]
            }
            return pages.render("unit-assignments", ["title": "交办件", "assignments": rows, "empty": rows.isEmpty], visit: visit)
        }
    }

    @Sendable func assignment(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.units) { visit in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
                return pages.problem("没有找到这件交办件。", status: .notFound, visit: visit)
            }
            // `?template=ID`: the reply form starts from that template, filled with this case.
            let template = request.queryValues["template"].flatMap(UUID.init(uuidString:))
            return try await assignmentPage(id, visit: visit, form: nil, step: nil, message: nil, template: template, status: .ok)
        }
    }

    func assignmentPage(
        _ id: UUID, visit: Visit, form: FormRequest?, step: String?, message: String?, template: UUID? = nil, status: HTTPResponse.Status
    ) async throws -> Response {
        let path = id.uuidString.lowercased()
        async let assigned = services.get(.assignment, "/v1/assignment/my/assignments/\(path)", for: visit)
        async let tracked = services.get(.supervision, "/v1/supervision/my/assignments/\(path)", for: visit)
        let (part, handling) = try await (assigned, tracked)
        guard part.ok else { return desk.refusal(part, visit: visit) }
        // Not tracked yet while only proposed (预交办): supervision starts at the final assignment.
        guard handling.ok || handling.status == 404 else { return desk.refusal(handling, visit: visit) }
        let view = part.json
        let record = (view["assignment"] as? [String: Any]) ?? [:]
        let status_ = record["status"] as? String
        let tracking = handling.ok ? handling.json : [:]
        let state = tracking["state"] as? String
        let isLead = (record["role"] as? String) == "lead"
        let deadline = (tracking["deadline"] as? String) ?? (record["deadline"] as? String)
        let contestUntil = (record["contestUntil"] as? String).flatMap(LocalDate.init)
        let canContest =
            (status_ == "proposed" || status_ == "active") && (state == nil || state == "handling")
            && contestUntil.map { today <= $0 } ?? false
            && !((view["contests"] as? [[String: Any]]) ?? []).contains { ($0["resolution"] as? String) == nil }
        let handlingOpen = state == "handling"
        let opinions = (tracking["coUnitOpinions"] as? [[String: Any]]) ?? []
        var values: [String: Any] = [
            "title": "交办件 " + ((view["caseNumber"] as? String) ?? ""), "id": path,
            "caseNumber": view["caseNumber"] ?? "", "proposalTitle": view["title"] ?? "", "isKey": view["isKey"] ?? false,
            "leader": view["supervisingLeader"] ?? NSNull(),
            "role": UnitLabels.role(record["role"] as? String), "isLead": isLead,
            "state": state.map { UnitLabels.state($0) } ?? UnitLabels.status(status_),
            "deadline": deadline ?? "",
            "countdown": ((state == nil || state == "handling") && status_ != "proposed" ? countdown(deadline) : nil) as Any,
            "confirmBy": record["confirmBy"] ?? NSNull(),
            "notes": record["notes"] ?? "",
            "toConfirm": status_ == "proposed", "canContest": canContest, "contestUntil": contestUntil?.description ?? "",
            "contests": ((view["contests"] as? [[String: Any]]) ?? []).map { contest -> [String: Any] in
                var contest = contest
                contest["when"] = Labels.time(contest["contestedAt"])
                contest["decisionName"] = UnitLabels.contestDecision(contest["resolution"] as? String)
                return contest
            },
            "tracked": handling.ok, "handlingOpen": handlingOpen,
            "meetings": ((tracking["meetings"] as? [[String: Any]]) ?? []).map { meeting -> [String: Any] in
                var meeting = meeting
                meeting["stageName"] = UnitLabels.meetingStage(meeting["stage"] as? String)
                return meeting
            },
            "progressNotes": Labels.stamped(tracking["progressNotes"], "notedAt"),
            "opinions": Labels.stamped(opinions, "givenAt"),
            "replies": ((tracking["replies"] as? [[String: Any]]) ?? []).map { reply -> [String: Any] in
                var reply = reply
                reply["when"] = Labels.time(reply["repliedAt"])
                reply["categoryName"] = UnitLabels.category(reply["reviewedCategory"] as? String ?? reply["category"] as? String)
                reply["files"] = Self.attachments(of: reply, base: "/unit/replies")
                return reply
            },
            "extensions": ((tracking["extensionRequests"] as? [[String: Any]]) ?? []).map { request -> [String: Any] in
                var request = request
                request["decisionName"] = UnitLabels.extensionDecision(request["decision"] as? String)
                return request
            },
            "canOpinion": handlingOpen && !isLead, "canReply": handlingOpen && isLead,
            "canExtend": handlingOpen && deadline.flatMap(LocalDate.init).map { today <= $0 } ?? false,
            "stages": Labels.options(
                [(code: "before", name: "办前见面"), (code: "during", name: "办中见面"), (code: "after", name: "办后见面")],
                selected: step == "meetings" ? form?["stage"] : nil),
            "categories": Labels.options(
                [
                    (code: "A", name: "A 类：已解决或采纳"), (code: "B", name: "B 类：正在解决或列入计划"),
                    (code: "C", name: "C 类：留作参考"),
                ], selected: step == "reply" ? form?["category"] : nil),
            "today": today.description,
        ]
        values["printBase"] = "/print/assignments/\(path)"
        values["printReply"] = !((tracking["replies"] as? [Any]) ?? []).isEmpty
        values["printSupervision"] = (tracking["escalationLevel"] as? String).map { $0 != EscalationLevel.reminder.rawValue } ?? false
        if values["canReply"] as? Bool == true {
            let templates = try await services.get(.supervision, "/v1/supervision/reply-templates", for: visit)
            let offered = ((templates.json["templates"] as? [[String: Any]]) ?? []).map { template in
                [
                    "id": template["id"] ?? "",
                    "name": (template["scope"] as? String == "unit" ? "本单位：" : "全区：") + ((template["name"] as? String) ?? ""),
                ]
            }
            values["templates"] = offered
            values["hasTemplates"] = !offered.isEmpty
            if let template, form == nil {
                let draft = try await services.get(
                    .supervision, "/v1/supervision/my/assignments/\(path)/reply-draft?template=\(template.uuidString.lowercased())", for: visit)
                if draft.ok, let text = draft.json["text"] as? String { values["typed"] = ["reply": ["text": text]] }
            }
        }
        if let step, let message { values["error"] = ["step": step, "message": message] }
        // What was typed goes back into the form it came from only.
        if let form, let step { values["typed"] = [step: form.fields] }
        if step == "reply", let form, !form.files.isEmpty { values["filesDropped"] = true }
        return pages.render("unit-assignment", values, visit: visit, status: status)
    }

    /// One step on the assignment; a refusal re-renders the page with the form as typed.
    @Sendable func step(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.units) { visit, form in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), let step = context.parameters.get("step"),
                let call = Self.call(step, id: id.uuidString.lowercased(), form: form)
            else { return pages.problem("没有这个操作。", status: .notFound, visit: visit) }
            let answer = try await services.send(.POST, call.target, call.path, json: call.json, for: visit)
            if answer.ok { return Pages.redirect("/unit/assignments/\(id.uuidString.lowercased())") }
            // 413 and 415: an attachment too large or of a refused type.
            if [400, 409, 413, 415, 422].contains(answer.status) {
                let field = answer.problem.field.map { FieldNames.chinese($0) + "：" } ?? ""
                return try await assignmentPage(
                    id, visit: visit, form: form, step: step, message: field + answer.problem.message,
                    status: HTTPResponse.Status(code: answer.status))
            }
            return desk.refusal(answer, visit: visit)
        }
    }

    /// The API call each form makes.
    static func call(_ step: String, id: String, form: FormRequest) -> (target: ServiceCalls.Target, path: String, json: [String: Any])? {
        func value(_ name: String) -> Any { form[name].flatMap { $0.isEmpty ? nil : $0 } ?? NSNull() }
        switch step {
        case "confirmation": return (.assignment, "/v1/assignment/my/assignments/\(id)/confirmation", [:])
        case "contest": return (.assignment, "/v1/assignment/my/assignments/\(id)/contest", ["reason": value("reason")])
        case "meetings":
            return (
                .supervision, "/v1/supervision/my/assignments/\(id)/meetings",
                [
                    "stage": value("stage"), "heldOn": value("heldOn"), "form": value("form"), "attendees": value("attendees"),
                    "summary": value("summary"),
                ]
            )
        case "progress": return (.supervision, "/v1/supervision/my/assignments/\(id)/progress", ["text": value("text")])
        case "opinion": return (.supervision, "/v1/supervision/my/assignments/\(id)/opinion", ["text": value("text")])
        case "extension":
            return (.supervision, "/v1/supervision/my/assignments/\(id)/extension", ["deadline": value("deadline"), "reason": value("reason")])
        case "reply":
            return (
                .supervision, "/v1/supervision/my/assignments/\(id)/reply",
                [
                    "text": value("text"), "category": value("category"), "promisedDate": value("promisedDate"),
                    "attachments": form.files.filter { $0.field == "attachments" }.map {
                        ["name": $0.filename, "mediaType": $0.mediaType, "content": $0.content.base64EncodedString()]
                    },
                ]
            )
        default: return nil
        }
    }
}

/// The Chinese names of a unit's assignment states and steps.
enum UnitLabels {
    static func role(_ code: String?) -> String { code == "lead" ? "主办" : code == "co-handling" ? "协办" : "" }

    static func status(_ code: String?) -> String {
        switch code {
        case "proposed": "预交办待确认"
        case "active": "已交办"
        case "contested": "异议待决定"
        case "superseded": "已改交"
        default: code ?? ""
        }
    }

    static func state(_ code: String?) -> String {
        switch code {
        case "handling": "办理中"
        case "replied": "已答复"
        case "closed": "已办结"
        case "superseded": "已改交"
        default: code ?? ""
        }
    }

    static func meetingStage(_ code: String?) -> String {
        switch code {
        case "before": "办前见面"
        case "during": "办中见面"
        case "after": "办后见面"
        default: code ?? ""
        }
    }

    static func category(_ code: String?) -> String {
        switch code {
        case "A": "A 类（已解决或采纳）"
        case "B": "B 类（正在解决或列入计划）"
        case "C": "C 类（留作参考）"
        default: code ?? ""
        }
    }

    static func contestDecision(_ code: String?) -> String {
        switch code {
        case nil: "待决定"
        case "reassigned": "已改交"
        case "rejected": "未获同意"
        default: code ?? ""
        }
    }

    static func extensionDecision(_ code: String?) -> String {
        switch code {
        case nil: "待决定"
        case "granted": "已同意"
        case "refused": "未获同意"
        default: code ?? ""
        }
    }
}
