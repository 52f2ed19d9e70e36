import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// The proposer's evaluation page (`/evaluate/<token>`), opened from the link without signing in:
/// each unit's part (the lead unit's reply, the co-units' opinions) and, for each part still
/// waiting, satisfied / basically satisfied / dissatisfied with a comment. The link is the
/// credential; supervision checks it, its expiry, and that each reply is evaluated once.
struct EvaluationPageController: Sendable {
    let workbench: Workbench
    var pages: Pages { workbench.pages }
    var services: ServiceCalls { workbench.services }

    func register(on router: Router<AppRequestContext>) {
        router.get("/evaluate/:token", use: page)
        router.post("/evaluate/:token/:assignment", use: evaluate)
    }

    static func token(_ context: AppRequestContext) -> String? {
        context.parameters.get("token").flatMap { token in
            (20...100).contains(token.count) && token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } ? token : nil
        }
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let token = Self.token(context) else { return gone(nil) }
        return try await render(token, form: nil, part: nil, message: nil, done: request.queryValues["done"] == "1", status: .ok)
    }

    func gone(_ answer: APIAnswer?) -> Response {
        let expired = answer?.status == 410
        return pages.render(
            "problem",
            [
                "title": "评价链接不可用",
                "message": expired ? "这个评价链接已过期。如仍需评价，请联系区政协提案委员会重新发送。" : "没有找到这个评价链接，请核对链接是否完整。",
                "status": expired ? 410 : 404,
            ], visit: nil, status: expired ? .gone : .notFound)
    }

    func render(_ token: String, form: FormRequest?, part: String?, message: String?, done: Bool, status: HTTPResponse.Status) async throws
        -> Response
    {
        let answer = try await services.unsigned(.GET, .supervision, "/v1/supervision/evaluations/\(token)", json: nil)
        guard answer.ok else { return gone(answer) }
        let results = [(code: "satisfied", name: "满意"), (code: "basically-satisfied", name: "基本满意"), (code: "dissatisfied", name: "不满意")]
        let chosen = part
        let parts = ((answer.json["parts"] as? [[String: Any]]) ?? []).map { part -> [String: Any] in
            var part = part
            let id = ((part["assignmentId"] as? String) ?? "").lowercased()
            part["assignmentId"] = id
            part["roleName"] = (part["role"] as? String) == "lead" ? "主办单位答复" : "协办单位意见"
            part["categoryName"] = UnitLabels.category(part["category"] as? String)
            part["evaluatedName"] = results.first { $0.code == part["evaluated"] as? String }?.name as Any
            part["when"] = Labels.time(part["repliedAt"])
            let typed = id == chosen ? form : nil
            part["results"] = Labels.options(results, selected: typed?["result"])
            part["comment"] = typed?["comment"] ?? ""
            if let message, id == chosen { part["error"] = message }
            return part
        }
        return pages.render(
            "evaluate",
            [
                "title": "提案办理评价", "token": token, "caseNumber": answer.json["caseNumber"] ?? "", "proposalTitle": answer.json["title"] ?? "",
                "parts": parts, "done": done,
            ], visit: nil, status: status)
    }

    @Sendable func evaluate(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let token = Self.token(context) else { return gone(nil) }
        guard let assignment = context.parameters.get("assignment").flatMap(UUID.init(uuidString:))?.uuidString.lowercased(),
            let form = try await FormRequest.read(request, context: context)
        else { return gone(nil) }
        let answer = try await services.unsigned(
            .POST, .supervision, "/v1/supervision/evaluations/\(token)",
            json: [
                "assignmentId": assignment, "result": form["result"].flatMap { $0.isEmpty ? nil : $0 } ?? NSNull(), "comment": form["comment"] ?? "",
            ])
        if answer.ok { return Pages.redirect("/evaluate/\(token)?done=1") }
        if answer.status == 404 || answer.status == 410 { return gone(answer) }
        let message =
            answer.problem.field == "result"
            ? "请选择满意、基本满意或不满意。"
            : answer.status == 409 ? "这项答复已经评价过了，不能重复评价。" : answer.problem.message
        return try await render(token, form: form, part: assignment, message: message, done: false, status: HTTPResponse.Status(code: answer.status))
    }
}
