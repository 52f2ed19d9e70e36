import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// The clue desk (线索审核) and cultivation (培育): every page reads and writes through triage's
/// API as the signed-in person; what they may not do the API refuses, and the page says so.
struct DeskController: Sendable {
    let workbench: Workbench
    var pages: Pages { workbench.pages }
    var services: ServiceCalls { workbench.services }

    static let triageStaff: Set<StaffClaims.Role> = [.clueHandler, .proposalsCommittee, .administrator]
    static let drafters: Set<StaffClaims.Role> = [.member, .memberStudio, .specialCommittee]
    static let reviewers: Set<StaffClaims.Role> = [.proposalsCommittee, .administrator]
    static let pageSize = 50

    func register(on router: Router<AppRequestContext>) {
        router.get("/", use: home)
        router.get("/clues", use: clues)
        router.get("/clues/:id", use: clue)
        router.post("/clues/:id/decision", use: decideClue)
        router.get("/clues/:id/attachments/:position", use: attachment)
        router.get("/groups", use: groups)
        router.get("/groups/:id", use: group)
        router.post("/groups/:id/decision", use: decideGroup)
        router.post("/groups/:id/merge", use: merge)
        router.post("/groups/:id/split", use: split)
        router.get("/compilation", use: compilation)
        router.get("/topics", use: topics)
        router.post("/topics/:id/claim", use: claim)
        router.post("/topics/:id/release", use: release)
        router.get("/proposals", use: proposals)
        router.get("/proposals/new", use: newProposal)
        router.post("/proposals", use: createProposal)
        router.get("/proposals/:id", use: proposal)
        router.post("/proposals/:id", use: saveProposal)
        router.post("/proposals/:id/submit", use: submitProposal)
        router.get("/reviews", use: reviews)
        router.post("/proposals/:id/review", use: review)
    }

    // MARK: Helpers

    /// Runs `body` for a signed-in person of one of `roles` (all roles when nil).
    func signedIn(
        _ request: Request, _ context: AppRequestContext, roles: Set<StaffClaims.Role>? = nil,
        _ body: (Visit) async throws -> Response
    ) async throws -> Response {
        switch try await workbench.visit(request, context: context) {
        case .failure(let response):
            return response
        case .success(let visit):
            if let roles, !roles.contains(visit.account.role) {
                return pages.problem("您的角色（\(RoleLabels.label(visit.account.role))）不能打开这个页面。", status: .forbidden, visit: visit)
            }
            return try await body(visit)
        }
    }

    /// Runs `body` for a form with a valid CSRF token from a person of one of `roles`.
    func posted(
        _ request: Request, _ context: AppRequestContext, roles: Set<StaffClaims.Role>? = nil,
        _ body: (Visit, FormRequest) async throws -> Response
    ) async throws -> Response {
        switch try await workbench.form(request, context: context) {
        case .failure(let response):
            return response
        case .success(let (visit, form)):
            if let roles, !roles.contains(visit.account.role) {
                return pages.problem("您的角色（\(RoleLabels.label(visit.account.role))）不能做这件事。", status: .forbidden, visit: visit)
            }
            return try await body(visit, form)
        }
    }

    /// A service's refusal as the person reads it: 404 and 403 as pages of their own.
    func refusal(_ answer: APIAnswer, visit: Visit) -> Response {
        switch answer.status {
        case 404: pages.problem("没有找到：它不存在，或不属于您所在的区。", status: .notFound, visit: visit)
        case 403: pages.problem("您没有权限做这件事：\(answer.problem.message)", status: .forbidden, visit: visit)
        case 401: Pages.redirect("/sign-in")
        default: pages.problem(answer.problem.message, status: HTTPResponse.Status(code: answer.status >= 400 ? answer.status : 502), visit: visit)
        }
    }

    static func id(_ context: AppRequestContext) -> String? {
        context.parameters.get("id").flatMap(UUID.init(uuidString:))?.uuidString
    }

