import Foundation
import Models
import ServiceKit
import TestSupport
import Testing

extension HeavySuites {
    /// Handling in a real browser, as its people click through it: the committee assigns a filed
    /// proposal to a lead and a co-unit; the co-unit gives its opinion; the lead unit records its
    /// three meetings and replies from a reply template with a PDF attached; the proposer opens the
    /// link e-mailed to them and is dissatisfied; the unit finds the part reopened in its inbox,
    /// asks for more time, and is told of the committee's decision. Screenshots go to
    /// Tests/screenshots/handling (git-ignored).
    @Suite(.timeLimit(.minutes(4)))
    struct HandlingBrowserTests {
        func signIn(_ browser: WebDriver, _ base: String, _ login: String, _ password: String) async throws {
            try await browser.deleteCookies()
            try await browser.open(base + "/sign-in")
            try await browser.type(login, into: "#login")
            try await browser.type(password, into: "#password")
            try await browser.clickAndWait("form[action='/sign-in'] button")
        }

        func unit(_ fixture: WorkbenchFixture, _ code: String, _ name: String) async throws -> UUID {
            let committee = try StaffTokenSigner(secret: TestEnvironment.tokenSecret).token(
                for: StaffClaims(
                    subject: "committee-1", role: .proposalsCommittee, district: fixture.haizhu, expiresAt: Date().addingTimeInterval(3600)))
            let made = try await sendHTTP(
                "POST", fixture.assignment + "/v1/assignment/units",
                body: try JSONSerialization.data(withJSONObject: [
                    "code": code, "name": name, "kind": "district-department", "contacts": [["name": "联络员", "phone": "020-12345678"]],
                ]), contentType: "application/json", headers: ["Authorization": "Bearer \(committee)"])
            return try #require((made.json["id"] as? String).flatMap(UUID.init(uuidString:)), "\(made.status) \(made.text)")
        }

        @Test func fromAssignmentToADissatisfiedProposerAndAnExtension() async throws {
            let smtp = try await SMTPServer()
            defer { smtp.stop() }
            let fixture = try await WorkbenchFixture(
                handling: true,
                publicity: [
                    "PUBLICITY_SMTP_HOST": "127.0.0.1", "PUBLICITY_SMTP_PORT": String(smtp.port), "PUBLICITY_SMTP_SECURITY": "none",
                    "PUBLICITY_WORKBENCH_URL": "https://workbench.example",
                ])
            let base = fixture.base
            let browser = try await WebDriver(screenshots: "Tests/screenshots/handling")
            defer { Task { await browser.quit() } }
            let today = LocalDate.on(Date(), in: .chinaTime)
            let fire = try await unit(fixture, "fire", "区消防救援大队")
            let street = try await unit(fixture, "nanhua", "南华西街道办事处")
            let (proposal, _) = try await fileProposal(
                store: fixture.store, kafka: fixture.kafka, title: "规范电动自行车充电",
                text: "建设集中充电桩", domain: "public-safety", number: 41)
            let (_, committeePassword) = try await fixture.account("committee.li", .proposalsCommittee)
            let (_, leadPassword) = try await fixture.account("fire.clerk", .handlingUnit, unit: fire)
            let (_, coPassword) = try await fixture.account("street.clerk", .handlingUnit, unit: street)
            // The proposal's drafter, the proposer, with an address.
            let (member, _) = try await fixture.account("member-1", .member)
            try await fixture.store.execute(
                "UPDATE accounts SET email = 'li.ming@members.example' WHERE id = \(member.id)", scope: .district(fixture.haizhu))
            #expect(
                try await eventually(timeout: .seconds(60)) {
                    try await fixture.store.integer("SELECT count(*)::int FROM assignment_cases WHERE proposal_id = \(proposal)") == 1
                })
            let proposalPath = proposal.uuidString.lowercased()

