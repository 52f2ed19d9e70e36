import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// Members and studios as people: the register the administrator keeps (intake holds it), the
/// performance records (履职档案) supervision counts, and the clue entry through which a member,
/// a studio or the clue office records a clue taken in, with its receiver picked from the register.
struct MembersController: Sendable {
    let desk: DeskController
    var pages: Pages { desk.pages }
    var services: ServiceCalls { desk.services }
    var clock: ServiceClock { desk.workbench.clock }

    static let keepers: Set<StaffClaims.Role> = [.administrator]
    /// Who reads everyone's records.
    static let readers: Set<StaffClaims.Role> = [.administrator, .proposalsCommittee, .clueHandler, .specialCommittee, .supervisingLeader]
    static let own: Set<StaffClaims.Role> = [.member, .memberStudio]
    /// Who enters clues taken in on someone's behalf (intake's staff roles that collect clues).
    static let entrants: Set<StaffClaims.Role> = [.member, .memberStudio, .clueHandler, .administrator]

    func register(on router: Router<AppRequestContext>) {
        router.get("/register", use: registerPage)
        router.post("/register/entries", use: saveEntry)
        router.post("/register/import", use: importRegister)
        router.post("/register/mappings", use: map)
        router.get("/members", use: records)
        router.get("/members.csv", use: recordsCSV)
        router.get("/members/:code", use: record)
        router.get("/my/record", use: myRecord)
        router.get("/entry", use: entryForm)
        router.post("/entry", use: enter)
        router.post("/entry/import", use: importClues)
    }

    static func kindName(_ kind: Any?) -> String { kind as? String == "studio" ? "委员工作室" : "委员" }

    // MARK: The register

    func entries(for visit: Visit) async throws -> [[String: Any]] {
        let answer = try await services.get(.intake, "/v1/intake/register", for: visit)
        return (answer.json["entries"] as? [[String: Any]]) ?? []
    }

    func registerPage(
        _ visit: Visit, form: FormRequest? = nil, message: String? = nil, notice: String? = nil,
        refused: [[String: Any]] = [], status: HTTPResponse.Status = .ok, edit: String? = nil
    ) async throws -> Response {
        async let listed = entries(for: visit)
        async let open = services.get(.intake, "/v1/intake/register/unmatched", for: visit)
        let (entries, unmatchedAnswer) = try await (listed, open)
        let names = Dictionary(
            entries.compactMap { entry in (entry["code"] as? String).map { ($0, entry["name"] as? String ?? "") } },
            uniquingKeysWith: { first, _ in first })
        let editing = edit.flatMap { code in entries.first { $0["code"] as? String == code } }
        func field(_ name: String) -> String { form?[name] ?? (editing?[name] as? String) ?? "" }
        let kind = form?["kind"] ?? (editing?["kind"] as? String) ?? "member"
        let studios = entries.filter { $0["kind"] as? String == "studio" }
        let values: [String: Any] = [
            "title": "委员和工作室登记册",
            "entries": entries.map { entry -> [String: Any] in
                var row = entry
                row["kindName"] = Self.kindName(entry["kind"])
                row["studioName"] = (entry["studio"] as? String).flatMap { names[$0] } ?? ""
                row["inactive"] = !(entry["active"] as? Bool ?? true)
                return row
            },
            "count": entries.count, "editing": editing != nil,
            "code": field("code"), "name": field("name"), "sector": field("sector"), "specialCommittee": field("specialCommittee"),
            "street": field("street"), "isStudio": kind == "studio",
            "inactive": form.map { $0["active"] == "false" } ?? (editing.map { !($0["active"] as? Bool ?? true) } ?? false),
            "studios": studios.map { studio -> [String: Any] in
                let code = studio["code"] as? String ?? ""
                return ["code": code, "name": studio["name"] ?? "", "selected": code == (form?["studio"] ?? (editing?["studio"] as? String))]
            },
            "unmatched": ((unmatchedAnswer.json["receivers"] as? [[String: Any]]) ?? []).map { row -> [String: Any] in
                var row = row
                row["kindName"] = Self.kindName(row["kind"])
                let kind = row["kind"] as? String
                row["choices"] = entries.filter { $0["kind"] as? String == kind }.map { entry -> [String: Any] in
                    [
                        "code": entry["code"] ?? "", "name": entry["name"] ?? "",
                        "selected": (row["closest"] as? [String])?.first == entry["name"] as? String,
                    ]
                }
                return row
            },
            "message": message as Any, "notice": notice as Any, "refused": refused,
        ]
        return pages.render("register", values, visit: visit, status: status)
    }

