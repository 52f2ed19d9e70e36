import Foundation
import HTTPTypes
import Hummingbird
import Models
import NIOHTTP1
import ServiceKit

/// The administrator's district settings, each kept by the service it belongs to and saved
/// through its API (which checks it and records the change with before and after): the
/// classification rules (edit, validate with every problem shown, try on a sample, versions and
/// their differences), assignment and supervision settings, the holiday calendar of a year,
/// notification endpoints, and the handling-unit directory.
struct SettingsController: Sendable {
    let workbench: Workbench
    var pages: Pages { workbench.pages }
    var desk: DeskController { DeskController(workbench: workbench) }
    static let administrators: Set<StaffClaims.Role> = [.administrator]

    /// A settings document edited as JSON: where the service keeps it.
    struct Document: Sendable {
        var name: String
        var title: String
        var target: ServiceCalls.Target
        var path: String
        var help: String
    }

    static let documents: [String: Document] = [
        "triage": Document(
            name: "triage", title: "线索与立案设置", target: .triage, path: "/v1/triage/settings",
            help:
                "similarityThreshold 线索归为一组的相似度（0.2–0.95）；coClaiming 参考选题可否多人认领；currentSession 当前届次（案号用）；fastTrackReviewDays 与 reviewDays 快速通道与一般提案的立案审查天数。"
        ),
        "assignment": Document(
            name: "assignment", title: "交办设置", target: .assignment, path: "/v1/assignment/settings",
            help: "办理期限、异议期、预交办确认期、建议承办单位的规则等；缺少的键取默认值。"),
        "supervision": Document(
            name: "supervision", title: "督办设置", target: .supervision, path: "/v1/supervision/settings",
            help: "提醒天数、逾期升级阶梯、评价期限、考核权重（unkeptPromisePenalty 为回头看未落实扣分）、工作室与委员的线索任务数。"),
    ]

    func register(on router: Router<AppRequestContext>) {
        router.get("/admin/settings", use: index)
        router.get("/admin/settings/:name", use: document)
        router.post("/admin/settings/:name", use: saveDocument)
        router.get("/admin/calendar", use: calendar)
        router.post("/admin/calendar", use: saveCalendar)
        router.get("/admin/rules", use: rules)
        router.post("/admin/rules", use: saveRules)
        router.post("/admin/rules/try", use: tryRules)
        router.get("/admin/rules/versions", use: versions)
        router.get("/admin/endpoints", use: endpoints)
        router.post("/admin/endpoints", use: saveEndpoint)
        router.post("/admin/callbacks", use: saveCallback)
        router.get("/admin/units", use: units)
        router.post("/admin/units", use: saveUnit)
    }

