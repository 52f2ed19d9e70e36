import AssignmentService
import AsyncHTTPClient
import ClassificationRules
import Foundation
import IntakeService
import Messaging
import Models
import NIOCore
import NIOHTTP1
import PublicityService
import ServiceKit
import Storage
import SupervisionService
import Synchronization
import TestSupport
import Testing
import TriageService
import WorkbenchService

/// One browser without JavaScript: keeps its cookies, follows no redirect (the tests read them).
final class FormBrowser: Sendable {
    let base: String
    private let cookies = Mutex<[String: String]>([:])
    /// One client for every browser of the run (a static is never shut down, so a failing test
    /// cannot leave one behind).
    private static let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(redirectConfiguration: .disallow))
    private var client: HTTPClient { Self.client }

    init(base: String) { self.base = base }

    struct Page {
        var status: Int
        var location: String?
        var html: String

        /// The value of the hidden field `name` (the form tokens).
        func hidden(_ name: String) -> String? {
            guard let range = html.range(of: #"name="\#(name)" value=""#) else { return nil }
            return String(html[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    func get(_ path: String) async throws -> Page { try await send(.GET, path, form: nil) }

    func post(_ path: String, _ form: [(String, String)]) async throws -> Page { try await send(.POST, path, form: form) }

    /// A form with files, as `multipart/form-data`.
    func post(_ path: String, _ form: [(String, String)], files: [MultipartBody.File]) async throws -> Page {
        try await send(.POST, path, form: nil, multipart: MultipartBody(fields: form, files: files))
    }

    func cookie(_ name: String) -> String? { cookies.withLock { $0[name] } }

    private func send(_ method: HTTPMethod, _ path: String, form: [(String, String)]?, multipart: MultipartBody? = nil) async throws -> Page {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        let jar = cookies.withLock { $0 }
        if !jar.isEmpty { request.headers.add(name: "Cookie", value: jar.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")) }
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
            request.body = .bytes(ByteBuffer(string: body))
        }
        if let multipart {
            request.headers.add(name: "Content-Type", value: multipart.contentType)
            request.body = .bytes(ByteBuffer(bytes: multipart.data))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        for header in response.headers["Set-Cookie"] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let (name, value) = (String(pair[0]), String(pair[1]))
            cookies.withLock { $0[name] = value.isEmpty ? nil : value }
        }
        let body = try await response.body.collect(upTo: 4 * 1024 * 1024)
        return Page(status: Int(response.status.code), location: response.headers.first(name: "Location"), html: String(buffer: body))
    }

    func close() async throws { cookies.withLock { $0 = [:] } }

    /// Signs in with the sign-in form's own token; the answer to the form.
    func signIn(_ login: String, _ password: String) async throws -> Page {
        let form = try await get("/sign-in")
        return try await post("/sign-in", [("formToken", form.hidden("formToken") ?? ""), ("login", login), ("password", password), ("next", "/")])
    }
}

/// The workbench with triage and intake beside it, in-process, on the test's database and topics.
final class WorkbenchFixture: Sendable {
    let store: TestDatabase
    let clock: ServiceClock
    let haizhu = DistrictCode(rawValue: "haizhu")!
    let tianhe = DistrictCode(rawValue: "tianhe")!
    private let apps = Mutex<[(ServiceApp, Task<Void, any Error>)]>([])
    let base: String
    let intake: String
    let assignment: String
    let supervision: String
    let kafka: KafkaConfiguration

    /// `services`: intake, triage and assignment beside the workbench (the sign-in tests need none);
    /// `handling`: supervision and publicity too (the units' desk and the inbox).
    /// `publicity`: publicity's settings beside the defaults (a mail server).
    init(services: Bool = true, handling: Bool = false, publicity publicityEnvironment: [String: String] = [:]) async throws {
        let database = try await TestDatabase()
        store = database
        let kafka = try TestEnvironment.kafka()
        try TestEnvironment.createTopics(kafka)
        func configuration(_ service: ServiceName, _ environment: [String: String] = [:]) -> ServiceConfiguration {
            ServiceConfiguration(
                service: service, instanceID: service.rawValue, httpPort: 0, database: database.configuration, kafka: kafka,
                logLevel: .warning, tokenSecret: TestEnvironment.tokenSecret, environment: environment)
        }
        var started: [(ServiceApp, Task<Void, any Error>)] = []
        func start(_ app: ServiceApp) async -> String {
            let task = Task { try await app.run() }
            started.append((app, task))
            return "http://127.0.0.1:\(await app.listeningPort() ?? 0)"
        }
        // Without services, their addresses are a port nothing listens on, as when one is down.
        let nowhere = "http://127.0.0.1:\(try TestEnvironment.freePort())"
        let intakeBase =
            services ? await start(try ServiceApp(IntakeService.definition, configuration: configuration(.intake), handleSignals: false)) : nowhere
        let triage =
            services ? await start(try ServiceApp(TriageService.definition, configuration: configuration(.triage), handleSignals: false)) : nowhere
        let assignment =
            services
            ? await start(try ServiceApp(AssignmentService.definition, configuration: configuration(.assignment), handleSignals: false)) : nowhere
        let supervision =
            handling
            ? await start(try ServiceApp(SupervisionService.definition, configuration: configuration(.supervision), handleSignals: false)) : nowhere
        let publicity =
            handling
            ? await start(
                try ServiceApp(PublicityService.definition, configuration: configuration(.publicity, publicityEnvironment), handleSignals: false))
            : nowhere
        let clock = ServiceClock()
        let workbench = await start(
            try ServiceApp(
                WorkbenchService.definition(clock: clock),
                configuration: configuration(
                    .workbench,
                    [
                        "WORKBENCH_TRIAGE_URL": triage, "WORKBENCH_INTAKE_URL": intakeBase, "WORKBENCH_ASSIGNMENT_URL": assignment,
                        "WORKBENCH_SUPERVISION_URL": supervision, "WORKBENCH_PUBLICITY_URL": publicity,
                    ]), handleSignals: false))
        self.clock = clock
        self.kafka = kafka
        self.assignment = assignment
        self.supervision = supervision
        intake = intakeBase
        base = workbench
        apps.withLock { $0 = started }
    }

    func stop() async throws {
        let running = apps.withLock { $0 }
        for (app, _) in running.reversed() { await app.shutdown() }
        for (_, task) in running { try await task.value }
    }

    /// An account with a password of the test's choosing; `ready`: its first password already changed.
    func account(
        _ login: String, _ role: StaffClaims.Role, district: DistrictCode? = nil, unit: UUID? = nil, ready: Bool = true
    ) async throws -> (Account, String) {
        let password = "Kennwort-\(login)-\(Int.random(in: 1000...9999))"
        let (account, _) = try await AccountRepository(database: store.database).create(
            NewAccount(district: district ?? haizhu, login: login, displayName: "测试\(login)", role: role, unitID: unit), by: "test", address: nil,
            now: clock.now, password: password)
        if ready {
            try await store.execute("UPDATE accounts SET must_change_password = false WHERE id = \(account.id)", scope: .district(account.district))
        }
        return (account, password)
    }

    func audit(_ action: String) async throws -> Int {
        try await store.integer("SELECT count(*)::int FROM audit_log WHERE action = \(action)")
    }
}

extension HeavySuites {
    /// One at a time: each starts four services of its own, and the whole suite runs beside the rest.
    @Suite(.serialized, .timeLimit(.minutes(3)))
    struct WorkbenchTests {
        @Test func aFirstPasswordIsChangedAtFirstSignInAndSigningOutEndsTheSessionAndItsTokens() async throws {
            let fixture = try await WorkbenchFixture(services: false)
            let browser = FormBrowser(base: fixture.base)
            let (account, password) = try await fixture.account("clerk.wang", .clueHandler, ready: false)

            // The sign-in form's own token is required.
            #expect(try await browser.get("/").location == "/sign-in")
            _ = try await browser.get("/sign-in")
            let forged = try await browser.post("/sign-in", [("formToken", "forged"), ("login", account.login), ("password", password)])
            #expect(forged.status == 403)
            #expect(try await fixture.audit("signed-in") == 0)

            let signedIn = try await browser.signIn(account.login, password)
            #expect(signedIn.status == 303 && signedIn.location == "/password", "a first password must be changed: \(signedIn.status)")
            let cookie = try #require(browser.cookie("workbench_session"))
            #expect(
                try await fixture.store.integer("SELECT count(*)::int FROM workbench_sessions WHERE secret_hash = \(Data(cookie.utf8))") == 0,
                "only the secret's hash is stored")
            #expect(try await browser.get("/clues").location == "/password", "no other page until then")

            let form = try await browser.get("/password")
            let csrf = try #require(form.hidden("csrf"))
            let noToken = try await browser.post(
                "/password", [("current", password), ("new", "Haizhu-Pilot-2026!"), ("repeat", "Haizhu-Pilot-2026!")])
            #expect(noToken.status == 403 && noToken.html.contains("表单令牌"))
            for (new, problem) in [("short", "至少"), ("clerk.wang-2026!", "登录名"), ("qwertyuiop123", "常见"), ("aaaaaaaaaaaa", "重复")] {
                let refused = try await browser.post("/password", [("csrf", csrf), ("current", password), ("new", new), ("repeat", new)])
                #expect(refused.status == 422 && refused.html.contains(problem), "\(new): \(refused.status)")
            }
            let wrongCurrent = try await browser.post(
                "/password", [("csrf", csrf), ("current", "nope"), ("new", "Haizhu-Pilot-2026!"), ("repeat", "Haizhu-Pilot-2026!")])
            #expect(wrongCurrent.status == 422 && wrongCurrent.html.contains("当前密码不正确"))
            let changed = try await browser.post(
                "/password", [("csrf", csrf), ("current", password), ("new", "Haizhu-Pilot-2026!"), ("repeat", "Haizhu-Pilot-2026!")])
            #expect(changed.status == 303)
            let home = try await browser.get("/")
            #expect(
                home.status == 200 && home.html.contains("测试clerk.wang") && home.html.contains("暂时没有回应"),
                "the home page opens though triage does not answer: \(home.status)")
            #expect(!home.html.contains(password), "no password on any page")

            // Signing out ends the session and revokes the tokens minted for it.
            let session = try #require(
                try await fixture.store.database.transaction(.allDistricts) { transaction -> UUID? in
                    for try await id in try await transaction.query("SELECT id FROM workbench_sessions WHERE ended_at IS NULL").decode(UUID.self) {
                        return id
                    }
                    return nil
                })
            #expect(try await browser.post("/sign-out", [("csrf", "forged")]).status == 403, "a sign-out needs the form token too")
            let out = try await browser.post("/sign-out", [("csrf", csrf)])
            #expect(out.status == 303 && out.location == "/sign-in")
            #expect(try await browser.get("/").location == "/sign-in")
            #expect(
                try await fixture.store.integer(
                    "SELECT count(*)::int FROM revoked_tokens WHERE token_id = \(session.uuidString.lowercased())", scope: .none) == 1)
            for action in ["signed-in", "password-changed", "signed-out"] {
                #expect(try await fixture.audit(action) == 1, "\(action) in the audit trail")
            }
            #expect(
                try await fixture.store.integer("SELECT count(*)::int FROM audit_log WHERE before::text LIKE '%$2b$%' OR after::text LIKE '%$2b$%'")
                    == 0)
            try await browser.close()
            try await fixture.stop()
        }

        @Test func theSixthWrongPasswordLocksTheAccountAndAnIdleSessionGoesBackToSignIn() async throws {
            let fixture = try await WorkbenchFixture(services: false)
            let browser = FormBrowser(base: fixture.base)
            let (account, password) = try await fixture.account("committee.li", .proposalsCommittee)
            for attempt in 1...5 {
                let wrong = try await browser.signIn(account.login, "wrong-password-\(attempt)")
                #expect(wrong.status == 401 && wrong.html.contains("登录名或密码不正确"), "attempt \(attempt)")
            }
            let sixth = try await browser.signIn(account.login, "wrong-password-6")
            #expect(sixth.status == 429 && sixth.html.contains("锁定"))
            let right = try await browser.signIn(account.login, password)
            #expect(right.status == 429, "locked even with the right password")
            #expect(try await fixture.audit("account-locked") == 1)
            #expect(try await fixture.audit("sign-in-failed") == 5)
            let unknown = try await browser.signIn("nobody.here", "whatever-it-is")
            #expect(unknown.status == 401 && unknown.html.contains("登录名或密码不正确"), "an unknown login reads the same")

            // After the lock, in again; then 31 idle minutes end the session.
            fixture.clock.advance(by: 16 * 60)
            #expect(try await browser.signIn(account.login, password).location == "/")
            #expect(try await browser.get("/password").status == 200)
            fixture.clock.advance(by: 31 * 60)
            #expect(try await browser.get("/password").location?.hasPrefix("/sign-in") == true)
            #expect(
                try await fixture.store.integer("SELECT count(*)::int FROM workbench_sessions WHERE end_reason = 'idle'", scope: .allDistricts) == 1)
            try await browser.close()
            try await fixture.stop()
        }

        @Test func anAdministratorAddsAClueHandlerWhoSeesHerDistrictOnly() async throws {
            let fixture = try await WorkbenchFixture()
            let admin = FormBrowser(base: fixture.base)
            let (administrator, password) = try await fixture.account("admin.haizhu", .administrator)
            #expect(try await admin.signIn(administrator.login, password).location == "/")
            let page = try await admin.get("/admin/accounts")
            let csrf = try #require(page.hidden("csrf"))
            let invalid = try await admin.post("/admin/accounts", [("csrf", csrf), ("login", "X"), ("displayName", "张三"), ("role", "clue-handler")])
            #expect(invalid.status == 422 && invalid.html.contains("登录名") && invalid.html.contains("张三"), "the field named, the form kept")
            let created = try await admin.post(
                "/admin/accounts", [("csrf", csrf), ("login", "clerk.zhang"), ("displayName", "张三"), ("role", "clue-handler")])
            #expect(created.status == 201)
            let oneTime = try #require(
                created.html.range(of: #"<p class="secret">"#).map { String(created.html[$0.upperBound...].prefix { $0 != "<" }) })
            #expect(oneTime.count == 16)
            #expect(
                try await admin.post("/admin/accounts", [("csrf", csrf), ("login", "clerk.zhang"), ("displayName", "李四"), ("role", "clue-handler")])
                    .status == 409)

            // The new clue handler signs in with it, must change it, and then works in Haizhu.
            let clerk = FormBrowser(base: fixture.base)
            #expect(try await clerk.signIn("clerk.zhang", oneTime).location == "/password")
            let form = try await clerk.get("/password")
            let clerkToken = try #require(form.hidden("csrf"))
            #expect(
                try await clerk.post(
                    "/password", [("csrf", clerkToken), ("current", oneTime), ("new", "Shayuan-Street-88"), ("repeat", "Shayuan-Street-88")]
                ).status == 303)

            let studio = try StaffTokenSigner(secret: TestEnvironment.tokenSecret).token(
                for: StaffClaims(
                    subject: "studio-1", role: .memberStudio, district: fixture.haizhu, expiresAt: Date().addingTimeInterval(600)))
            let submitted = try await sendHTTP(
                "POST", fixture.intake + "/v1/clues",
                body: try JSONSerialization.data(withJSONObject: [
                    "district": "haizhu", "title": "电动自行车楼道充电", "situationAnalysis": "老旧小区居民在楼道内为电动自行车充电，存在火灾隐患。",
                    "specificSuggestions": "建设集中充电桩。", "channel": "staff-entry", "sourceCategory": "street-studio", "consentToPublish": true,
                    "anonymous": true, "receiver": ["kind": "studio", "name": "沙园工作室"],
                ]), contentType: "application/json", headers: ["Authorization": "Bearer \(studio)"])
            let clue = try #require(submitted.json["clueId"] as? String)
            #expect(
                await eventually(timeout: .seconds(60)) {
                    (try? await fixture.store.integer("SELECT count(*)::int FROM triage_clues WHERE clue_id = \(UUID(uuidString: clue)!)")) == 1
                })
            // A second, unrelated clue: its group merged into the first's, then split out again.
            let second = try await sendHTTP(
                "POST", fixture.intake + "/v1/clues",
                body: try JSONSerialization.data(withJSONObject: [
                    "district": "haizhu", "title": "长者饭堂排队久", "situationAnalysis": "港海社区长者饭堂午餐时段排队超过半小时。",
                    "specificSuggestions": "增加供餐窗口。", "channel": "staff-entry", "sourceCategory": "street-studio", "consentToPublish": true,
                    "anonymous": true, "receiver": ["kind": "studio", "name": "沙园工作室"],
                ]), contentType: "application/json", headers: ["Authorization": "Bearer \(studio)"])
            let secondClue = try #require((second.json["clueId"] as? String).flatMap(UUID.init(uuidString:)))
            func group(of clue: UUID) async throws -> String? {
                try await fixture.store.database.transaction(.allDistricts) { transaction in
                    for try await id in try await transaction.query("SELECT group_id::text FROM triage_clues WHERE clue_id = \(clue)").decode(
                        String?.self)
                    {
                        return id
                    }
                    return nil
                }
            }
            #expect(await eventually(timeout: .seconds(60)) { ((try? await group(of: secondClue)) ?? nil) != nil })
            let firstGroup = try #require(try await group(of: UUID(uuidString: clue)!))
            let secondGroup = try #require(try await group(of: secondClue))
            #expect(firstGroup != secondGroup)
            let merged = try await clerk.post("/groups/\(firstGroup)/merge", [("csrf", clerkToken), ("groupIds", secondGroup), ("note", "同一议题")])
            #expect(merged.status == 303, "\(merged.status) \(merged.html.prefix(300))")
            #expect(try await group(of: secondClue) == firstGroup)
            let split = try await clerk.post(
                "/groups/\(firstGroup)/split", [("csrf", clerkToken), ("clueIds", secondClue.uuidString), ("note", "并非同一议题")])
            #expect(split.status == 303)
            #expect(try await group(of: secondClue) != firstGroup)

            let queue = try await clerk.get("/clues?status=awaiting-review")
            #expect(queue.status == 200 && queue.html.contains("电动自行车楼道充电"))
            let cluePage = try await clerk.get("/clues/\(clue)")
            #expect(cluePage.status == 200 && cluePage.html.contains("<mark>"), "the rules' phrases are marked")
            let missingRoute = try await clerk.post("/clues/\(clue)/decision", [("csrf", clerkToken), ("note", "先看看")])
            #expect(missingRoute.status == 422 && missingRoute.html.contains("去向") && missingRoute.html.contains("先看看"))
            let routed = try await clerk.post("/clues/\(clue)/decision", [("csrf", clerkToken), ("route", "reference-topic")])
            #expect(routed.status == 303)
            #expect(
                try await fixture.store.integer(
                    """
                    SELECT count(*)::int FROM audit_log
                    WHERE service = 'triage' AND actor = 'clerk.zhang' AND action = 'clues-routed' AND address LIKE '% via %'
                    """) == 1, "triage records the change, in its transaction, with the browser's address the workbench passed on")
            await #expect(throws: (any Error).self, "the audit trail is append-only") {
                try await fixture.store.execute("DELETE FROM audit_log", scope: .district(fixture.haizhu))
            }
            await #expect(throws: (any Error).self) {
                try await fixture.store.execute("UPDATE audit_log SET actor = 'someone-else'", scope: .district(fixture.haizhu))
            }

            // Another district's clue handler finds nothing of it.
            let (elsewhere, otherPassword) = try await fixture.account("clerk.tianhe", .clueHandler, district: fixture.tianhe)
            let other = FormBrowser(base: fixture.base)
            #expect(try await other.signIn(elsewhere.login, otherPassword).location == "/")
            #expect(try await other.get("/clues/\(clue)").status == 404)
            #expect(!(try await other.get("/clues").html.contains("电动自行车楼道充电")))
            #expect(try await other.get("/admin/accounts").status == 403, "a clue handler administers nothing")

            // Every account change is in the audit trail, with before and after where it changed.
            let audit = try await admin.get("/admin/audit?action=account-created")
            #expect(audit.status == 200 && audit.html.contains("clerk.zhang"))
            let csv = try await admin.get("/admin/audit?format=csv")
            #expect(csv.status == 200 && csv.html.contains("password-changed"))
            for browser in [admin, clerk, other] { try await browser.close() }
            try await fixture.stop()
        }

        @Test func anAdministratorKeepsTheDistrictsSettingsRulesAndUnits() async throws {
            let fixture = try await WorkbenchFixture()
            let admin = FormBrowser(base: fixture.base)
            let (administrator, password) = try await fixture.account("admin.haizhu", .administrator)
            #expect(try await admin.signIn(administrator.login, password).location == "/")
            let csrf = try #require(try await admin.get("/admin/settings").hidden("csrf"))

            // Assignment settings: a bad value is named and nothing changes; a good one is saved with before and after.
            let settings = try await admin.get("/admin/settings/assignment")
            #expect(settings.status == 200 && settings.html.contains("contestWindow"), "\(settings.status)")
            let bad = try await admin.post("/admin/settings/assignment", [("csrf", csrf), ("text", #"{"contestWindow": {"workingDays": 99}}"#)])
            #expect(bad.status == 422 && bad.html.contains("contestWindow.workingDays"), "\(bad.status)")
            let notJSON = try await admin.post("/admin/settings/assignment", [("csrf", csrf), ("text", "{not json")])
            #expect(notJSON.status == 422 && notJSON.html.contains("{not json"), "the text is kept as typed")
            let good = try await admin.post("/admin/settings/assignment", [("csrf", csrf), ("text", #"{"contestWindow": {"workingDays": 7}}"#)])
            #expect(good.status == 200 && good.html.contains("已保存"))
            #expect(
                try await fixture.store.integer(
                    """
                    SELECT count(*)::int FROM audit_log WHERE service = 'assignment' AND action = 'settings-saved' AND actor = 'admin.haizhu'
                      AND before IS NOT NULL AND after->'contestWindow'->>'workingDays' = '7'
                    """) == 1)

            // Triage's district settings, the same way.
            #expect(try await admin.get("/admin/settings/triage").html.contains("similarityThreshold"))
            let tooLoose = try await admin.post("/admin/settings/triage", [("csrf", csrf), ("text", #"{"similarityThreshold": 2}"#)])
            #expect(tooLoose.status == 422 && tooLoose.html.contains("similarityThreshold"))
            let fastTrack = try await admin.post("/admin/settings/triage", [("csrf", csrf), ("text", #"{"fastTrackReviewDays": 3}"#)])
            #expect(fastTrack.status == 200 && fastTrack.html.contains("已保存"))
            #expect(try await fixture.store.integer("SELECT fast_track_review_days FROM districts WHERE code = 'haizhu'", scope: .none) == 3)
            #expect(
                try await fixture.store.integer(
                    """
                    SELECT count(*)::int FROM audit_log WHERE service = 'triage' AND object_type = 'triage-settings'
                      AND (before->>'fastTrackReviewDays')::int = 5 AND (after->>'fastTrackReviewDays')::int = 3
                    """) == 1)

            // Classification rules: every problem listed, a sample tried before saving, versions compared.
            let rules = try await admin.get("/admin/rules")
            #expect(rules.status == 200)
            let current = try #require(rules.html.range(of: "spellcheck=\"false\"").map { _ in rules.html })
            let definition = try #require(
                current.components(separatedBy: "spellcheck=\"false\" style=\"font-family:ui-monospace,monospace;font-size:.9rem\">").dropFirst()
                    .first?
                    .components(separatedBy: "</textarea>").first)
            let unescaped = definition.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
            // Two mistakes in match expressions: both are listed, by rule and position.
            let brokenText = unescaped.replacingOccurrences(of: #""match" : "公交 | "#, with: #""match" : "公交 | ( | "#)
                .replacingOccurrences(of: #""match" : "学校"#, with: #""match" : "& 学校"#)
            let broken = try await admin.post("/admin/rules", [("csrf", csrf), ("text", brokenText), ("basedOn", "0")])
            #expect(
                broken.status == 422 && broken.html.contains("transport") && broken.html.components(separatedBy: "<li>").count >= 2,
                "\(broken.status)")
            #expect(try await fixture.audit("rules-saved") == 0, "nothing saved")
            let tried = try await admin.post(
                "/admin/rules/try",
                [
                    ("csrf", csrf), ("text", unescaped), ("basedOn", "0"),
                    ("sampleTitle", "楼道电动自行车充电"), ("sampleText", "存在火灾隐患"),
                ])
            #expect(tried.status == 200 && tried.html.contains("试分类结果") && tried.html.contains("火灾"), "\(tried.status)")
            let saved = try await admin.post("/admin/rules", [("csrf", csrf), ("text", unescaped), ("note", "同内置规则"), ("basedOn", "0")])
            #expect(saved.status == 200 && saved.html.contains("已保存为新版本"), "\(saved.status)")
            let compared = try await admin.get("/admin/rules/versions?compare=0,1")
            #expect(compared.status == 200 && compared.html.contains("第 0 版 → 第 1 版"))
            #expect(try await fixture.audit("rules-saved") == 1)

            // Units: added, then an edit from a stale version is refused with the reason.
            let added = try await admin.post(
                "/admin/units", [("csrf", csrf), ("code", "transport"), ("name", "区交通运输局"), ("kind", "district-department")])
            #expect(added.status == 200 && added.html.contains("已保存：区交通运输局"), "\(added.status)")
            let unit = try #require(
                try await fixture.store.database.transaction(.district(fixture.haizhu)) { transaction -> UUID? in
                    for try await id in try await transaction.query("SELECT id FROM handling_units WHERE code = 'transport'").decode(UUID.self) {
                        return id
                    }
                    return nil
                })
            let edit: [(String, String)] = [
                ("csrf", csrf), ("id", unit.uuidString), ("code", "transport"), ("name", "区交通局"),
                ("kind", "district-department"), ("active", "on"),
            ]
            #expect(try await admin.post("/admin/units", edit + [("basedOn", "1")]).status == 200)
            let stale = try await admin.post("/admin/units", edit + [("basedOn", "1")])
            #expect(stale.status == 409 && stale.html.contains("version"), "\(stale.status)")
            #expect(try await fixture.audit("unit-changed") == 1)
            try await fixture.stop()
        }
    }
}