    @Sendable func registerPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.keepers) { visit in
            try await registerPage(visit, edit: request.queryValues["edit"])
        }
    }

    @Sendable func saveEntry(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.keepers) { visit, form in
            let code = (form["code"] ?? "").trimmingCharacters(in: .whitespaces)
            guard RegisterEntry.isCode(code) else {
                return try await registerPage(
                    visit, form: form, message: "编号（code）：只能由字母、数字、- 和 _ 组成（至多 40 位）",
                    status: .unprocessableContent)
            }
            var body: [String: Any] = ["kind": form["kind"] ?? "", "name": form["name"] ?? "", "active": form["active"] != "false"]
            for name in ["sector", "specialCommittee", "street", "studio"] {
                if let value = form[name], !value.isEmpty { body[name] = value }
            }
            // A register code is letters, digits, - and _ (checked above): safe in a path as it is.
            let path = "/v1/intake/register/entries/" + code
            let answer = try await services.send(.PUT, .intake, path, json: body, for: visit)
            guard answer.ok else {
                guard answer.status == 400 || answer.status == 422 else { return desk.refusal(answer, visit: visit) }
                let field = answer.problem.field.map { FieldNames.chinese($0) + "：" } ?? ""
                return try await registerPage(visit, form: form, message: field + answer.problem.message, status: .unprocessableContent)
            }
            return try await registerPage(visit, notice: "已保存 \(form["name"] ?? "")（\(code)）。")
        }
    }

    @Sendable func importRegister(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.keepers) { visit, form in
            guard let file = form.files.first(where: { $0.field == "file" && !$0.content.isEmpty }) else {
                return try await registerPage(visit, message: "请选择要导入的 CSV 文件。", status: .unprocessableContent)
            }
            let answer = try await services.send(
                .POST, .intake, "/v1/intake/register/import", body: file.content,
                contentType: "text/csv; charset=utf-8", for: visit)
            guard answer.ok else {
                guard answer.status == 400 || answer.status == 413 || answer.status == 415 || answer.status == 422 else {
                    return desk.refusal(answer, visit: visit)
                }
                return try await registerPage(visit, message: answer.problem.message, status: .unprocessableContent)
            }
            let refused = (answer.json["refused"] as? [[String: Any]]) ?? []
            let saved = answer.json["saved"] as? Int ?? 0
            return try await registerPage(
                visit, notice: "已导入 \(saved) 条" + (refused.isEmpty ? "。" : "；\(refused.count) 行未导入，原因见下。"),
                refused: refused)
        }
    }

    @Sendable func map(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.keepers) { visit, form in
            let answer = try await services.send(
                .POST, .intake, "/v1/intake/register/mappings",
                json: [
                    "kind": form["kind"] ?? "", "receivedName": form["receivedName"] ?? "", "code": form["code"] ?? "",
                ], for: visit)
            guard answer.ok else {
                guard answer.status == 400 || answer.status == 422 else { return desk.refusal(answer, visit: visit) }
                return try await registerPage(visit, message: answer.problem.message, status: .unprocessableContent)
            }
            return try await registerPage(visit, notice: "“\(form["receivedName"] ?? "")”的 \(answer.json["credited"] as? Int ?? 0) 条线索已记入登记册。")
        }
    }

    // MARK: Performance records

    var today: LocalDate { LocalDate.on(clock.now, in: .chinaTime) }

    /// The period asked for; this year by default.
    func period(_ request: Request) -> (from: String, to: String) {
        let query = request.queryValues
        let from = query["from"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(today.year)-01-01"
        let to = query["to"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(today.year)-12-31"
        return (from, to)
    }

    static let periodProblem = "请选择起始日期和截止日期（格式 YYYY-MM-DD），起始日期不晚于截止日期，期间不超过一年。"

    /// Whether the period is one supervision counts: dates, in order, at most a year.
    static func isPeriod(_ from: String, _ to: String) -> Bool {
        guard let first = LocalDate(from), let last = LocalDate(to) else { return false }
        return first <= last && first.days(until: last) <= 366
    }

    static func figures(_ record: [String: Any]) -> [String: Any] {
        var row = record
        row["kindName"] = kindName(record["kind"])
        row["inactive"] = !(record["active"] as? Bool ?? true)
        let evaluations = ["satisfied", "basicallySatisfied", "dissatisfied"].reduce(0) { $0 + (record[$1] as? Int ?? 0) }
        row["evaluations"] = evaluations
        return row
    }

    @Sendable func records(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.readers) { visit in
            let (from, to) = period(request)
            var values: [String: Any] = ["title": "委员履职档案", "from": from, "to": to, "keeper": Self.keepers.contains(visit.account.role)]
            guard Self.isPeriod(from, to) else {
                values["error"] = Self.periodProblem
                return pages.render("members", values, visit: visit, status: .unprocessableContent)
            }
            let answer = try await services.get(
                .supervision, "/v1/supervision/members" + DeskController.query([("from", from), ("to", to)]), for: visit)
            if answer.ok {
                let records = (answer.json["records"] as? [[String: Any]]) ?? []
                values["records"] = records.map(Self.figures)
                values["empty"] = records.isEmpty
                values["csv"] = "/members.csv" + DeskController.query([("from", from), ("to", to)])
            } else if answer.status == 400 || answer.status == 422 {
                values["error"] = answer.problem.message
            } else {
                return desk.refusal(answer, visit: visit)
            }
            return pages.render("members", values, visit: visit, status: answer.ok ? .ok : .unprocessableContent)
        }
    }

    @Sendable func recordsCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.readers) { visit in
            let (from, to) = period(request)
            let path = "/v1/supervision/members" + DeskController.query([("from", from), ("to", to), ("format", "csv")])
            return desk.download(try await services.get(.supervision, path, for: visit), visit: visit)
        }
    }

    @Sendable func record(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.readers) { visit in
            guard let code = context.parameters.get("code"), RegisterEntry.isCode(code) else {
                return pages.problem("没有找到这位委员或工作室。", status: .notFound, visit: visit)
            }
            return try await recordPage("/v1/supervision/members/" + code, request: request, visit: visit, own: false)
        }
    }

    @Sendable func myRecord(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.own) { visit in
            guard visit.account.registerCode != nil else {
                return pages.problem("您的账号还没有关联委员和工作室登记册，请联系管理员。", status: .notFound, visit: visit)
            }
            return try await recordPage("/v1/supervision/my/record", request: request, visit: visit, own: true)
        }
    }

    func recordPage(_ path: String, request: Request, visit: Visit, own: Bool) async throws -> Response {
        let (from, to) = period(request)
        guard Self.isPeriod(from, to) else {
            return pages.render(
                "member-record",
                [
                    "title": "履职档案", "from": from, "to": to, "own": own, "error": Self.periodProblem,
                    "action": request.uri.path,
                ], visit: visit, status: .unprocessableContent)
        }
        let wantsCSV = request.queryValues["format"] == "csv"
        let answer = try await services.get(
            .supervision, path + DeskController.query([("from", from), ("to", to), ("format", wantsCSV ? "csv" : nil)]),
            for: visit)
        if wantsCSV { return desk.download(answer, visit: visit) }
        guard answer.ok else {
            guard answer.status == 400 || answer.status == 422 else { return desk.refusal(answer, visit: visit) }
            return pages.render(
                "member-record",
                [
                    "title": "履职档案", "from": from, "to": to, "own": own, "error": answer.problem.message,
                    "action": request.uri.path,
                ], visit: visit, status: .unprocessableContent)
        }
        let entry = (answer.json["entry"] as? [String: Any]) ?? [:]
        let record = Self.figures((answer.json["record"] as? [String: Any]) ?? [:])
        let clues = ((answer.json["clues"] as? [[String: Any]]) ?? []).map { clue -> [String: Any] in
            var row = clue
            let route = clue["route"] as? String
            row["routeName"] = route.map { code in Labels.routes.first { $0.code == code }?.name ?? code } ?? "待分流"
            return row
        }
        let name = entry["name"] as? String ?? ""
        let values: [String: Any] = [
            "title": "\(name)的履职档案", "from": from, "to": to, "own": own, "entry": entry, "kindName": Self.kindName(entry["kind"]),
            "inactive": !(entry["active"] as? Bool ?? true), "record": record, "clues": clues, "noClues": clues.isEmpty,
            "action": own ? "/my/record" : "/members/\(entry["code"] as? String ?? "")",
            "csv": (own ? "/my/record" : "/members/\(entry["code"] as? String ?? "")")
                + DeskController.query([("from", from), ("to", to), ("format", "csv")]),
        ]
        return pages.render("member-record", values, visit: visit)
    }

    // MARK: Entering clues

    func entryForm(
        _ visit: Visit, form: FormRequest? = nil, message: String? = nil, rows: [[String: Any]] = [], notice: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let entries = try await entries(for: visit).filter { $0["active"] as? Bool ?? true }
        let chosen = form?["receiver"] ?? visit.account.registerCode ?? ""
        let category =
            form?["sourceCategory"]
            ?? (visit.account.role == .member ? SourceCategory.committeeMember.rawValue : SourceCategory.streetStudio.rawValue)
        let values: [String: Any] = [
            "title": "录入线索",
            "receivers": entries.map { entry -> [String: Any] in
                let code = entry["code"] as? String ?? ""
                return ["code": code, "name": entry["name"] ?? "", "kindName": Self.kindName(entry["kind"]), "selected": code == chosen]
            },
            "noRegister": entries.isEmpty, "receiverText": entries.isEmpty ? (form?["receiver"] ?? visit.account.displayName) : "",
            "categories": SourceCategory.allCases.map { ["code": $0.rawValue, "name": $0.chineseName, "selected": $0.rawValue == category] },
            "titleText": form?["clueTitle"] ?? "", "situation": form?["situationAnalysis"] ?? "", "suggestions": form?["specificSuggestions"] ?? "",
            "contactName": form?["contactName"] ?? "", "contactPhone": form?["contactPhone"] ?? "", "anonymous": form?["anonymous"] == "on",
            // A new key per form shown: pressing submit twice stores the clue once.
            "idempotencyKey": form?["idempotencyKey"] ?? UUID().uuidString.lowercased(),
            "message": message as Any, "notice": notice as Any, "rows": rows,
        ]
        return pages.render("clue-entry", values, visit: visit, status: status)
    }

    @Sendable func entryForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.entrants) { visit in try await entryForm(visit) }
    }

    @Sendable func enter(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.entrants) { visit, form in
            let entries = try await entries(for: visit)
            let receiver = (form["receiver"] ?? "").trimmingCharacters(in: .whitespaces)
            let kind =
                entries.first { $0["code"] as? String == receiver }?["kind"] as? String
                ?? (visit.account.role == .memberStudio || receiver.contains("工作室") ? "studio" : "member")
            var body: [String: Any] = [
                "district": visit.account.district.rawValue, "channel": Models.Channel.staffEntry.rawValue,
                "sourceCategory": form["sourceCategory"] ?? "", "title": form["clueTitle"] ?? "",
                "situationAnalysis": form["situationAnalysis"] ?? "", "specificSuggestions": form["specificSuggestions"] ?? "",
                "receiver": ["kind": kind, "name": receiver],
            ]
            if form["anonymous"] == "on" {
                body["anonymous"] = true
            } else {
                body["contact"] = ["name": form["contactName"] ?? "", "phone": form["contactPhone"] ?? ""]
            }
            let data = try JSONSerialization.data(withJSONObject: body)
            let answer = try await services.send(
                .POST, .intake, "/v1/clues", body: data, contentType: "application/json",
                idempotencyKey: form["idempotencyKey"].flatMap { $0.isEmpty ? nil : "workbench-" + $0 }, for: visit)
            guard answer.ok else {
                guard [400, 409, 413, 422].contains(answer.status) else { return desk.refusal(answer, visit: visit) }
                let field = answer.problem.field.map { FieldNames.chinese($0) + "：" } ?? ""
                return try await entryForm(visit, form: form, message: field + answer.problem.message, status: .unprocessableContent)
            }
            let number = answer.json["trackingNumber"] as? String ?? ""
            return try await entryForm(visit, notice: "已录入，线索编号 \(number)。")
        }
    }

    @Sendable func importClues(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.entrants) { visit, form in
            guard let file = form.files.first(where: { $0.field == "file" && !$0.content.isEmpty }) else {
                return try await entryForm(visit, message: "请选择要导入的 CSV 文件。", status: .unprocessableContent)
            }
            let answer = try await services.send(
                .POST, .intake, "/v1/clues/batch", body: file.content, contentType: "text/csv; charset=utf-8",
                for: visit)
            guard answer.ok else {
                guard [400, 413, 415, 422].contains(answer.status) else { return desk.refusal(answer, visit: visit) }
                return try await entryForm(visit, message: answer.problem.message, status: .unprocessableContent)
            }
            let rows = ((answer.json["rows"] as? [[String: Any]]) ?? []).filter { $0["result"] as? String == "rejected" }.map {
                row -> [String: Any] in
                let error = row["error"] as? [String: Any] ?? [:]
                return [
                    "row": row["row"] ?? "", "field": (error["field"] as? String).map { FieldNames.chinese($0) + "：" } ?? "",
                    "reason": error["message"] ?? "",
                ]
            }
            let accepted = answer.json["accepted"] as? Int ?? 0
            return try await entryForm(visit, rows: rows, notice: "导入 \(accepted) 条" + (rows.isEmpty ? "。" : "；\(rows.count) 行未导入，原因见下，其余已保存。"))
        }
    }
}