    static func pretty(_ data: Data) -> String {
        guard let value = try? JSONSerialization.jsonObject(with: data),
            let text = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return String(decoding: data, as: UTF8.self) }
        return String(decoding: text, as: UTF8.self)
    }

    static func pretty(_ value: Any) -> String {
        (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// The text as JSON; nil when it is not JSON.
    static func parse(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    func editor(_ values: [String: Any], visit: Visit, status: HTTPResponse.Status = .ok) -> Response {
        pages.render("json-editor", values, visit: visit, status: status)
    }

    @Sendable func index(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.administrators) { visit in
            pages.render("settings", ["title": "区设置"], visit: visit)
        }
    }

    @Sendable func document(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.administrators) { visit in
            guard let document = context.parameters.get("name").flatMap({ Self.documents[$0] }) else {
                return pages.problem("没有这项设置。", status: .notFound, visit: visit)
            }
            let answer = try await workbench.services.get(document.target, document.path, for: visit)
            guard answer.ok else { return desk.refusal(answer, visit: visit) }
            return editor(
                [
                    "title": document.title, "help": document.help, "action": "/admin/settings/\(document.name)",
                    "text": Self.pretty(answer.body),
                ], visit: visit)
        }
    }

    @Sendable func saveDocument(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.administrators) { visit, form in
            guard let document = context.parameters.get("name").flatMap({ Self.documents[$0] }) else {
                return pages.problem("没有这项设置。", status: .notFound, visit: visit)
            }
            let text = form["text"] ?? ""
            var values: [String: Any] = ["title": document.title, "help": document.help, "action": "/admin/settings/\(document.name)", "text": text]
            guard let object = Self.parse(text) as? [String: Any] else {
                values["message"] = "设置应为一个 JSON 对象。"
                return editor(values, visit: visit, status: .unprocessableContent)
            }
            let answer = try await workbench.services.send(.PUT, document.target, document.path, json: object, for: visit)
            guard answer.ok else {
                guard [400, 409, 422].contains(answer.status) else { return desk.refusal(answer, visit: visit) }
                values["message"] = answer.problem.message
                values["field"] = answer.problem.field
                return editor(values, visit: visit, status: HTTPResponse.Status(code: answer.status))
            }
            values["text"] = Self.pretty(answer.body)
            values["saved"] = true
            return editor(values, visit: visit)
        }
    }

    // MARK: Calendar

    func year(_ request: Request) -> Int? {
        let text = request.queryValues["year"] ?? String(LocalDate.on(workbench.clock.now, in: .chinaTime).year)
        return Int(text).flatMap { (2000...2100).contains($0) ? $0 : nil }
    }

    @Sendable func calendar(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.administrators) { visit in
            guard let year = year(request) else { return pages.problem("年份应为 2000 到 2100。", status: .badRequest, visit: visit) }
            let answer = try await workbench.services.get(.assignment, "/v1/assignment/calendar/\(year)", for: visit)
            guard answer.ok else { return desk.refusal(answer, visit: visit) }
            return editor(
                [
                    "title": "\(year) 年节假日与调休", "action": "/admin/calendar?year=\(year)",
                    "help": "days：每天一项，date（\(year)-10-01）、kind（holiday 放假 或 working-day 调休上班）、name。计算办理期限的工作日以此为准。",
                    "text": Self.pretty(answer.json["days"] ?? []),
                ], visit: visit)
        }
    }

    @Sendable func saveCalendar(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.administrators) { visit, form in
            guard let year = year(request) else { return pages.problem("年份应为 2000 到 2100。", status: .badRequest, visit: visit) }
            let text = form["text"] ?? ""
            var values: [String: Any] = ["title": "\(year) 年节假日与调休", "action": "/admin/calendar?year=\(year)", "text": text]
            guard let days = Self.parse(text) as? [Any] else {
                values["message"] = "应为一个 JSON 数组（每天一项）。"
                return editor(values, visit: visit, status: .unprocessableContent)
            }
            let answer = try await workbench.services.send(.PUT, .assignment, "/v1/assignment/calendar/\(year)", json: ["days": days], for: visit)
            guard answer.ok else {
                guard [400, 409, 422].contains(answer.status) else { return desk.refusal(answer, visit: visit) }
                values["message"] = answer.problem.message
                values["field"] = answer.problem.field
                return editor(values, visit: visit, status: HTTPResponse.Status(code: answer.status))
            }
            values["text"] = Self.pretty(answer.json["days"] ?? [])
            values["saved"] = true
            return editor(values, visit: visit)
        }
    }

    // MARK: Classification rules

    func rulesPage(
        _ visit: Visit, text: String?, note: String, basedOn: Int?, problems: [[String: Any]], message: String?, saved: Bool,
        sample: [String: String], preview: [[String: Any]]?, status: HTTPResponse.Status
    ) async throws -> Response {
        var definition = text
        var version = basedOn
        if definition == nil {
            let current = try await workbench.services.get(.triage, "/v1/triage/rules", for: visit)
            guard current.ok else { return desk.refusal(current, visit: visit) }
            definition = Self.pretty(current.json["definition"] ?? [:])
            version = current.json["version"] as? Int
        }
        return pages.render(
            "rules",
            [
                "title": "线索分类规则", "text": definition ?? "", "note": note, "basedOn": version ?? 0, "problems": problems,
                "message": message as Any, "saved": saved, "sampleTitle": sample["title"] ?? "", "sampleText": sample["text"] ?? "",
                "preview": preview as Any, "tried": preview != nil,
            ], visit: visit, status: status)
    }

    @Sendable func rules(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.administrators) { visit in
            try await rulesPage(
                visit, text: nil, note: "", basedOn: nil, problems: [], message: nil, saved: false, sample: [:], preview: nil, status: .ok)
        }
    }

    static func problems(_ answer: APIAnswer) -> [[String: Any]] {
        ((answer.json["problems"] as? [[String: Any]]) ?? []).map { problem in
            var problem = problem
            problem["where"] = [problem["rule"], problem["field"], problem["position"]].compactMap { $0.map { "\($0)" } }.joined(separator: " · ")
            return problem
        }
    }

    @Sendable func saveRules(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.administrators) { visit, form in
            let text = form["text"] ?? ""
            let note = form["note"] ?? ""
            let basedOn = form["basedOn"].flatMap(Int.init)
            guard let definition = Self.parse(text) else {
                return try await rulesPage(
                    visit, text: text, note: note, basedOn: basedOn, problems: [], message: "规则不是有效的 JSON。",
                    saved: false, sample: [:], preview: nil, status: .unprocessableContent)
            }
            var body: [String: Any] = ["definition": definition, "note": note]
            if let basedOn { body["basedOn"] = basedOn }
            let answer = try await workbench.services.send(.PUT, .triage, "/v1/triage/rules", json: body, for: visit)
            guard answer.ok else {
                guard [400, 409, 422].contains(answer.status) else { return desk.refusal(answer, visit: visit) }
                return try await rulesPage(
                    visit, text: text, note: note, basedOn: basedOn, problems: Self.problems(answer),
                    message: answer.problem.message, saved: false, sample: [:], preview: nil,
                    status: HTTPResponse.Status(code: answer.status))
            }
            return try await rulesPage(
                visit, text: nil, note: "", basedOn: nil, problems: [], message: nil, saved: true, sample: [:],
                preview: nil, status: .ok)
        }
    }

    /// Which rules fire on a sample text, with the rules as edited (before saving them).
    @Sendable func tryRules(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.administrators) { visit, form in
            let text = form["text"] ?? ""
            let sample = ["title": form["sampleTitle"] ?? "", "text": form["sampleText"] ?? ""]
            let basedOn = form["basedOn"].flatMap(Int.init)
            var body: [String: Any] = ["title": sample["title"] ?? "", "situationAnalysis": sample["text"] ?? ""]
            if let definition = Self.parse(text) { body["definition"] = definition }
            let answer = try await workbench.services.send(.POST, .triage, "/v1/triage/rules/classify", json: body, for: visit)
            guard answer.ok else {
                guard [400, 422].contains(answer.status) else { return desk.refusal(answer, visit: visit) }
                return try await rulesPage(
                    visit, text: text, note: form["note"] ?? "", basedOn: basedOn, problems: Self.problems(answer),
                    message: answer.problem.message, saved: false, sample: sample, preview: nil,
                    status: HTTPResponse.Status(code: answer.status))
            }
            let classification = (answer.json["classification"] as? [String: Any]) ?? [:]
            let hits = ((classification["hits"] as? [[String: Any]]) ?? []).map { hit -> [String: Any] in
                ["kind": hit["kind"] ?? "", "rule": hit["rule"] ?? "", "phrases": ((hit["phrases"] as? [String]) ?? []).joined(separator: "、")]
            }
            var preview: [[String: Any]] = [["kind": "结果", "rule": Self.pretty(classification.filter { $0.key != "hits" }), "phrases": ""]]
            preview += hits
            return try await rulesPage(
                visit, text: text, note: form["note"] ?? "", basedOn: basedOn, problems: [], message: nil,
                saved: false, sample: sample, preview: preview, status: .ok)
        }
    }

    /// The saved versions; `?compare=a,b` shows what changed from a to b, line by line.
    @Sendable func versions(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.administrators) { visit in
            let answer = try await workbench.services.get(.triage, "/v1/triage/rules/versions", for: visit)
            guard answer.ok else { return desk.refusal(answer, visit: visit) }
            let versions = ((answer.json["versions"] as? [[String: Any]]) ?? []).map { version -> [String: Any] in
                var version = version
                version["at"] = Labels.time(version["createdAt"])
                return version
            }
            var values: [String: Any] = ["title": "分类规则版本", "versions": versions]
            let pair = (request.queryValues["compare"] ?? "").split(separator: ",").compactMap { Int($0) }
            if pair.count == 2 {
                var texts: [String] = []
                for version in pair {
                    let one = try await workbench.services.get(.triage, "/v1/triage/rules/versions/\(version)", for: visit)
                    guard one.ok else { return desk.refusal(one, visit: visit) }
                    texts.append(Self.pretty(one.json["definition"] ?? [:]))
                }
                values["from"] = pair[0]
                values["to"] = pair[1]
                values["diff"] = LineDifference.lines(from: texts[0], to: texts[1])
                values["compared"] = true
            }
            return pages.render("rule-versions", values, visit: visit)
        }
    }

    // MARK: Notification endpoints

    static let channels = [("webhook", "网络回调（Webhook）"), ("sms", "短信网关"), ("wechat", "微信消息")]

    @Sendable func endpoints(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.administrators) { visit in
            pages.render("endpoints", ["title": "通知地址", "channels": Self.channels.map { ["code": $0.0, "name": $0.1] }], visit: visit)
        }
    }

    @Sendable func saveEndpoint(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.administrators) { visit, form in
            let channel = form["channel"] ?? ""
            let answer = try await workbench.services.send(
                .PUT, .publicity, "/v1/publicity/notification-endpoints/\(channel)",
                json: [
                    "url": form["url"] ?? "", "secret": form["secret"] ?? "", "active": form["active"] == "on",
                ], for: visit)
            var values: [String: Any] = [
                "title": "通知地址", "channels": Self.channels.map { ["code": $0.0, "name": $0.1, "selected": $0.0 == channel] },
                "url": form["url"] ?? "",
            ]
            if answer.ok {
                values["saved"] = channel
                return pages.render("endpoints", values, visit: visit)
            }
            guard [400, 422].contains(answer.status) else { return desk.refusal(answer, visit: visit) }
            values["message"] = answer.problem.message
            values["field"] = answer.problem.field.map { FieldNames.chinese($0) }
            return pages.render("endpoints", values, visit: visit, status: HTTPResponse.Status(code: answer.status))
        }
    }

    /// Where an integration of the district hears of its clues (empty: no longer told).
    @Sendable func saveCallback(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.administrators) { visit, form in
            let key = (form["key"] ?? "").trimmingCharacters(in: .whitespaces)
            let url = (form["callbackUrl"] ?? "").trimmingCharacters(in: .whitespaces)
            var values: [String: Any] = [
                "title": "通知地址", "channels": Self.channels.map { ["code": $0.0, "name": $0.1] },
                "key": key, "callbackUrl": url,
            ]
            guard !key.isEmpty, key.count <= 100, !key.contains("/") else {
                values["message"] = "请填写对接密钥编号。"
                return pages.render("endpoints", values, visit: visit, status: .unprocessableContent)
            }
            let answer = try await workbench.services.send(
                .PUT, .publicity, "/v1/publicity/integrations/\(key)/callback",
                json: ["url": url.isEmpty ? NSNull() : url], for: visit)
            if answer.ok {
                values["saved"] = key
                return pages.render("endpoints", values, visit: visit)
            }
            if answer.status == 404 {
                values["message"] = "本区没有编号为 \(key) 的对接密钥。"
                return pages.render("endpoints", values, visit: visit, status: .notFound)
            }
            guard [400, 422].contains(answer.status) else { return desk.refusal(answer, visit: visit) }
            values["message"] = answer.problem.message
            values["field"] = "回调地址"
            return pages.render("endpoints", values, visit: visit, status: HTTPResponse.Status(code: answer.status))
        }
    }

    // MARK: Handling units

    func unitsPage(_ visit: Visit, form: FormRequest?, message: String?, field: String?, saved: String?, status: HTTPResponse.Status) async throws
        -> Response
    {
        let answer = try await workbench.services.get(.assignment, "/v1/assignment/units?includeInactive=true", for: visit)
        guard answer.ok else { return desk.refusal(answer, visit: visit) }
        let units = ((answer.json["units"] as? [[String: Any]]) ?? []).map { unit -> [String: Any] in
            var unit = unit
            unit["domainsText"] = ((unit["domains"] as? [String]) ?? []).joined(separator: ",")
            unit["keywordsText"] = ((unit["keywords"] as? [String]) ?? []).joined(separator: ",")
            return unit
        }
        return pages.render(
            "units",
            [
                "title": "承办单位", "units": units, "message": message as Any, "field": field.map { FieldNames.chinese($0) } as Any,
                "saved": saved as Any, "code": form?["code"] ?? "", "name": form?["name"] ?? "", "kind": form?["kind"] ?? "district-department",
            ], visit: visit, status: status)
    }

    @Sendable func units(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.administrators) { visit in
            try await unitsPage(visit, form: nil, message: nil, field: nil, saved: nil, status: .ok)
        }
    }

    /// Adds a unit, or (with `id` and `basedOn`) saves an edit: the version check refuses an edit
    /// of a unit someone saved meanwhile.
    @Sendable func saveUnit(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.administrators) { visit, form in
            func list(_ name: String) -> [String] {
                (form[name] ?? "").split(whereSeparator: { $0 == "," || $0 == "，" }).map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                    !$0.isEmpty
                }
            }
            var body: [String: Any] = [
                "code": form["code"] ?? "", "name": form["name"] ?? "", "kind": form["kind"] ?? "", "domains": list("domains"),
                "keywords": list("keywords"), "active": form["active"] == "on",
            ]
            let answer: APIAnswer
            if let id = form["id"].flatMap(UUID.init(uuidString:)) {
                body["basedOn"] = form["basedOn"].flatMap(Int.init) ?? 0
                answer = try await workbench.services.send(.PUT, .assignment, "/v1/assignment/units/\(id)", json: body, for: visit)
            } else {
                body["active"] = true
                answer = try await workbench.services.send(.POST, .assignment, "/v1/assignment/units", json: body, for: visit)
            }
            if answer.ok {
                return try await unitsPage(visit, form: nil, message: nil, field: nil, saved: answer.json["name"] as? String, status: .ok)
            }
            guard [400, 409, 422].contains(answer.status) else { return desk.refusal(answer, visit: visit) }
            return try await unitsPage(
                visit, form: form, message: answer.problem.message, field: answer.problem.field, saved: nil,
                status: HTTPResponse.Status(code: answer.status))
        }
    }
}

/// What changed between two texts, line by line (the longest common subsequence of lines).
enum LineDifference {
    static func lines(from old: String, to new: String) -> [[String: Any]] {
        let a = old.components(separatedBy: "\n"), b = new.components(separatedBy: "\n")
        guard a.count * b.count <= 4_000_000 else {
            return a.map { ["text": $0, "change": "removed"] } + b.map { ["text": $0, "change": "added"] }
        }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var result: [[String: Any]] = []
        var (i, j) = (0, 0)
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                result.append(["text": a[i], "change": "same"]); i += 1; j += 1
            } else if j < b.count, i == a.count || table[i][j + 1] >= table[i + 1][j] {
                result.append(["text": b[j], "change": "added", "added": true]); j += 1
            } else {
                result.append(["text": a[i], "change": "removed", "removed": true]); i += 1
            }
        }
        return result
    }
}
