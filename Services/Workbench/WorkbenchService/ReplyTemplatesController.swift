import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// Reply templates (答复函模板): the committee keeps the district's, a unit its own; units start
/// replies from them on the assignment page. Supervision's API decides who changes which.
struct ReplyTemplatesController: Sendable {
    let desk: DeskController
    var pages: Pages { desk.pages }
    var services: ServiceCalls { desk.services }

    static let keepers: Set<StaffClaims.Role> = [.proposalsCommittee, .handlingUnit]

    func register(on router: Router<AppRequestContext>) {
        router.get("/templates", use: list)
        router.post("/templates", use: create)
        router.post("/templates/:id", use: save)
        router.post("/templates/:id/delete", use: delete)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.keepers) { visit in
            try await page(visit: visit, form: nil, editing: nil, message: nil, status: .ok)
        }
    }

    func page(visit: Visit, form: FormRequest?, editing: String?, message: String?, status: HTTPResponse.Status) async throws -> Response {
        let answer = try await services.get(.supervision, "/v1/supervision/reply-templates", for: visit)
        guard answer.ok else { return desk.refusal(answer, visit: visit) }
        let templates = ((answer.json["templates"] as? [[String: Any]]) ?? []).map { template -> [String: Any] in
            var template = template
            let id = ((template["id"] as? String) ?? "").lowercased()
            template["id"] = id
            template["scopeName"] = template["scope"] as? String == "unit" ? "本单位" : "全区"
            template["when"] = Labels.time(template["updatedAt"])
            // A refused edit shows what was typed in that template's form.
            if editing == id, let form {
                template["name"] = form["name"] ?? ""
                template["body"] = form["body"] ?? ""
                template["error"] = message
            }
            return template
        }
        var values: [String: Any] = [
            "title": "答复模板", "templates": templates, "empty": templates.isEmpty,
            "placeholders": ReplyTemplate.Placeholder.allCases.map { "{\($0.rawValue)}" }.joined(separator: " "),
            "scope": visit.account.role == .handlingUnit ? "本单位" : "全区",
        ]
        if editing == nil, let form {
            values["typed"] = form.fields
            values["error"] = message
        }
        return pages.render("reply-templates", values, visit: visit, status: status)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.keepers) { visit, form in
            let answer = try await services.send(
                .POST, .supervision, "/v1/supervision/reply-templates",
                json: ["name": form["name"] ?? "", "body": form["body"] ?? ""], for: visit)
            return try await outcome(answer, visit: visit, form: form, editing: nil)
        }
    }

    @Sendable func save(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.keepers) { visit, form in
            guard let id = DeskController.id(context)?.lowercased() else { return pages.problem("没有找到这个模板。", status: .notFound, visit: visit) }
            let answer = try await services.send(
                .PUT, .supervision, "/v1/supervision/reply-templates/\(id)",
                json: ["name": form["name"] ?? "", "body": form["body"] ?? ""], for: visit)
            return try await outcome(answer, visit: visit, form: form, editing: id)
        }
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.keepers) { visit, _ in
            guard let id = DeskController.id(context)?.lowercased() else { return pages.problem("没有找到这个模板。", status: .notFound, visit: visit) }
            let answer = try await services.send(.DELETE, .supervision, "/v1/supervision/reply-templates/\(id)", json: nil, for: visit)
            return answer.ok ? Pages.redirect("/templates") : desk.refusal(answer, visit: visit)
        }
    }

    func outcome(_ answer: APIAnswer, visit: Visit, form: FormRequest, editing: String?) async throws -> Response {
        if answer.ok { return Pages.redirect("/templates") }
        if [400, 409, 422].contains(answer.status) {
            let field = answer.problem.field.map { FieldNames.chinese($0) + "：" } ?? ""
            return try await page(
                visit: visit, form: form, editing: editing, message: field + answer.problem.message,
                status: HTTPResponse.Status(code: answer.status))
        }
        return desk.refusal(answer, visit: visit)
    }
}