    static func query(_ pairs: [(String, String?)]) -> String {
        let parts = pairs.compactMap { name, value -> String? in
            guard let value, !value.isEmpty else { return nil }
            return name + "=" + (value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }

    // MARK: Home

    @Sendable func home(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await signedIn(request, context) { visit in
            var waiting: [[String: Any]] = []
            var unavailable = false
            // A service that does not answer leaves its count out; the page still opens.
            func count(_ target: ServiceCalls.Target, _ path: String, key: String) async -> Int? {
                guard let answer = try? await services.get(target, path, for: visit, timeout: .seconds(2)), answer.ok else {
                    unavailable = true
                    return nil
                }
                return (answer.json[key] as? [Any])?.count ?? 0
            }
            let role = visit.account.role
            if Self.triageStaff.contains(role) {
                if let n = await count(.triage, "/v1/triage/clues?status=awaiting-review&limit=500", key: "clues") {
                    waiting.append(["name": "待审核的线索", "count": n, "href": "/clues?status=awaiting-review", "more": n >= 500])
                }
                if let n = await count(.triage, "/v1/triage/groups?status=awaiting-review&limit=500", key: "groups") {
                    waiting.append(["name": "有待审核线索的议题组", "count": n, "href": "/groups", "more": n >= 500])
                }
            }
            if Self.reviewers.contains(role), let n = await count(.triage, "/v1/proposals?status=submitted&limit=500", key: "proposals") {
                waiting.append(["name": "待立案审查的提案", "count": n, "href": "/reviews", "more": n >= 500])
            }
            if Self.drafters.contains(role) {
                if let n = await count(.triage, "/v1/reference-topics?status=open", key: "referenceTopics") {
                    waiting.append(["name": "可认领的参考选题", "count": n, "href": "/topics", "more": false])
                }
                if let n = await count(.triage, "/v1/proposals?status=drafting&limit=500", key: "proposals") {
                    waiting.append(["name": "培育中的提案草稿", "count": n, "href": "/proposals", "more": false])
                }
            }
            if role == .handlingUnit, let n = await count(.supervision, "/v1/supervision/my/assignments", key: "assignments") {
                waiting.append(["name": "本单位的交办件", "count": n, "href": "/unit/assignments", "more": false])
            }
            if role == .proposalsCommittee, let n = await count(.supervision, "/v1/supervision/extensions?state=pending", key: "extensionRequests") {
                waiting.append(["name": "待决定的延期申请", "count": n, "href": "/supervision/extensions", "more": false])
            }
            if let unread = visit.unread, unread > 0 {
                waiting.insert(["name": "未读通知", "count": unread, "href": "/inbox", "more": false], at: 0)
            }
            return pages.render(
                "home",
                [
                    "title": "首页", "waiting": waiting, "nothing": waiting.isEmpty && !unavailable, "unavailable": unavailable,
                    "changed": request.uri.queryParameters["changed"] == "password",
                ], visit: visit)
        }
    }

    // MARK: Clue desk

    @Sendable func clues(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await signedIn(request, context, roles: Self.triageStaff) { visit in
            let query = request.queryValues
            func value(_ name: String) -> String? { query[name].flatMap { $0.isEmpty ? nil : $0 } }
            let page = max(1, value("page").flatMap(Int.init) ?? 1)
            let filters: [(String, String?)] = [
                ("status", value("status")), ("urgency", value("urgency")), ("channel", value("channel")), ("domain", value("domain")),
                ("street", value("street")), ("receivedFrom", value("from")), ("receivedBefore", value("before")),
            ]
            let answer = try await services.get(
                .triage,
                "/v1/triage/clues" + Self.query(filters + [("limit", String(Self.pageSize + 1)), ("offset", String((page - 1) * Self.pageSize))]),
                for: visit)
            guard answer.ok || answer.status == 422 || answer.status == 400 else { return refusal(answer, visit: visit) }
            let found = (answer.json["clues"] as? [[String: Any]]) ?? []
            let rows = found.prefix(Self.pageSize).map(Self.clueRow)
            let keep = Self.query(filters.map { ($0.0 == "receivedFrom" ? "from" : $0.0 == "receivedBefore" ? "before" : $0.0, $0.1) })
            let separator = keep.isEmpty ? "?" : "&"
            return pages.render(
                "clues",
                [
                    "title": "线索审核", "clues": Array(rows), "empty": rows.isEmpty,
                    "error": (answer.ok ? nil : answer.problem.message) as Any,
                    "statuses": Labels.options(Labels.clueStatus, selected: value("status")),
                    "urgencies": Labels.options(Labels.urgency, selected: value("urgency")),
                    "channels": Labels.options(Labels.channel, selected: value("channel")),
                    "domain": value("domain") ?? "", "street": value("street") ?? "", "from": value("from") ?? "", "before": value("before") ?? "",
                    "year": LocalDate.on(workbench.clock.now, in: .chinaTime).year, "page": page,
                    "previous": (page > 1 ? "/clues" + keep + separator + "page=\(page - 1)" : nil) as Any,
                    "next": (found.count > Self.pageSize ? "/clues" + keep + separator + "page=\(page + 1)" : nil) as Any,
                ], visit: visit)
        }
    }

    static func clueRow(_ clue: [String: Any]) -> [String: Any] {
        var row = clue
        row["statusName"] = Labels.name(clue["status"] as? String, in: Labels.clueStatus)
        row["urgencyName"] = Labels.name(clue["urgency"] as? String, in: Labels.urgency)
        row["channelName"] = Labels.name(clue["channel"] as? String, in: Labels.channel)
        row["received"] = Labels.time(clue["receivedAt"])
        row["urgent"] = (clue["urgency"] as? String) != "normal"
        return row
    }

    @Sendable func clue(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await signedIn(request, context, roles: Self.triageStaff) { visit in
            guard let id = Self.id(context) else { return pages.problem("没有找到这条线索。", status: .notFound, visit: visit) }
            return try await cluePage(id, visit: visit, form: nil, message: nil, field: nil, status: .ok)
        }
    }

    func cluePage(_ id: String, visit: Visit, form: FormRequest?, message: String?, field: String?, status: HTTPResponse.Status) async throws
        -> Response
    {
        let answer = try await services.get(.triage, "/v1/triage/clues/\(id)", for: visit)
        guard answer.ok else { return refusal(answer, visit: visit) }
        var values = answer.json
        let hits = (values["hits"] as? [[String: Any]]) ?? []
        let phrases = hits.flatMap { ($0["phrases"] as? [String]) ?? [] }
        let clue = Self.clueRow((values["clue"] as? [String: Any]) ?? [:])
        var formFields = (values["form"] as? [String: Any]) ?? [:]
        for name in ["title", "situationAnalysis", "specificSuggestions"] {
            formFields[name + "Marked"] = Highlight.segments(formFields[name] as? String ?? "", phrases: phrases)
        }
        formFields["hasAttachments"] = !((formFields["attachments"] as? [Any]) ?? []).isEmpty
        formFields["attachments"] = ((formFields["attachments"] as? [[String: Any]]) ?? []).enumerated().map { index, file in
            var file = file
            file["href"] = "/clues/\(id)/attachments/\(index)"
            return file
        }
        values["clue"] = clue
        values["form"] = formFields
        values["hits"] = hits.map { hit -> [String: Any] in
            var hit = hit
            hit["phrasesText"] = ((hit["phrases"] as? [String]) ?? []).joined(separator: "、")
            return hit
        }
        values["groupMembers"] = ((values["groupMembers"] as? [[String: Any]]) ?? []).map(Self.clueRow)
        values["decisions"] = ((values["decisions"] as? [[String: Any]]) ?? []).map { decision -> [String: Any] in
            var decision = decision
            decision["at"] = Labels.time(decision["decidedAt"])
            return decision
        }
        values["awaiting"] = clue["status"] as? String == "awaiting-review"
        values["title"] = clue["title"] ?? "线索"
        values.merge(routeForm(action: "/clues/\(id)/decision", form: form, message: message, field: field)) { _, new in new }
        return pages.render("clue", values, visit: visit, status: status)
    }

    /// The six routes as one form, kept as typed after a refusal.
    func routeForm(action: String, form: FormRequest?, message: String?, field: String?) -> [String: Any] {
        [
            "routeAction": action, "routes": Labels.options(Labels.routes, selected: form?["route"]),
            "purposes": Labels.options(Labels.purposes, selected: form?["purpose"]),
            "recipient": form?["recipient"] ?? "", "committee": form?["committee"] ?? "", "reason": form?["reason"] ?? "",
            "topicTitle": form?["topicTitle"] ?? "", "note": form?["note"] ?? "", "message": message as Any,
            "field": field.map { FieldNames.chinese($0) } as Any,
        ]
    }

    static func decision(from form: FormRequest) -> [String: Any] {
        var body: [String: Any] = [:]
        for name in ["route", "recipient", "committee", "purpose", "reason", "topicTitle", "note"] {
            if let value = form[name], !value.isEmpty { body[name] = value }
        }
        return body
    }

    @Sendable func decideClue(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await posted(request, context, roles: Self.triageStaff) { visit, form in
            guard let id = Self.id(context) else { return pages.problem("没有找到这条线索。", status: .notFound, visit: visit) }
            let answer = try await services.send(.POST, .triage, "/v1/triage/clues/\(id)/decision", json: Self.decision(from: form), for: visit)
            if answer.ok { return Pages.redirect("/clues/\(id)") }
            if [400, 409, 422].contains(answer.status) {
                return try await cluePage(
                    id, visit: visit, form: form, message: answer.problem.message, field: answer.problem.field,
                    status: HTTPResponse.Status(code: answer.status))
            }
            return refusal(answer, visit: visit)
        }
    }

    @Sendable func attachment(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await signedIn(request, context, roles: Self.triageStaff) { visit in
            guard let id = Self.id(context), let position = context.parameters.get("position").flatMap(Int.init) else {
                return pages.problem("没有找到这个附件。", status: .notFound, visit: visit)
            }
            return download(try await services.get(.intake, "/v1/clues/\(id)/attachments/\(position)", for: visit), visit: visit)
        }
    }

    /// A reply's file, through the role's route to it in supervision's API (`api`: the route's
    /// prefix, `/v1/supervision` or `/v1/supervision/my`).
    func replyAttachment(_ request: Request, _ context: AppRequestContext, roles: Set<StaffClaims.Role>, api: String) async throws -> Response {
        try await signedIn(request, context, roles: roles) { visit in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)),
                let position = context.parameters.get("position").flatMap(Int.init)
            else { return pages.problem("没有找到这个附件。", status: .notFound, visit: visit) }
            return download(
                try await services.get(.supervision, "\(api)/replies/\(id.uuidString.lowercased())/attachments/\(position)", for: visit),
                visit: visit)
        }
    }

