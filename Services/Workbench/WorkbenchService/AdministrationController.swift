import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit
import Storage

/// The administrator's pages: the district's accounts and the audit trail.
struct AdministrationController: Sendable {
    let workbench: Workbench
    var pages: Pages { workbench.pages }
    var desk: DeskController { DeskController(workbench: workbench) }
    static let administrators: Set<StaffClaims.Role> = [.administrator]

    func register(on router: Router<AppRequestContext>) {
        router.get("/admin/accounts", use: accounts)
        router.post("/admin/accounts", use: createAccount)
        router.post("/admin/accounts/:id", use: updateAccount)
        router.get("/admin/audit", use: audit)
    }

    /// The handling units an account may belong to, from assignment's directory (none, and the
    /// page still works, while assignment does not answer).
    func units(for visit: Visit) async throws -> [[String: Any]] {
        let answer: APIAnswer
        do {
            answer = try await workbench.services.get(.assignment, "/v1/assignment/units", for: visit)
        } catch {
            workbench.logger.warning("assignment's unit directory did not answer", metadata: ["error": "\(error)"])
            return []
        }
        return ((answer.json["units"] as? [[String: Any]]) ?? []).compactMap { unit in
            guard let id = unit["id"] as? String, let name = unit["name"] as? String else { return nil }
            return ["id": id, "name": name]
        }
    }

    /// The register's names by code, from intake (none while intake does not answer).
    func registerNames(for visit: Visit) async throws -> [String: String] {
        guard let answer = try? await workbench.services.get(.intake, "/v1/intake/register", for: visit) else { return [:] }
        var names: [String: String] = [:]
        for entry in (answer.json["entries"] as? [[String: Any]]) ?? [] {
            if let code = entry["code"] as? String, let name = entry["name"] as? String { names[code] = name }
        }
        return names
    }

    func accountsPage(
        _ visit: Visit, form: FormRequest?, created: (Account, String)?, message: String?, field: String?,
        status: HTTPResponse.Status
    ) async throws -> Response {
        let units = try await units(for: visit)
        let unitNames = Dictionary(
            units.compactMap { unit in (unit["id"] as? String).map { ($0.lowercased(), unit["name"] as? String ?? "") } },
            uniquingKeysWith: { first, _ in first })
        let now = workbench.clock.now
        let register = try await registerNames(for: visit)
        let rows = try await workbench.accounts.list(in: visit.account.district).map { account -> [String: Any] in
            [
                "id": account.id.uuidString, "login": account.login, "name": account.displayName, "roleName": RoleLabels.label(account.role),
                "role": account.role.rawValue, "unit": account.unitID.flatMap { unitNames[$0.uuidString.lowercased()] } ?? "",
                "active": account.active, "locked": (account.lockedUntil ?? .distantPast) > now, "mustChange": account.mustChangePassword,
                "roles": RoleLabels.choices.map { choice -> [String: Any] in
                    var choice = choice
                    choice["selected"] = choice["code"] as? String == account.role.rawValue
                    return choice
                },
                "units": units.map { unit -> [String: Any] in
                    var unit = unit
                    unit["selected"] = (unit["id"] as? String)?.lowercased() == account.unitID?.uuidString.lowercased()
                    return unit
                },
                "self": account.id == visit.account.id, "registerCode": account.registerCode ?? "",
                "registerName": account.registerCode.flatMap { register[$0] } ?? "",
            ]
        }
        var values: [String: Any] = [
            "title": "账号管理", "accounts": rows, "units": units,
            "roles": RoleLabels.choices.map { choice -> [String: Any] in
                var choice = choice
                choice["selected"] = choice["code"] as? String == form?["role"]
                return choice
            },
            "login": form?["login"] ?? "", "displayName": form?["displayName"] ?? "", "phone": form?["phone"] ?? "", "email": form?["email"] ?? "",
            "registerCode": form?["registerCode"] ?? "",
            "message": message as Any, "field": field.map { FieldNames.chinese($0) } as Any,
        ]
        if let (account, password) = created {
            values["created"] = ["login": account.login, "name": account.displayName, "password": password]
        }
        return pages.render("accounts", values, visit: visit, status: status)
    }

