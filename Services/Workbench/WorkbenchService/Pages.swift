import Foundation
import HTTPTypes
import Hummingbird
import Models
import Mustache
import NIOCore
import ServiceKit

/// The workbench's pages: Mustache templates shipped with the module (every value HTML-escaped
/// by `{{ }}`), one layout with the navigation of the person's role.
struct Pages: Sendable {
    let library: MustacheLibrary

    static func load() -> Pages {
        var library = MustacheLibrary()
        let folder = Bundle.module.url(forResource: "templates", withExtension: nil)
        let files =
            (try? FileManager.default.contentsOfDirectory(at: folder ?? URL(fileURLWithPath: "/nonexistent"), includingPropertiesForKeys: nil)) ?? []
        for file in files where file.pathExtension == "mustache" {
            guard let text = try? String(contentsOf: file, encoding: .utf8), let template = try? MustacheTemplate(string: text) else {
                preconditionFailure("workbench template \(file.lastPathComponent) does not load")
            }
            library.register(template, named: file.deletingPathExtension().lastPathComponent)
        }
        return Pages(library: library)
    }

    /// A page in the layout: `values` are the template's, plus the person, their navigation and
    /// the form token every form carries.
    func render(_ template: String, _ values: [String: Any], visit: Visit?, status: HTTPResponse.Status = .ok) -> Response {
        var context = values
        if let visit {
            context["me"] = ["name": visit.account.displayName, "login": visit.account.login, "role": RoleLabels.label(visit.account.role)]
            context["csrf"] = visit.csrfToken
            context["nav"] = Navigation.items(for: visit.account.role, unread: visit.unread, municipal: visit.municipal)
        }
        let html =
            library.render(Self.unwrapped(context) ?? [:], withTemplate: template) ?? "<!doctype html><title>页面缺失</title><p>页面模板缺失：\(template)</p>"
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                HTTPField.Name("Content-Security-Policy")!:
                    "default-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
            ],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The values with every optional unwrapped and every nil left out, so that a template's
    /// `{{#message}}` section is shown exactly when there is a message.
    static func unwrapped(_ value: Any) -> Any? {
        // JSON's null, as the APIs' answers hold it, is left out too.
        if value is NSNull { return nil }
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return unwrapped(wrapped)
        }
        if let dictionary = value as? [String: Any] {
            return dictionary.compactMapValues { unwrapped($0) }
        }
        if let array = value as? [Any] {
            return array.compactMap { unwrapped($0) }
        }
        return value
    }

    /// A page that says what went wrong, in the layout.
    func problem(_ message: String, status: HTTPResponse.Status, visit: Visit?) -> Response {
        render("problem", ["title": "无法完成", "message": message, "status": Int(status.code)], visit: visit, status: status)
    }

    static func redirect(_ location: String, cookie: String? = nil) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }
}

enum RoleLabels {
    static func label(_ role: StaffClaims.Role) -> String {
        switch role {
        case .administrator: "管理员"
        case .clueHandler: "线索处理组"
        case .proposalsCommittee: "提案委"
        case .specialCommittee: "专委会"
        case .member: "政协委员"
        case .memberStudio: "委员工作室"
        case .handlingUnit: "承办单位"
        case .supervisingLeader: "督办领导"
        }
    }

    static var choices: [[String: Any]] {
        StaffClaims.Role.allCases.map { ["code": $0.rawValue, "name": label($0)] }
    }
}

/// What each role's navigation offers.
enum Navigation {
    /// `municipal`: the person's tenant has member districts (the municipal committee).
    static func items(for role: StaffClaims.Role, unread: Int? = nil, municipal: Bool = false) -> [[String: String]] {
        var items = [["href": "/", "name": "首页"]]
        if InboxController.addressed.contains(role) {
            items.append(["href": "/inbox", "name": (unread ?? 0) > 0 ? "通知（\(unread ?? 0) 条未读）" : "通知"])
        }
        switch role {
        case .clueHandler:
            items += [
                ["href": "/clues", "name": "线索审核"], ["href": "/groups", "name": "议题组"], ["href": "/entry", "name": "录入线索"],
                ["href": "/members", "name": "履职档案"],
            ]
        case .proposalsCommittee:
            items += [
                ["href": "/clues", "name": "线索审核"], ["href": "/groups", "name": "议题组"], ["href": "/reviews", "name": "立案审查"],
                ["href": "/assignment", "name": "交办"], ["href": "/supervision", "name": "督办"], ["href": "/templates", "name": "答复模板"],
                ["href": "/members", "name": "履职档案"],
            ]
            if municipal { items.append(["href": "/municipal", "name": "各区情况"]) }
        case .member, .memberStudio:
            items += [
                ["href": "/topics", "name": "参考选题"], ["href": "/proposals", "name": "我的提案"], ["href": "/entry", "name": "录入线索"],
                ["href": "/my/record", "name": "我的履职档案"],
            ]
        case .specialCommittee:
            items += [["href": "/topics", "name": "参考选题"], ["href": "/proposals", "name": "我的提案"], ["href": "/members", "name": "履职档案"]]
        case .administrator:
            items += [
                ["href": "/admin/accounts", "name": "账号"], ["href": "/register", "name": "委员和工作室登记册"], ["href": "/admin/settings", "name": "区设置"],
                ["href": "/admin/audit", "name": "审计日志"], ["href": "/clues", "name": "线索审核"],
            ]
            if municipal { items.append(["href": "/municipal", "name": "各区情况"]) }
        case .handlingUnit:
            items += [["href": "/unit/assignments", "name": "交办件"], ["href": "/templates", "name": "答复模板"]]
        case .supervisingLeader:
            items += [["href": "/leader", "name": "领衔督办"], ["href": "/members", "name": "履职档案"]]
            if municipal { items.append(["href": "/municipal", "name": "各区情况"]) }
        }
        items.append(["href": "/password", "name": "修改密码"])
        return items
    }
}