    /// A file a service answered with, passed on as a download (never shown in the page's origin).
    func download(_ answer: APIAnswer, visit: Visit) -> Response {
        guard answer.ok else { return refusal(answer, visit: visit) }
        return Response(
            status: .ok,
            headers: [
                .contentType: answer.contentType ?? "application/octet-stream", .contentDisposition: answer.disposition ?? "attachment",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff", .cacheControl: "no-store",
            ], body: .init(byteBuffer: .init(bytes: answer.body)))
    }

    @Sendable func groups(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await signedIn(request, context, roles: Self.triageStaff) { visit in
            let page = max(1, request.queryValues["page"].flatMap(Int.init) ?? 1)
            let answer = try await services.get(
                .triage, "/v1/triage/groups?status=awaiting-review&limit=\(Self.pageSize + 1)&offset=\((page - 1) * Self.pageSize)", for: visit)
            guard answer.ok else { return refusal(answer, visit: visit) }
            let found = (answer.json["groups"] as? [[String: Any]]) ?? []
            let groups = found.prefix(Self.pageSize).map { group -> [String: Any] in
                var group = group
                group["last"] = Labels.time(group["lastReceivedAt"])
                group["urgencyName"] = Labels.name(group["highestUrgency"] as? String, in: Labels.urgency)
                return group
            }
            return pages.render(
                "groups",
                [
                    "title": "议题组", "groups": groups, "empty": groups.isEmpty,
                    "previous": (page > 1 ? "/groups?page=\(page - 1)" : nil) as Any,
                    "next": (found.count > Self.pageSize ? "/groups?page=\(page + 1)" : nil) as Any,
                ], visit: visit)
        }
    }