            // The committee assigns: the lead and a co-unit.
            try await signIn(browser, base, "committee.li", committeePassword)
            try await browser.open(base + "/assignment/proposals/\(proposalPath)")
            try await browser.choose(fire.uuidString, in: "#lead")
            try await browser.choose(street.uuidString, in: "#coUnits")
            try await browser.type("请按期办理，注意与街道配合", into: "#notes")
            try await browser.screenshot("01-committee-assigns")
            try await browser.clickAndWait("form[action$='/assign'] button[type=submit]")
            #expect(
                try await eventually(timeout: .seconds(60)) {
                    try await fixture.store.integer("SELECT count(*)::int FROM supervised_assignments WHERE proposal_id = \(proposal)") == 2
                }, "supervision tracks both parts")
            let leadPart = try #require(
                try await fixture.store.string(
                    "SELECT assignment_id::text FROM supervised_assignments WHERE proposal_id = \(proposal) AND role = 'lead'"))
            let coPart = try #require(
                try await fixture.store.string(
                    "SELECT assignment_id::text FROM supervised_assignments WHERE proposal_id = \(proposal) AND role = 'co-handling'"))
            // And keeps a district reply template.
            try await browser.open(base + "/templates")
            try await browser.type("标准答复函", into: "#name")
            try await browser.type("关于《{标题}》（案号 {案号}）的答复\n{承办单位}经研究，分两期建设集中充电桩。", into: "#body")
            try await browser.clickAndWait("form[action='/templates'] button")
            try await browser.screenshot("02-committee-templates")

            // The co-unit finds the assignment in its inbox and gives its opinion.
            try await signIn(browser, base, "street.clerk", coPassword)
            #expect(
                try await eventually(timeout: .seconds(30)) {
                    try await browser.open(base + "/inbox")
                    return try await browser.text.contains("新交办")
                }, "the co-unit is told")
            try await browser.clickAndWait("form[action$='/open'] button")
            #expect(try await browser.currentURL.hasSuffix("/unit/assignments/\(coPart)"))
            try await browser.type("街道负责充电桩选址协调，已摸排可用场地 6 处。", into: "#opinion")
            try await browser.clickAndWait("form[action$='/opinion'] button")
            try await browser.screenshot("03-co-unit-opinion")

            // The lead unit: three meetings, then the reply from the template with a PDF.
            try await signIn(browser, base, "fire.clerk", leadPassword)
            try await browser.open(base + "/unit/assignments/\(leadPart)")
            #expect(try await browser.text.contains("已摸排可用场地 6 处"), "the lead reads the co-unit's opinion")
            for (stage, summary) in [("before", "了解诉求"), ("during", "通报进展"), ("after", "征求意见")] {
                try await browser.openSections()
                try await browser.choose(stage, in: "#stage")
                try await browser.setDate(today.description, in: "#heldOn")
                try await browser.type("座谈", into: "#form")
                try await browser.type("王小明、消防大队李科长", into: "#attendees")
                try await browser.type(summary, into: "#summary")
                try await browser.clickAndWait("form[action$='/meetings'] button")
            }
            let meetings = try await browser.text
            #expect(meetings.contains("办前见面") && meetings.contains("办中见面") && meetings.contains("办后见面"))
            try await browser.clickAndWait("form[action$='#reply-form'] button")
            let started = try await browser.script("return document.querySelector('#reply').value") as? String ?? ""
            #expect(started.contains("关于《规范电动自行车充电》") && started.contains("区消防救援大队经研究"), "the template, filled: \(started)")
            try await browser.choose("B", in: "#category")
            try await browser.setDate(today.adding(days: 180).description, in: "#promisedDate")
            let pdf = FileManager.default.temporaryDirectory.appendingPathComponent("答复函-\(UUID().uuidString.prefix(8)).pdf")
            try Data("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".utf8).write(to: pdf)
            defer { try? FileManager.default.removeItem(at: pdf) }
            try await browser.attach(pdf, to: "#attachments")
            try await browser.screenshot("04-lead-reply-form")
            try await browser.clickAndWait("#reply-form button[type=submit]")
            let replied = try await browser.text
            #expect(replied.contains("B 类") && replied.contains(pdf.lastPathComponent), "the reply and its attachment are shown")
            try await browser.screenshot("05-lead-replied")

            // The committee issues the proposer's link; it goes to the proposer by e-mail.
            try await signIn(browser, base, "committee.li", committeePassword)
            try await browser.open(base + "/supervision/assignments/\(leadPart)")
            try await browser.clickAndWait("form[action$='/evaluation-link'] button")
            try await browser.screenshot("06-committee-link-issued")
            var mailed: String?
            #expect(
                try await eventually(timeout: .seconds(30)) {
                    mailed = try smtp.messages().first { $0.recipients == ["li.ming@members.example"] && $0.text.contains("/evaluate/") }?.text
                    return mailed != nil
                }, "the proposer is e-mailed the link")
            let link = try #require(mailed?.firstMatch(of: /https:\/\/workbench\.example(\/evaluate\/[A-Za-z0-9_-]+)/).map { String($0.1) })

            // The proposer, signed in as nobody, opens it and is dissatisfied with the lead's reply.
            try await browser.deleteCookies()
            try await browser.open(base + link)
            #expect(try await browser.text.contains("已摸排可用场地 6 处"), "the co-unit's opinion is shown too")
            try await browser.click("form[action$='/\(leadPart.lowercased())'] input[value='dissatisfied']")
            try await browser.type("充电桩太少，离小区太远", into: "#comment-\(leadPart.lowercased())")
            try await browser.screenshot("07-proposer-evaluates")
            try await browser.clickAndWait("form[action$='/\(leadPart.lowercased())'] button")
            #expect(try await browser.text.contains("您的评价已收到"))

            // The lead unit finds the part reopened, asks for more time, and is told the decision.
            try await signIn(browser, base, "fire.clerk", leadPassword)
            #expect(
                try await eventually(timeout: .seconds(30)) {
                    try await browser.open(base + "/inbox")
                    return try await browser.text.contains("不满意，请重新办理")
                }, "the unit is told the part is reopened")
            try await browser.screenshot("08-lead-inbox-reopened")
            try await browser.open(base + "/unit/assignments/\(leadPart)")
            let newDeadline = try #require(
                try await fixture.store.string(
                    "SELECT to_char(deadline, 'YYYY-MM-DD') FROM supervised_assignments WHERE assignment_id = \(leadPart)::uuid"
                ).flatMap(LocalDate.init))
            try await browser.openSections()
            try await browser.setDate(newDeadline.adding(days: 15).description, in: "form[action$='/extension'] #deadline")
            try await browser.type("需协调供电部门增容", into: "#extensionReason")
            try await browser.clickAndWait("form[action$='/extension'] button")

            try await signIn(browser, base, "committee.li", committeePassword)
            #expect(
                try await eventually(timeout: .seconds(30)) {
                    try await browser.open(base + "/supervision/extensions")
                    return try await browser.text.contains("需协调供电部门增容")
                })
            try await browser.type("同意延期", into: "textarea[name=note]")
            try await browser.screenshot("09-committee-extension")
            try await browser.clickAndWait("button[value=granted]")

            try await signIn(browser, base, "fire.clerk", leadPassword)
            #expect(
                try await eventually(timeout: .seconds(30)) {
                    try await browser.open(base + "/inbox")
                    return try await browser.text.contains("延期申请已同意")
                }, "the unit is told of the decision")
            try await browser.screenshot("10-lead-told-extension")
            // Awaited here: the deferred quit may not run before the test process ends, and chromedriver was left behind.
            await browser.quit()
            try await fixture.stop()
        }
    }
}