    @Sendable func accounts(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.administrators) { visit in
            try await accountsPage(visit, form: nil, created: nil, message: nil, field: nil, status: .ok)
        }
    }

    @Sendable func createAccount(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.administrators) { visit, form in
            guard let role = form["role"].flatMap(StaffClaims.Role.init(rawValue:)) else {
                return try await accountsPage(visit, form: form, created: nil, message: "请选择角色。", field: "role", status: .unprocessableContent)
            }
            let unitText = form["unitId"] ?? ""
            let new = NewAccount(
                district: visit.account.district, login: (form["login"] ?? "").trimmingCharacters(in: .whitespaces).lowercased(),
                displayName: form["displayName"] ?? "", role: role, unitID: role == .handlingUnit ? UUID(uuidString: unitText) : nil,
                phone: form["phone"], email: form["email"], registerCode: form["registerCode"]?.trimmingCharacters(in: .whitespaces))
            if let problem = new.problems.first {
                return try await accountsPage(
                    visit, form: form, created: nil, message: problem.message, field: problem.field, status: .unprocessableContent)
            }
            do {
                let created = try await workbench.accounts.create(new, by: visit.account.login, address: visit.address, now: workbench.clock.now)
                return try await accountsPage(visit, form: nil, created: created, message: nil, field: nil, status: .created)
            } catch let error as APIError where error.status == .conflict || error.status == .unprocessableContent {
                return try await accountsPage(visit, form: form, created: nil, message: error.message, field: error.field, status: error.status)
            }
        }
    }

    @Sendable func updateAccount(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.administrators) { visit, form in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
                return pages.problem("没有找到这个账号。", status: .notFound, visit: visit)
            }
            let action = form["action"] ?? "save"
            if id == visit.account.id && action != "save" {
                return try await accountsPage(
                    visit, form: nil, created: nil, message: "不能停用或重置自己的账号；请由另一位管理员操作。",
                    field: nil, status: .conflict)
            }
            let role = form["role"].flatMap(StaffClaims.Role.init(rawValue:))
            let unit = role == .handlingUnit ? form["unitId"].flatMap(UUID.init(uuidString:)) : nil
            do {
                let (account, password) = try await workbench.accounts.update(
                    id, in: visit.account.district, role: action == "save" ? role : nil, unitID: unit,
                    registerCode: action == "save" ? (form["registerCode"] ?? "").trimmingCharacters(in: .whitespaces) : nil,
                    active: action == "disable" ? false : action == "enable" ? true : nil, resetPassword: action == "reset",
                    by: visit.account.login, address: visit.address, now: workbench.clock.now)
                return try await accountsPage(
                    visit, form: nil, created: password.map { (account, $0) },
                    message: password == nil ? "已保存 \(account.login) 的更改。" : nil, field: nil, status: .ok)
            } catch let error as APIError where error.status == .notFound || error.status == .unprocessableContent {
                return try await accountsPage(visit, form: nil, created: nil, message: error.message, field: error.field, status: error.status)
            }
        }
    }

    /// The audit trail: search by person, object, action and period; CSV of the same rows.
    @Sendable func audit(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.administrators) { visit in
            let query = request.queryValues
            func value(_ name: String) -> String? { query[name].flatMap { $0.isEmpty ? nil : $0 } }
            let zone = TimeZone(identifier: "Asia/Shanghai")!
            func day(_ name: String) -> Date?? {
                guard let text = value(name) else { return .some(nil) }
                guard let date = LocalDate(text) else { return nil }
                return .some(date.start(in: zone))
            }
            guard let from = day("from"), let toDay = day("to") else {
                return pages.problem("日期格式应为 2026-12-05。", status: .badRequest, visit: visit)
            }
            let to = toDay.map { $0.addingTimeInterval(86_400) }
            let page = max(1, value("page").flatMap(Int.init) ?? 1)
            let csv = value("format") == "csv"
            let limit = csv ? 10_000 : 100
            let records = try await workbench.database.transaction(.district(visit.account.district)) { transaction in
                try await AuditTrail.search(
                    actor: value("actor"), objectType: value("objectType"), objectID: value("objectId"), action: value("action"),
                    from: from, to: to, limit: limit + 1, offset: csv ? 0 : (page - 1) * limit, in: transaction)
            }
            if csv {
                var text = ["时间", "操作人", "地址", "服务", "操作", "对象类型", "对象", "之前", "之后"].map(UnitEvaluator.csvField).joined(separator: ",") + "\r\n"
                for record in records.prefix(limit) {
                    text +=
                        [
                            Labels.time(ISO8601DateFormatter().string(from: record.at)), record.actor, record.address ?? "", record.service,
                            record.action,
                            record.objectType, record.objectID ?? "", record.before ?? "", record.after ?? "",
                        ]
                        .map(UnitEvaluator.csvField).joined(separator: ",") + "\r\n"
                }
                return Response(
                    status: .ok,
                    headers: [
                        .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"audit.csv\"", .cacheControl: "no-store",
                    ], body: .init(byteBuffer: .init(string: "\u{FEFF}" + text)))
            }
            let rows = records.prefix(limit).map { record -> [String: Any] in
                [
                    "at": Labels.time(ISO8601DateFormatter().string(from: record.at)), "actor": record.actor, "address": record.address ?? "",
                    "service": record.service, "action": record.action, "objectType": record.objectType, "objectId": record.objectID ?? "",
                    "before": record.before ?? "", "after": record.after ?? "",
                ]
            }
            let filters: [(String, String?)] = [
                ("actor", value("actor")), ("objectType", value("objectType")), ("objectId", value("objectId")), ("action", value("action")),
                ("from", value("from")), ("to", value("to")),
            ]
            let keep = DeskController.query(filters)
            let separator = keep.isEmpty ? "?" : "&"
            return pages.render(
                "audit",
                [
                    "title": "审计日志", "records": Array(rows), "empty": rows.isEmpty,
                    "actor": value("actor") ?? "", "objectType": value("objectType") ?? "", "objectId": value("objectId") ?? "",
                    "action": value("action") ?? "", "from": value("from") ?? "", "to": value("to") ?? "",
                    "csv": "/admin/audit" + keep + separator + "format=csv",
                    "previous": (page > 1 ? "/admin/audit" + keep + separator + "page=\(page - 1)" : nil) as Any,
                    "next": (records.count > limit ? "/admin/audit" + keep + separator + "page=\(page + 1)" : nil) as Any,
                ], visit: visit)
        }
    }
}