    @Sendable func group(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await signedIn(request, context, roles: Self.triageStaff) { visit in
            guard let id = Self.id(context) else { return pages.problem("没有找到这个议题组。", status: .notFound, visit: visit) }
            return try await groupPage(id, visit: visit, form: nil, message: nil, field: nil, status: .ok)
        }
    }

    func groupPage(_ id: String, visit: Visit, form: FormRequest?, message: String?, field: String?, status: HTTPResponse.Status) async throws
        -> Response
    {
        let answer = try await services.get(.triage, "/v1/triage/groups/\(id)", for: visit)
        guard answer.ok else { return refusal(answer, visit: visit) }
        var values = (answer.json["group"] as? [String: Any]) ?? [:]
        values["members"] = ((answer.json["clues"] as? [[String: Any]]) ?? []).map(Self.clueRow)
        values["urgencyName"] = Labels.name(values["highestUrgency"] as? String, in: Labels.urgency)
        values["groupTitle"] = values["title"]
        values["title"] = "议题组：" + ((values["title"] as? String) ?? "")
        values.merge(routeForm(action: "/groups/\(id)/decision", form: form, message: message, field: field)) { _, new in new }
        return pages.render("group", values, visit: visit, status: status)
    }

    @Sendable func decideGroup(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await posted(request, context, roles: Self.triageStaff) { visit, form in
            guard let id = Self.id(context) else { return pages.problem("没有找到这个议题组。", status: .notFound, visit: visit) }
            let answer = try await services.send(.POST, .triage, "/v1/triage/groups/\(id)/decision", json: Self.decision(from: form), for: visit)
            if answer.ok { return Pages.redirect("/groups/\(id)") }
            if [400, 409, 422].contains(answer.status) {
                return try await groupPage(
                    id, visit: visit, form: form, message: answer.problem.message, field: answer.problem.field,
                    status: HTTPResponse.Status(code: answer.status))
            }
            return refusal(answer, visit: visit)
        }
    }

