import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// The inbox (通知): the notices addressed to the signed-in person's unit, committee or name,
/// read through publicity's API. Opening one marks it read and goes to the page to act on it.
struct InboxController: Sendable {
    let desk: DeskController
    var pages: Pages { desk.pages }
    var services: ServiceCalls { desk.services }

    /// The roles notices are addressed to (publicity's `StaffNoticeRepository.audience`, and drafters' own
    /// accounts: a special committee drafts proposals too).
    static let addressed: Set<StaffClaims.Role> = [.handlingUnit, .proposalsCommittee, .supervisingLeader, .memberStudio, .member, .specialCommittee]

    func register(on router: Router<AppRequestContext>) {
        router.get("/inbox", use: inbox)
        router.post("/inbox/:id/open", use: open)
        router.post("/inbox/read", use: readAll)
    }

    @Sendable func inbox(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.addressed) { visit in
            let page = max(1, request.queryValues["page"].flatMap(Int.init) ?? 1)
            let unreadOnly = request.queryValues["unread"] == "true"
            let answer = try await services.get(
                .publicity,
                "/v1/inbox?limit=\(DeskController.pageSize + 1)&offset=\((page - 1) * DeskController.pageSize)"
                    + (unreadOnly ? "&unread=true" : ""), for: visit)
            guard answer.ok else { return desk.refusal(answer, visit: visit) }
            let found = (answer.json["notices"] as? [[String: Any]]) ?? []
            let notices = found.prefix(DeskController.pageSize).map { notice -> [String: Any] in
                var notice = notice
                notice["when"] = Labels.time(notice["createdAt"])
                notice["unread"] = (notice["read"] as? Bool) == false
                return notice
            }
            let filter = unreadOnly ? "unread=true&" : ""
            return pages.render(
                "inbox",
                [
                    "title": "通知", "notices": Array(notices), "empty": notices.isEmpty, "unreadOnly": unreadOnly,
                    "unreadCount": (answer.json["unread"] as? Int).flatMap { $0 > 0 ? $0 : nil } as Any,
                    "previous": (page > 1 ? "/inbox?\(filter)page=\(page - 1)" : nil) as Any,
                    "next": (found.count > DeskController.pageSize ? "/inbox?\(filter)page=\(page + 1)" : nil) as Any,
                ], visit: visit)
        }
    }

    /// Marks the notice read, then goes where it asks the person to act.
    @Sendable func open(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.addressed) { visit, form in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
                return pages.problem("没有找到这条通知。", status: .notFound, visit: visit)
            }
            let answer = try await services.send(.POST, .publicity, "/v1/inbox/read", json: ["ids": [id.uuidString]], for: visit)
            guard answer.ok else { return desk.refusal(answer, visit: visit) }
            // Only a path of this site: a notice never sends anyone elsewhere.
            let link = form["link"] ?? "/inbox"
            return Pages.redirect(link.hasPrefix("/") && !link.hasPrefix("//") ? link : "/inbox")
        }
    }

    @Sendable func readAll(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.posted(request, context, roles: Self.addressed) { visit, _ in
            let answer = try await services.send(.POST, .publicity, "/v1/inbox/read", json: ["all": true], for: visit)
            guard answer.ok else { return desk.refusal(answer, visit: visit) }
            return Pages.redirect("/inbox")
        }
    }
}
