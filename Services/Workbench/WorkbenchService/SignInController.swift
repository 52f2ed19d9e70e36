import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import Models
import ServiceKit
import Storage

/// What a page handler reads of the request: the form, the cookies, the client's address.
struct FormRequest: Sendable {
    var fields: [String: String]
    var values: [(name: String, value: String)]
    /// Files chosen in a `multipart/form-data` form.
    var files: [SubmittedForm.File] = []

    subscript(name: String) -> String? { fields[name] }

    /// Every value given for `name` (checkboxes, multiple selects).
    func all(_ name: String) -> [String] { values.filter { $0.name == name }.map(\.value) }

    /// Text forms up to 2 MiB; forms with files up to what the services take in attachments
    /// (five files of 5 MiB) and their text.
    static let textLimit = 2 * 1024 * 1024
    static let fileLimit = 27 * 1024 * 1024

    static func read(_ request: Request, context: AppRequestContext) async throws -> FormRequest? {
        let contentType = request.headers[.contentType]
        let limit = SubmittedForm.isMultipart(contentType) ? fileLimit : textLimit
        let buffer = try await request.body.collect(upTo: limit)
        guard let form = SubmittedForm.parse(Data(buffer: buffer), contentType: contentType) else { return nil }
        var fields: [String: String] = [:]
        for (name, value) in form.values where fields[name] == nil { fields[name] = value }
        return FormRequest(fields: fields, values: form.values, files: form.files)
    }
}

enum Cookies {
    static func value(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0] == name { return String(pair[1]) }
            }
        }
        return nil
    }

    static func set(_ name: String, _ value: String, secure: Bool, maxAge: Int? = nil) -> String {
        var cookie = "\(name)=\(value); Path=/; HttpOnly; SameSite=Lax"
        if secure { cookie += "; Secure" }
        if let maxAge { cookie += "; Max-Age=\(maxAge)" }
        return cookie
    }
}

/// Either what a page needs to go on, or the response that stops it (sign in, 403).
enum Gate<Value> {
    case success(Value)
    case failure(Response)
}

extension Workbench {
    /// The signed-in visit, or the response that sends the browser to sign in.
    func visit(_ request: Request, context: AppRequestContext) async throws -> Gate<Visit> {
        guard let secret = Cookies.value(SessionRepository.cookieName, in: request),
            let visit = try await sessions.visit(cookie: secret, address: context.peerAddress, now: clock.now)
        else {
            let next = request.uri.path == "/" ? "" : "?next=" + (request.uri.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            return .failure(Pages.redirect("/sign-in" + next))
        }
        // Until the first password is changed, the password page is the only page.
        if visit.account.mustChangePassword && request.uri.path != "/password" && request.uri.path != "/sign-out" {
            return .failure(Pages.redirect("/password"))
        }
        var counted = visit
        counted.unread = await unreadNotices(for: visit)
        return .success(counted)
    }

    /// The count the layout shows beside 通知; a page still opens when publicity does not answer.
    func unreadNotices(for visit: Visit) async -> Int? {
        guard InboxController.addressed.contains(visit.account.role),
            let answer = try? await services.get(.publicity, "/v1/inbox?unread=true&limit=1", for: visit, timeout: .seconds(2)), answer.ok
        else { return nil }
        return answer.json["unread"] as? Int
    }

    /// A form from a signed-in visit, its CSRF token checked (403 and nothing done otherwise).
    func form(_ request: Request, context: AppRequestContext) async throws -> Gate<(Visit, FormRequest)> {
        switch try await visit(request, context: context) {
        case .failure(let response):
            return .failure(response)
        case .success(let visit):
            guard let form = try await FormRequest.read(request, context: context) else {
                return .failure(pages.problem("表单内容无法读取。", status: .badRequest, visit: visit))
            }
            guard let token = form["csrf"], constantTimeEqual(token, visit.csrfToken) else {
                return .failure(pages.problem("表单已过期或来源不明（缺少有效的表单令牌），未做任何更改。请返回重新打开页面后再提交。", status: .forbidden, visit: visit))
            }
            return .success((visit, form))
        }
    }
}

/// Sign-in, sign-out and the person's own password.
struct SignInController: Sendable {
    let workbench: Workbench
    let throttle = SignInThrottle()
    static let preSessionCookie = "workbench_form"

    func register(on router: Router<AppRequestContext>) {
        router.get("/sign-in", use: signInForm)
        router.post("/sign-in", use: signIn)
        router.post("/sign-out", use: signOut)
        router.get("/password", use: passwordForm)
        router.post("/password", use: changePassword)
    }

    /// The sign-in form carries a token of its own (there is no session yet), doubled in a cookie.
    @Sendable func signInForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        form(message: nil, login: "", next: request.uri.queryParameters["next"].map(String.init) ?? "", status: .ok)
    }