    /// Merges other groups into this one: their ids, one per line or comma (from their pages).
    @Sendable func merge(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await posted(request, context, roles: Self.triageStaff) { visit, form in
            guard let id = Self.id(context) else { return pages.problem("没有找到这个议题组。", status: .notFound, visit: visit) }
            let others = (form["groupIds"] ?? "").split(whereSeparator: { ",，\n\r ".contains($0) }).map(String.init)
            let answer = try await services.send(
                .POST, .triage, "/v1/triage/groups/\(id)/merge",
                json: ["groupIds": others, "note": form["note"] ?? ""], for: visit)
            if answer.ok { return Pages.redirect("/groups/\(id)") }
            if [400, 409, 422].contains(answer.status) {
                return try await groupPage(
                    id, visit: visit, form: nil, message: "未能合并：" + answer.problem.message, field: answer.problem.field,
                    status: HTTPResponse.Status(code: answer.status))
            }
            return refusal(answer, visit: visit)
        }
    }

    /// Splits the ticked clues out into a group of their own.
    @Sendable func split(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await posted(request, context, roles: Self.triageStaff) { visit, form in
            guard let id = Self.id(context) else { return pages.problem("没有找到这个议题组。", status: .notFound, visit: visit) }
            let answer = try await services.send(
                .POST, .triage, "/v1/triage/groups/\(id)/split",
                json: ["clueIds": form.all("clueIds"), "note": form["note"] ?? ""], for: visit)
            if answer.ok, let group = answer.json["groupId"] as? String { return Pages.redirect("/groups/\(group)") }
            if answer.ok { return Pages.redirect("/groups/\(id)") }
            if [400, 409, 422].contains(answer.status) {
                return try await groupPage(
                    id, visit: visit, form: nil, message: "未能拆分：" + answer.problem.message, field: answer.problem.field,
                    status: HTTPResponse.Status(code: answer.status))
            }
            return refusal(answer, visit: visit)
        }
    }

    /// The annual clue compilation (汇编), as triage makes it.
    @Sendable func compilation(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await signedIn(request, context, roles: [.clueHandler, .proposalsCommittee, .administrator]) { visit in
            guard let year = request.uri.queryParameters["year"].flatMap({ Int(String($0)) }), (2000...2100).contains(year) else {
                return pages.problem("请选择年份。", status: .badRequest, visit: visit)
            }
            let format = request.uri.queryParameters["format"] == "html" ? "html" : "csv"
            let answer = try await services.get(.triage, "/v1/compilations/\(year)/clues.\(format)", for: visit)
            guard answer.ok else { return refusal(answer, visit: visit) }
            return Response(
                status: .ok,
                headers: [
                    .contentType: answer.contentType ?? "text/csv; charset=utf-8",
                    .contentDisposition: "attachment; filename=\"clues-\(year).\(format)\"", .cacheControl: "no-store",
                ], body: .init(byteBuffer: .init(bytes: answer.body)))
        }
    }

