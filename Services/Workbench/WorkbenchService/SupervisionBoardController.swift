import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// The proposals committee's supervision board (督办): what is in handling, overdue first, with
/// days left and the escalation reached; one assignment with its whole record; extension requests
/// to decide; the proposer's evaluation link, closing, and the 五督办 activities. Every page reads
/// and writes through supervision's API.
struct SupervisionBoardController: Sendable {
    let desk: DeskController
    var pages: Pages { desk.pages }
    var services: ServiceCalls { desk.services }
    var units: UnitDeskController { UnitDeskController(desk: desk) }

    static let committee: Set<StaffClaims.Role> = [.proposalsCommittee, .administrator]
    static let actionKinds: [(code: String, name: String)] = [
        ("leader-led", "领导领衔督办"), ("chairpersons-meeting", "主席会议督办"), ("special-committee", "专委会对口督办"),
        ("sector-group", "界别小组督办"), ("media", "媒体跟踪督办"),
    ]

    func register(on router: Router<AppRequestContext>) {
        router.get("/supervision", use: board)
        router.get("/supervision/assignments/:id", use: assignment)
        router.get("/supervision/extensions", use: extensions)
        router.post("/supervision/extensions/:id/decision", use: decideExtension)
        router.post("/supervision/assignments/:id/:step", use: step)
        router.get("/leader", use: leader)
        router.get("/supervision/replies/:id/attachments/:position", use: attachment)
    }

    @Sendable func attachment(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.replyAttachment(request, context, roles: Self.committee, api: "/v1/supervision")
    }