    func form(message: String?, login: String, next: String, status: HTTPResponse.Status) -> Response {
        let token = SessionRepository.randomSecret()
        var response = workbench.pages.render(
            "sign-in", ["title": "登录", "message": message as Any, "login": login, "formToken": token, "next": next], visit: nil, status: status)
        response.headers[.setCookie] = Cookies.set(Self.preSessionCookie, token, secure: workbench.settings.secureCookies, maxAge: 3_600)
        return response
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let form = try await FormRequest.read(request, context: context) else {
            return form(message: "表单内容无法读取，请重试。", login: "", next: "", status: .badRequest)
        }
        let login = (form["login"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let next = Self.safeNext(form["next"])
        guard let token = form["formToken"], let cookie = Cookies.value(Self.preSessionCookie, in: request), constantTimeEqual(token, cookie) else {
            return self.form(message: "登录表单已过期，请重新输入。", login: login, next: next, status: .forbidden)
        }
        let password = form["password"] ?? ""
        guard !login.isEmpty, !password.isEmpty else {
            return self.form(message: "请填写登录名和密码。", login: login, next: next, status: .unprocessableContent)
        }
        let now = workbench.clock.now
        let address = context.peerAddress
        let addressBucket = "sign-in:" + Base64URL.encode(Data(SHA256.hash(data: Data((address ?? "unknown").utf8))))
        let window = throttle.addressWindowMinutes * 60
        let tooMany = try await workbench.database.transaction(.none) { transaction in
            try await RateLimits.isExceeded(addressBucket, limit: throttle.addressFailuresAllowed, windowSeconds: window, in: transaction)
        }
        if tooMany {
            return self.form(message: "这台设备登录失败次数过多，请 \(throttle.addressWindowMinutes) 分钟后再试。", login: login, next: next, status: .tooManyRequests)
        }
        let refused = "登录名或密码不正确。"
        guard let (account, hash, failures) = try await workbench.accounts.forSignIn(login) else {
            // As slow as a real check, so the answer's time does not tell which logins exist.
            _ = try await AccountRepository.verify(password, hash: Self.decoyHash)
            try await countAddressFailure(addressBucket, window: window)
            return self.form(message: refused, login: login, next: next, status: .unauthorized)
        }
        if let lockedUntil = account.lockedUntil, lockedUntil > now {
            let minutes = max(1, Int((lockedUntil.timeIntervalSince(now) / 60).rounded(.up)))
            return self.form(message: "密码错误次数过多，账号已临时锁定，请 \(minutes) 分钟后再试，或请管理员重置密码。", login: login, next: next, status: .tooManyRequests)
        }
        guard try await AccountRepository.verify(password, hash: hash) else {
            try await countAddressFailure(addressBucket, window: window)
            let locked = try await workbench.accounts.recordFailure(account, failures: failures, throttle: throttle, address: address, now: now)
            if locked != nil {
                return self.form(message: "密码错误次数过多，账号已临时锁定 \(throttle.lockMinutes) 分钟。", login: login, next: next, status: .tooManyRequests)
            }
            return self.form(message: refused, login: login, next: next, status: .unauthorized)
        }
        guard account.active else {
            return self.form(message: "该账号已停用，请联系管理员。", login: login, next: next, status: .forbidden)
        }
        let secret = try await workbench.sessions.start(for: account, address: address, now: now)
        let target = account.mustChangePassword ? "/password" : next
        return Pages.redirect(target, cookie: Cookies.set(SessionRepository.cookieName, secret, secure: workbench.settings.secureCookies))
    }

    private func countAddressFailure(_ bucket: String, window: Int) async throws {
        _ = try await workbench.database.transaction(.none) { transaction in
            try await RateLimits.hit(bucket, limit: throttle.addressFailuresAllowed, windowSeconds: window, in: transaction)
        }
    }

    /// A bcrypt hash of a random text, for logins that do not exist.
    static let decoyHash = Bcrypt.hash(SessionRepository.randomSecret(), cost: AccountRepository.bcryptCost)

    /// Only a path of this site: never another host after sign-in.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/" }
        return next
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        switch try await workbench.form(request, context: context) {
        case .failure(let response):
            return response
        case .success(let (visit, _)):
            try await workbench.sessions.end(
                visit.sessionID, district: visit.account.district, reason: "signed-out", actor: visit.account.login,
                address: visit.address, now: workbench.clock.now)
            return Pages.redirect(
                "/sign-in", cookie: Cookies.set(SessionRepository.cookieName, "", secure: workbench.settings.secureCookies, maxAge: 0))
        }
    }

    @Sendable func passwordForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        switch try await workbench.visit(request, context: context) {
        case .failure(let response): return response
        case .success(let visit): return passwordPage(visit, message: nil, field: nil, status: .ok)
        }
    }

    func passwordPage(_ visit: Visit, message: String?, field: String?, status: HTTPResponse.Status) -> Response {
        workbench.pages.render(
            "password",
            [
                "title": "修改密码", "first": visit.account.mustChangePassword, "message": message as Any, "field": field as Any,
                "minimum": PasswordPolicy.minimumLength,
            ], visit: visit, status: status)
    }

    @Sendable func changePassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        switch try await workbench.form(request, context: context) {
        case .failure(let response):
            return response
        case .success(let (visit, form)):
            let current = form["current"] ?? ""
            let new = form["new"] ?? ""
            guard let (_, hash, _) = try await workbench.accounts.forSignIn(visit.account.login),
                try await AccountRepository.verify(current, hash: hash)
            else {
                return passwordPage(visit, message: "当前密码不正确。", field: "current", status: .unprocessableContent)
            }
            if let problem = PasswordPolicy.problem(with: new, login: visit.account.login) {
                return passwordPage(visit, message: problem, field: "new", status: .unprocessableContent)
            }
            guard new == form["repeat"] else {
                return passwordPage(visit, message: "两次输入的新密码不一致。", field: "repeat", status: .unprocessableContent)
            }
            guard new != current else {
                return passwordPage(visit, message: "新密码不能与当前密码相同。", field: "new", status: .unprocessableContent)
            }
            try await workbench.accounts.changePassword(visit.account, to: new, address: visit.address, now: workbench.clock.now)
            return Pages.redirect("/?changed=password")
        }
    }
}