    // MARK: Cultivation

    @Sendable func topics(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await signedIn(request, context) { visit in
            let answer = try await services.get(.triage, "/v1/reference-topics", for: visit)
            guard answer.ok else { return refusal(answer, visit: visit) }
            let topics = ((answer.json["referenceTopics"] as? [[String: Any]]) ?? []).map { topic -> [String: Any] in
                var topic = topic
                let claimants = (topic["claimants"] as? [[String: Any]]) ?? []
                topic["mine"] = claimants.contains { ($0["mine"] as? Bool) == true }
                topic["claimantNames"] = claimants.compactMap { $0["name"] as? String }.joined(separator: "、")
                topic["open"] = topic["status"] as? String == "open"
                topic["published"] = Labels.time(topic["publishedAt"])
                return topic
            }
            return pages.render(
                "topics",
                [
                    "title": "参考选题", "topics": topics, "empty": topics.isEmpty, "canClaim": Self.drafters.contains(visit.account.role),
                    "name": visit.account.displayName,
                ], visit: visit)
        }
    }

    @Sendable func claim(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await posted(request, context, roles: Self.drafters) { visit, form in
            guard let id = Self.id(context) else { return pages.problem("没有找到这个选题。", status: .notFound, visit: visit) }
            let answer = try await services.send(
                .POST, .triage, "/v1/reference-topics/\(id)/claims",
                json: ["name": form["name"] ?? visit.account.displayName], for: visit)
            guard answer.ok else {
                return answer.status == 409 || answer.status == 422
                    ? pages.problem("未能认领：\(answer.problem.message)", status: HTTPResponse.Status(code: answer.status), visit: visit)
                    : refusal(answer, visit: visit)
            }
            return Pages.redirect("/proposals/new?topic=\(id)")
        }
    }

    @Sendable func release(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await posted(request, context, roles: Self.drafters) { visit, _ in
            guard let id = Self.id(context) else { return pages.problem("没有找到这个选题。", status: .notFound, visit: visit) }
            let answer = try await services.send(.DELETE, .triage, "/v1/reference-topics/\(id)/claims/mine", json: nil, for: visit)
            guard answer.ok else { return refusal(answer, visit: visit) }
            return Pages.redirect("/topics")
        }
    }

    @Sendable func proposals(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await signedIn(request, context) { visit in
            let answer = try await services.get(.triage, "/v1/proposals?limit=200", for: visit)
            guard answer.ok else { return refusal(answer, visit: visit) }
            let proposals = ((answer.json["proposals"] as? [[String: Any]]) ?? []).map(Self.proposalRow)
            return pages.render(
                "proposals",
                [
                    "title": "提案", "proposals": proposals, "empty": proposals.isEmpty,
                    "canDraft": Self.drafters.contains(visit.account.role),
                ], visit: visit)
        }
    }

