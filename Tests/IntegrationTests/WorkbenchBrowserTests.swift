import Foundation
import Models
import ServiceKit
import Storage
import TestSupport
import Testing

extension HeavySuites {
    /// The workbench in a real browser (chromedriver and headless Chromium), clicked and typed
    /// through as each role of the first workbench issue does its main task: from an administrator
    /// adding a clue handler to a filed proposal in the assignment queue. Screenshots of every page
    /// go to Tests/screenshots/workbench (git-ignored).
    @Suite(.timeLimit(.minutes(4)))
    struct WorkbenchBrowserTests {
        func signIn(_ browser: WebDriver, _ base: String, _ login: String, _ password: String) async throws {
            try await browser.open(base + "/sign-in")
            try await browser.type(login, into: "#login")
            try await browser.type(password, into: "#password")
            try await browser.clickAndWait("form[action='/sign-in'] button")
        }

        func signOut(_ browser: WebDriver) async throws {
            try await browser.clickAndWait("form[action='/sign-out'] button")
        }

        @Test func fromANewClueHandlerToAFiledProposalInTheAssignmentQueue() async throws {
            let fixture = try await WorkbenchFixture()
            let base = fixture.base
            let browser = try await WebDriver()
            defer { Task { await browser.quit() } }
            let (_, adminPassword) = try await fixture.account("admin.haizhu", .administrator)
            let (_, memberPassword) = try await fixture.account("member.chen", .member)
            let (_, committeePassword) = try await fixture.account("committee.li", .proposalsCommittee)

            // Three residents write about e-bikes charged in stairwells: one group of three voices.
            let studio = try StaffTokenSigner(secret: TestEnvironment.tokenSecret).token(
                for: StaffClaims(
                    subject: "studio-1", role: .memberStudio, district: fixture.haizhu, expiresAt: Date().addingTimeInterval(600)))
            var clues: [UUID] = []
            for (title, situation, suggestions) in [PilotClues.ebike, PilotClues.ebikeParaphrase, PilotClues.ebike] {
                let sent = try await sendHTTP(
                    "POST", fixture.intake + "/v1/clues",
                    body: try JSONSerialization.data(withJSONObject: [
                        "district": "haizhu", "title": title, "situationAnalysis": situation, "specificSuggestions": suggestions,
                        "channel": "staff-entry", "sourceCategory": "street-studio", "consentToPublish": true, "anonymous": true,
                        "receiver": ["kind": "studio", "name": "沙园工作室"],
                    ]), contentType: "application/json", headers: ["Authorization": "Bearer \(studio)"])
                clues.append(try #require((sent.json["clueId"] as? String).flatMap(UUID.init(uuidString:)), "\(sent.status) \(sent.text)"))
            }
            #expect(
                await eventually(timeout: .seconds(60)) {
                    (try? await fixture.store.integer(
                        "SELECT count(DISTINCT group_id)::int FROM triage_clues WHERE clue_id = ANY(\(clues)) AND group_id IS NOT NULL HAVING count(*) = 3"
                    )) == 1
                }, "triage grouped the three clues")

            // The administrator adds a clue handler; the page shows the one-time password once.
            try await signIn(browser, base, "admin.haizhu", adminPassword)
            try await browser.screenshot("01-home-administrator")
            try await browser.open(base + "/admin/accounts")
            try await browser.type("clerk.zhang", into: "#login")
            try await browser.type("张敏", into: "#displayName")
            try await browser.choose("clue-handler", in: "#role")
            try await browser.clickAndWait("form[action='/admin/accounts'] button")
            let oneTime = try #require(try await browser.script("return document.querySelector('.secret').innerText") as? String)
            #expect(oneTime.count == 16)
            try await browser.screenshot("02-account-created")
            for (path, name) in [
                ("/admin/settings", "02a-settings"), ("/admin/rules", "02b-rules"), ("/admin/units", "02c-units"),
                ("/admin/settings/assignment", "02d-assignment-settings"), ("/admin/calendar", "02e-calendar"),
                ("/admin/endpoints", "02f-endpoints"), ("/admin/audit", "02g-audit"),
            ] {
                try await browser.open(base + path)
                #expect(!(try await browser.text.contains("无法完成")), "\(path) opens")
                try await browser.screenshot(name)
            }
            try await signOut(browser)

            // The clue handler must choose her own password first.
            try await signIn(browser, base, "clerk.zhang", oneTime)
            #expect(try await browser.currentURL.hasSuffix("/password"))
            try await browser.screenshot("03-first-password")
            try await browser.type(oneTime, into: "#current")
            try await browser.type("Shayuan-Street-88", into: "#new")
            try await browser.type("Shayuan-Street-88", into: "#repeat")
            try await browser.clickAndWait("form[action='/password'] button")
            #expect(try await browser.text.contains("新密码已保存"))
            try await browser.screenshot("04-home-clue-handler")

            // A form without its token is refused and changes nothing.
            try await browser.open(base + "/groups")
            try await browser.screenshot("05-groups")
            try await browser.clickAndWait("main table a")
            let groupPage = try await browser.currentURL
            try await browser.screenshot("06-group")
            try await browser.script("document.querySelector('form[action$=\"/decision\"] input[name=csrf]').remove()")
            try await browser.choose("reference-topic", in: "#route")
            try await browser.clickAndWait("form[action$='/decision'] button")
            #expect(try await browser.text.contains("表单令牌"))
            #expect(try await fixture.store.integer("SELECT count(*)::int FROM reference_topics") == 0)

            // With it, the whole group becomes one reference topic.
            try await browser.open(groupPage)
            try await browser.choose("reference-topic", in: "#route")
            try await browser.type("楼道电动自行车充电安全", into: "#topicTitle")
            // Waits for the next page: a click returns once the form is sent, not when it is answered.
            try await browser.clickAndWait("form[action$='/decision'] button")
            #expect(try await fixture.store.integer("SELECT count(*)::int FROM reference_topics") == 1)
            try await browser.open(base + "/clues/\(clues[0])")
            try await browser.screenshot("07-clue-routed")
            try await browser.resize(width: 390, height: 844)
            try await browser.screenshot("08-clue-phone")
            try await browser.resize(width: 1280, height: 900)
            try await signOut(browser)

            // A member claims the topic, drafts and submits the proposal.
            try await signIn(browser, base, "member.chen", memberPassword)
            try await browser.open(base + "/topics")
            try await browser.screenshot("09-topics")
            try await browser.clickAndWait("form[action$='/claim'] button")
            try await browser.screenshot("10-claimed")
            try await browser.type("关于规范老旧小区电动自行车充电的提案", into: "#title")
            try await browser.type("老旧小区电动自行车楼道充电隐患突出", into: "#caseSummary")
            try await browser.type("居民在楼道内为电动自行车充电，存在火灾隐患，夜间尤其危险。", into: "#reasons")
            try await browser.type("建设集中充电桩，加强物业巡查。", into: "#suggestions")
            try await browser.screenshot("10-draft")
            try await browser.clickAndWait("form[action='/proposals'] button")
            try await browser.clickAndWait("form[action$='/submit'] button")
            #expect(try await browser.text.contains("待审查"))
            try await browser.screenshot("11-submitted")
            try await signOut(browser)

            // The committee files it; assignment takes it into its queue.
            try await signIn(browser, base, "committee.li", committeePassword)
            try await browser.open(base + "/reviews")
            try await browser.screenshot("12-reviews")
            try await browser.clickAndWait("main table a")
            try await browser.choose("file", in: "#decision")
            try await browser.clickAndWait("form[action$='/review'] button")
            #expect(try await browser.currentURL.hasSuffix("/reviews"))
            #expect(try await fixture.store.integer("SELECT count(*)::int FROM proposals WHERE status = 'filed'") == 1)
            #expect(
                await eventually(timeout: .seconds(60)) {
                    (try? await fixture.store.integer("SELECT count(*)::int FROM assignment_cases")) == 1
                }, "the filed proposal is in the assignment queue")
            try await signOut(browser)
            await browser.quit()
            try await fixture.stop()
        }
    }
}