    /// The supervising leader's view: the key proposals this leader leads, furthest escalated first.
    @Sendable func leader(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: [.supervisingLeader]) { visit in
            let answer = try await services.get(.supervision, "/v1/supervision/led", for: visit)
            guard answer.ok else { return desk.refusal(answer, visit: visit) }
            let rows = ((answer.json["assignments"] as? [[String: Any]]) ?? []).map { row -> [String: Any] in
                let state = row["state"] as? String
                let deadline = row["deadline"] as? String
                return [
                    "caseNumber": row["caseNumber"] ?? "", "unitName": row["unitName"] ?? "", "role": UnitLabels.role(row["role"] as? String),
                    "state": UnitLabels.state(state), "deadline": deadline ?? "",
                    "countdown": (state == "handling" ? units.countdown(deadline) : nil) as Any,
                    "escalation": (row["escalationLevel"] as? String).flatMap(EscalationLevel.init(rawValue:)).map(StaffNoticeRouting.escalationName)
                        as Any,
                    "reachedLeader": ["supervising-leader", "chairpersons-meeting"].contains(row["escalationLevel"] as? String ?? ""),
                ]
            }
            return pages.render("leader", ["title": "领衔督办", "assignments": rows, "empty": rows.isEmpty], visit: visit)
        }
    }

    @Sendable func board(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.committee) { visit in
            let state = request.queryValues["state"].flatMap { ["handling", "replied", "closed"].contains($0) ? $0 : nil } ?? "handling"
            async let listed = services.get(.supervision, "/v1/supervision/assignments?state=\(state)", for: visit)
            async let waiting = services.get(.supervision, "/v1/supervision/extensions?state=pending", for: visit)
            let (answer, requests) = try await (listed, waiting)
            guard answer.ok else { return desk.refusal(answer, visit: visit) }
            let today = units.today
            let rows = ((answer.json["assignments"] as? [[String: Any]]) ?? []).map { row -> [String: Any] in
                let deadline = row["deadline"] as? String
                return [
                    "id": ((row["assignmentId"] as? String) ?? "").lowercased(), "caseNumber": row["caseNumber"] ?? "",
                    "unitName": row["unitName"] ?? "", "role": UnitLabels.role(row["role"] as? String), "deadline": deadline ?? "",
                    "countdown": (state == "handling" ? units.countdown(deadline) : nil) as Any,
                    "overdue": state == "handling" && (deadline.flatMap(LocalDate.init).map { $0 < today } ?? false),
                    "escalation": (row["escalationLevel"] as? String).flatMap(EscalationLevel.init(rawValue:)).map(StaffNoticeRouting.escalationName)
                        as Any,
                    "isKey": row["isKey"] as? Bool ?? false,
                ]
            }
            let tabs = [("handling", "办理中"), ("replied", "已答复"), ("closed", "已办结")].map { ["code": $0.0, "name": $0.1, "current": $0.0 == state] }
            // Counts only when there are some: Mustache shows a section for a zero.
            let overdue = rows.filter { $0["overdue"] as? Bool == true }.count
            let pending = ((requests.json["extensionRequests"] as? [Any]) ?? []).count
            return pages.render(
                "supervision-board",
                [
                    "title": "督办", "assignments": rows, "empty": rows.isEmpty, "tabs": tabs,
                    "overdueCount": (overdue > 0 ? overdue : nil) as Any, "pendingExtensions": (pending > 0 ? pending : nil) as Any,
                ], visit: visit)
        }
    }

    @Sendable func extensions(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.committee) { visit in
            try await extensionsPage(visit: visit, form: nil, request: nil, message: nil, status: .ok)
        }
    }

    func extensionsPage(visit: Visit, form: FormRequest?, request id: String?, message: String?, status: HTTPResponse.Status) async throws -> Response
    {
        let answer = try await services.get(.supervision, "/v1/supervision/extensions?state=pending", for: visit)
        guard answer.ok else { return desk.refusal(answer, visit: visit) }
        let rows = ((answer.json["extensionRequests"] as? [[String: Any]]) ?? []).map { row -> [String: Any] in
            var row = row
            row["id"] = ((row["id"] as? String) ?? "").lowercased()
            row["assignmentId"] = ((row["assignmentId"] as? String) ?? "").lowercased()
            row["when"] = Labels.time(row["requestedAt"])
            if let id, row["id"] as? String == id {
                row["error"] = message as Any
                row["typedNote"] = form?["note"] ?? ""
            }
            return row
        }
        return pages.render("supervision-extensions", ["title": "延期申请", "requests": rows, "empty": rows.isEmpty], visit: visit, status: status)
    }

    @Sendable func decideExtension(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.committee) { visit, form in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:))?.uuidString.lowercased() else {
                return pages.problem("没有找到这项延期申请。", status: .notFound, visit: visit)
            }
            let answer = try await services.send(
                .POST, .supervision, "/v1/supervision/extensions/\(id)/decision",
                json: [
                    "decision": form["decision"].flatMap { $0.isEmpty ? nil : $0 } ?? NSNull(), "note": form["note"] ?? "",
                ], for: visit)
            if answer.ok { return Pages.redirect("/supervision/extensions") }
            if [400, 409, 422].contains(answer.status) {
                return try await extensionsPage(
                    visit: visit, form: form, request: id, message: answer.problem.message,
                    status: HTTPResponse.Status(code: answer.status))
            }
            return desk.refusal(answer, visit: visit)
        }
    }

    @Sendable func assignment(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.committee) { visit in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
                return pages.problem("没有找到这件交办件。", status: .notFound, visit: visit)
            }
            return try await assignmentPage(id.uuidString.lowercased(), visit: visit, form: nil, step: nil, message: nil, extra: [:], status: .ok)
        }
    }

    func assignmentPage(
        _ id: String, visit: Visit, form: FormRequest?, step: String?, message: String?, extra: [String: Any], status: HTTPResponse.Status
    ) async throws -> Response {
        let answer = try await services.get(.supervision, "/v1/supervision/assignments/\(id)", for: visit)
        guard answer.ok else { return desk.refusal(answer, visit: visit) }
        let record = answer.json
        let proposal = ((record["proposalId"] as? String) ?? "").lowercased()
        let actions = try await services.get(.supervision, "/v1/supervision/proposals/\(proposal)/actions", for: visit)
        let state = record["state"] as? String
        let deadline = record["deadline"] as? String
        var values: [String: Any] = [
            "title": "督办 " + ((record["caseNumber"] as? String) ?? ""), "id": id, "proposalId": proposal,
            "caseNumber": record["caseNumber"] ?? "", "unitName": record["unitName"] ?? "", "role": UnitLabels.role(record["role"] as? String),
            "state": UnitLabels.state(state), "deadline": deadline ?? "", "countdown": (state == "handling" ? units.countdown(deadline) : nil) as Any,
            "escalation": (record["escalationLevel"] as? String).flatMap(EscalationLevel.init(rawValue:)).map(StaffNoticeRouting.escalationName)
                as Any,
            "isKey": record["isKey"] ?? false, "leader": record["supervisingLeader"] ?? NSNull(),
            "meetings": ((record["meetings"] as? [[String: Any]]) ?? []).map { meeting -> [String: Any] in
                var meeting = meeting
                meeting["stageName"] = UnitLabels.meetingStage(meeting["stage"] as? String)
                return meeting
            },
            "opinions": Labels.stamped(record["coUnitOpinions"], "givenAt"),
            "progressNotes": Labels.stamped(record["progressNotes"], "notedAt"),
            "replies": Labels.stamped(record["replies"], "repliedAt").map { reply -> [String: Any] in
                var reply = reply
                reply["categoryName"] = UnitLabels.category(reply["reviewedCategory"] as? String ?? reply["category"] as? String)
                reply["onTimeName"] = (reply["onTime"] as? Bool) == true ? "按时" : "逾期"
                reply["files"] = UnitDeskController.attachments(of: reply, base: "/supervision/replies")
                return reply
            },
            "extensions": ((record["extensionRequests"] as? [[String: Any]]) ?? []).map { request -> [String: Any] in
                var request = request
                request["decisionName"] = UnitLabels.extensionDecision(request["decision"] as? String)
                return request
            },
            "timers": ((record["timers"] as? [[String: Any]]) ?? []).map { timer -> [String: Any] in
                var timer = timer
                timer["status"] = timer["firedAt"] is String ? "已触发" : timer["cancelledAt"] is String ? "已取消" : "待触发"
                let step = (timer["step"] as? Int) ?? 0
                timer["name"] =
                    switch timer["kind"] as? String {
                    case "reminder": "期限前提醒"
                    case "escalation": "超期督办（第 \(step + 1) 级）"
                    case "evaluation-window": "提案人评价期满"
                    case "follow-up": "回头看"
                    default: (timer["kind"] as? String) ?? ""
                    }
                return timer
            },
            "actions": Labels.stamped(actions.json["actions"], "recordedAt").map { action -> [String: Any] in
                var action = action
                action["kindName"] = Self.actionKinds.first { $0.code == action["kind"] as? String }?.name ?? ""
                return action
            },
            "kinds": Labels.options(Self.actionKinds, selected: step == "actions" ? form?["kind"] : nil),
            "replied": state == "replied", "open": state != "closed" && state != "superseded",
            "today": units.today.description,
        ]
        values["tracked"] = true
        values["printBase"] = "/print/assignments/\(id)"
        values["printReply"] = !((record["replies"] as? [Any]) ?? []).isEmpty
        values["printSupervision"] = (record["escalationLevel"] as? String).map { $0 != EscalationLevel.reminder.rawValue } ?? false
        if let link = record["evaluationLink"] as? [String: Any] {
            values["linkStatus"] = try await linkStatus(link, visit: visit)
        }
        values.merge(extra) { _, new in new }
        if let step, let message { values["error"] = ["step": step, "message": message] }
        if let form, let step { values["typed"] = [step: form.fields] }
        return pages.render("supervision-assignment", values, visit: visit, status: status)
    }

    /// The proposer's evaluation link: issued, until when, used, and where it was delivered.
    func linkStatus(_ link: [String: Any], visit: Visit) async throws -> [String: Any] {
        var status: [String: Any] = [
            "issuedAt": Labels.time(link["issuedAt"]), "expiresOn": link["expiresOn"] ?? "",
            "usedAt": (link["usedAt"] as? String).map { Labels.time($0) } as Any,
        ]
        if let event = link["requestEventId"] as? String {
            let answer = try await services.get(.publicity, "/v1/publicity/notifications?eventId=\(event)", for: visit)
            status["deliveries"] = ((answer.json["notifications"] as? [[String: Any]]) ?? []).map { delivery -> [String: Any] in
                let channel = delivery["channel"] as? String
                let state =
                    switch delivery["state"] as? String {
                    case "delivered": "已送达"
                    case "dead": "未能送达（已停止重试）"
                    default: "发送中"
                    }
                return [
                    "channel": channel == "email" ? "电子邮件" : channel == "webhook" ? "政务服务平台" : (channel ?? ""),
                    "state": state,
                ]
            }
        }
        return status
    }

    /// Closing, the proposer's evaluation link, a 五督办 activity; a refusal keeps the form as typed.
    @Sendable func step(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.committee) { visit, form in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:))?.uuidString.lowercased(),
                let step = context.parameters.get("step"),
                let proposal = form["proposalId"].flatMap(UUID.init(uuidString:))?.uuidString.lowercased()
            else { return pages.problem("没有这个操作。", status: .notFound, visit: visit) }
            func value(_ name: String) -> Any { form[name].flatMap { $0.isEmpty ? nil : $0 } ?? NSNull() }
            let call: (String, [String: Any])
            switch step {
            case "closing": call = ("/v1/supervision/proposals/\(proposal)/closing", ["reason": value("reason")])
            case "evaluation-link": call = ("/v1/supervision/proposals/\(proposal)/evaluation-link", [:])
            case "actions":
                call = (
                    "/v1/supervision/proposals/\(proposal)/actions",
                    [
                        "kind": value("kind"), "heldOn": value("heldOn"), "participants": value("participants"), "summary": value("summary"),
                    ]
                )
            default: return pages.problem("没有这个操作。", status: .notFound, visit: visit)
            }
            let answer = try await services.send(.POST, .supervision, call.0, json: call.1, for: visit)
            if answer.ok {
                // It goes to the proposer through their channels; shown once too, for staff to pass
                // on where the proposer has none.
                if step == "evaluation-link", let token = answer.json["token"] as? String {
                    let link = desk.workbench.settings.publicURL + StaffNoticeRouting.evaluationPage(token)
                    return try await assignmentPage(
                        id, visit: visit, form: nil, step: nil, message: nil,
                        extra: ["evaluationLink": link], status: .ok)
                }
                return Pages.redirect("/supervision/assignments/\(id)")
            }
            if [400, 409, 422].contains(answer.status) {
                let field = answer.problem.field.map { FieldNames.chinese($0) + "：" } ?? ""
                return try await assignmentPage(
                    id, visit: visit, form: form, step: step, message: field + answer.problem.message, extra: [:],
                    status: HTTPResponse.Status(code: answer.status))
            }
            return desk.refusal(answer, visit: visit)
        }
    }
}