    static func proposalRow(_ proposal: [String: Any]) -> [String: Any] {
        var row = proposal
        row["statusName"] = Labels.name(proposal["status"] as? String, in: Labels.proposalStatus)
        row["drafting"] = proposal["status"] as? String == "drafting"
        row["submitted"] = proposal["status"] as? String == "submitted"
        row["due"] = Labels.time(proposal["reviewDueAt"])
        if let due = (proposal["reviewDueAt"] as? String).flatMap(Labels.parse) { row["overdue"] = due < Date() }
        row["proposerNames"] = ((proposal["proposers"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }.joined(separator: "、")
        return row
    }

    @Sendable func newProposal(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await signedIn(request, context, roles: Self.drafters) { visit in
            let topic = request.uri.queryParameters["topic"].map(String.init) ?? ""
            return editor(
                visit: visit, values: ["topicId": topic, "proposerName": visit.account.displayName], action: "/proposals",
                message: nil, field: nil, status: .ok)
        }
    }

    func editor(visit: Visit, values: [String: Any], action: String, message: String?, field: String?, status: HTTPResponse.Status) -> Response {
        var page = values
        page["proposalTitle"] = values["title"] ?? ""
        page["title"] = (values["id"] == nil) ? "起草提案" : "编辑提案"
        page["action"] = action
        page["message"] = message
        page["field"] = field.map { FieldNames.chinese($0) }
        return pages.render("proposal-form", page, visit: visit, status: status)
    }

    static func draft(from form: FormRequest, includeTopic: Bool) -> [String: Any] {
        var body: [String: Any] = [:]
        for name in ["title", "caseSummary", "reasons", "suggestions"] { body[name] = form[name] ?? "" }
        let proposer = (form["proposerName"] ?? "").trimmingCharacters(in: .whitespaces)
        body["proposers"] = [["name": proposer, "kind": "member"]]
        body["fastTrack"] = form["fastTrack"] == "on"
        if includeTopic, let topic = form["topicId"], !topic.isEmpty { body["topicId"] = topic }
        return body
    }

    static func formValues(_ form: FormRequest) -> [String: Any] {
        var values: [String: Any] = [:]
        for name in ["title", "caseSummary", "reasons", "suggestions", "proposerName", "topicId"] { values[name] = form[name] ?? "" }
        values["fastTrack"] = form["fastTrack"] == "on"
        return values
    }

    @Sendable func createProposal(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await posted(request, context, roles: Self.drafters) { visit, form in
            let answer = try await services.send(.POST, .triage, "/v1/proposals", json: Self.draft(from: form, includeTopic: true), for: visit)
            if answer.ok, let id = answer.json["id"] as? String { return Pages.redirect("/proposals/\(id)") }
            if [400, 409, 422].contains(answer.status) {
                return editor(
                    visit: visit, values: Self.formValues(form), action: "/proposals", message: answer.problem.message,
                    field: answer.problem.field, status: HTTPResponse.Status(code: answer.status))
            }
            return refusal(answer, visit: visit)
        }
    }

    @Sendable func proposal(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await signedIn(request, context) { visit in
            guard let id = Self.id(context) else { return pages.problem("没有找到这份提案。", status: .notFound, visit: visit) }
            return try await proposalPage(id, visit: visit, message: nil, field: nil, status: .ok)
        }
    }

    func proposalPage(_ id: String, visit: Visit, message: String?, field: String?, status: HTTPResponse.Status) async throws -> Response {
        let answer = try await services.get(.triage, "/v1/proposals/\(id)", for: visit)
        guard answer.ok else { return refusal(answer, visit: visit) }
        var values = Self.proposalRow(answer.json)
        let mine = (answer.json["draftedBy"] as? String) == visit.account.login
        if values["drafting"] as? Bool == true && mine {
            values["id"] = id
            values["proposerName"] = ((answer.json["proposers"] as? [[String: Any]])?.first?["name"] as? String) ?? visit.account.displayName
            return editor(visit: visit, values: values, action: "/proposals/\(id)", message: message, field: field, status: status)
        }
        values["title"] = answer.json["title"] ?? "提案"
        values["canReview"] = Self.reviewers.contains(visit.account.role) && values["submitted"] as? Bool == true
        values["alternativeRoutes"] = Labels.options(Labels.alternativeRoutes, selected: nil)
        values["message"] = message
        return pages.render("proposal", values, visit: visit, status: status)
    }

    @Sendable func saveProposal(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await posted(request, context, roles: Self.drafters) { visit, form in
            guard let id = Self.id(context) else { return pages.problem("没有找到这份提案。", status: .notFound, visit: visit) }
            let answer = try await services.send(.PUT, .triage, "/v1/proposals/\(id)", json: Self.draft(from: form, includeTopic: false), for: visit)
            if answer.ok { return Pages.redirect("/proposals/\(id)?saved=1") }
            if [400, 409, 422].contains(answer.status) {
                var values = Self.formValues(form)
                values["id"] = id
                return editor(
                    visit: visit, values: values, action: "/proposals/\(id)", message: answer.problem.message,
                    field: answer.problem.field, status: HTTPResponse.Status(code: answer.status))
            }
            return refusal(answer, visit: visit)
        }
    }

    @Sendable func submitProposal(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await posted(request, context, roles: Self.drafters) { visit, _ in
            guard let id = Self.id(context) else { return pages.problem("没有找到这份提案。", status: .notFound, visit: visit) }
            let answer = try await services.send(.POST, .triage, "/v1/proposals/\(id)/submit", json: nil, for: visit)
            if answer.ok { return Pages.redirect("/proposals/\(id)") }
            if [400, 409, 422].contains(answer.status) {
                return try await proposalPage(
                    id, visit: visit, message: "未能提交：" + answer.problem.message, field: answer.problem.field,
                    status: HTTPResponse.Status(code: answer.status))
            }
            return refusal(answer, visit: visit)
        }
    }

    /// The committee's filing review, fast-track and overdue reviews first.
    @Sendable func reviews(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await signedIn(request, context, roles: Self.reviewers) { visit in
            let answer = try await services.get(.triage, "/v1/proposals?status=submitted&limit=500", for: visit)
            guard answer.ok else { return refusal(answer, visit: visit) }
            let rows = ((answer.json["proposals"] as? [[String: Any]]) ?? []).map(Self.proposalRow).sorted { lhs, rhs in
                let (l, r) = (lhs["fastTrack"] as? Bool ?? false, rhs["fastTrack"] as? Bool ?? false)
                if l != r { return l }
                return (lhs["reviewDueAt"] as? String ?? "~") < (rhs["reviewDueAt"] as? String ?? "~")
            }
            return pages.render("reviews", ["title": "立案审查", "proposals": rows, "empty": rows.isEmpty], visit: visit)
        }
    }

    @Sendable func review(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await posted(request, context, roles: Self.reviewers) { visit, form in
            guard let id = Self.id(context) else { return pages.problem("没有找到这份提案。", status: .notFound, visit: visit) }
            var body: [String: Any] = ["decision": form["decision"] ?? ""]
            for name in ["reason", "alternativeRoute"] { if let value = form[name], !value.isEmpty { body[name] = value } }
            let answer = try await services.send(.POST, .triage, "/v1/proposals/\(id)/review", json: body, for: visit)
            if answer.ok { return Pages.redirect("/reviews") }
            if [400, 409, 422].contains(answer.status) {
                return try await proposalPage(
                    id, visit: visit, message: "未能完成审查：" + answer.problem.message, field: answer.problem.field,
                    status: HTTPResponse.Status(code: answer.status))
            }
            return refusal(answer, visit: visit)
        }
    }
}

/// The form fields the APIs name, as the pages label them.
enum FieldNames {
    static let names: [String: String] = [
        "title": "标题", "caseSummary": "案由", "reasons": "理由", "suggestions": "建议", "proposers": "提案人", "route": "去向",
        "recipient": "接收单位", "committee": "专委会", "purpose": "用途", "reason": "理由", "note": "备注", "topicTitle": "选题标题",
        "decision": "审查结论", "alternativeRoute": "其他处理方式", "login": "登录名", "displayName": "姓名", "unitId": "所属单位",
        "phone": "电话", "email": "电子邮箱", "role": "角色", "stage": "阶段", "heldOn": "日期", "form": "方式", "attendees": "参加人员",
        "summary": "情况摘要", "text": "正文", "category": "答复类别", "promisedDate": "承诺解决日期", "deadline": "期限",
        "lead": "主办单位", "coUnits": "协办单位", "notes": "说明", "supervisingLeader": "领衔督办领导", "participants": "参加人员",
        "kind": "方式", "attachments": "附件", "name": "名称", "body": "正文", "template": "模板",
        "registerCode": "登记册编号", "receiver": "接收人", "receiverName": "接收人", "code": "编号", "sector": "界别",
        "specialCommittee": "专委会", "studio": "所属工作室", "street": "街道", "file": "文件", "situationAnalysis": "情况分析",
        "specificSuggestions": "具体建议", "sourceCategory": "来源类别", "contact": "联系人",
    ]

    static func chinese(_ field: String) -> String {
        let base = field.split(separator: ".").first.map(String.init) ?? field
        return names[base].map { "\($0)（\(field)）" } ?? field
    }
}
