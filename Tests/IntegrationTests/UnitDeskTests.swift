import Foundation
import Models
import ServiceKit
import TestSupport
import Testing

extension HeavySuites {
    /// The handling units' desk and the inbox, as units use them through the workbench's forms:
    /// told of a new assignment, they open it from the inbox, record a meeting, the co-unit gives
    /// its opinion, the lead unit replies; refusals name the field and keep what was typed.
    @Suite(.serialized, .timeLimit(.minutes(3)))
    struct UnitDeskTests {
        func committee() throws -> String {
            try StaffTokenSigner(secret: TestEnvironment.tokenSecret).token(
                for: StaffClaims(
                    subject: "committee-1", role: .proposalsCommittee, district: DistrictCode(rawValue: "haizhu")!,
                    expiresAt: Date().addingTimeInterval(3600)))
        }

        func api(_ base: String, _ method: String, _ path: String, _ json: [String: Any]) async throws -> HTTPAnswer {
            try await sendHTTP(
                method, base + path, body: try JSONSerialization.data(withJSONObject: json), contentType: "application/json",
                headers: ["Authorization": "Bearer \(try committee())"])
        }

        func unit(_ fixture: WorkbenchFixture, _ code: String, _ name: String) async throws -> UUID {
            let made = try await api(
                fixture.assignment, "POST", "/v1/assignment/units",
                [
                    "code": code, "name": name, "kind": "district-department", "contacts": [["name": "联络员", "phone": "020-12345678"]],
                ])
            return try #require((made.json["id"] as? String).flatMap(UUID.init(uuidString:)), "\(made.status) \(made.text)")
        }

        @Test func aUnitIsToldOpensItsAssignmentRecordsAMeetingAndRepliesAfterItsCoUnit() async throws {
            let fixture = try await WorkbenchFixture(handling: true)
            // Dates from today, whatever today is (the suite also runs as if it were another year).
            let today = LocalDate.on(Date(), in: .chinaTime)
            let (metOn, promised) = (today.description, today.adding(days: 180).description)
            let fire = try await unit(fixture, "fire", "区消防救援大队")
            let street = try await unit(fixture, "nanhua", "南华西街道办事处")
            let (proposal, _) = try await fileProposal(
                store: fixture.store, kafka: fixture.kafka, title: "规范电动自行车充电",
                text: "建设集中充电桩", domain: "public-safety", number: 31)
            #expect(
                try await eventually(timeout: .seconds(60)) {
                    try await fixture.store.integer("SELECT count(*)::int FROM assignment_cases WHERE proposal_id = \(proposal)") == 1
                })
            // The committee assigns on the assignment desk: the queue, the suggestions, the form.
            let (committeeAccount, committeePassword) = try await fixture.account("committee.li", .proposalsCommittee)
            let committee = FormBrowser(base: fixture.base)
            _ = try await committee.signIn(committeeAccount.login, committeePassword)
            let queue = try await committee.get("/assignment")
            #expect(queue.status == 200 && queue.html.contains("规范电动自行车充电"))
            let casePage = try await committee.get("/assignment/proposals/\(proposal.uuidString.lowercased())")
            #expect(casePage.status == 200 && casePage.html.contains("区消防救援大队") && casePage.html.contains("交办说明"))
            let noLead = try await committee.post(
                "/assignment/proposals/\(proposal.uuidString.lowercased())/assign",
                [
                    ("csrf", casePage.hidden("csrf") ?? ""), ("lead", ""), ("notes", "请按期办理"),
                ])
            #expect(noLead.status == 422 && noLead.html.contains("主办单位") && noLead.html.contains("请按期办理"), "status \(noLead.status)")
            let assigned = try await committee.post(
                "/assignment/proposals/\(proposal.uuidString.lowercased())/assign",
                [
                    ("csrf", casePage.hidden("csrf") ?? ""), ("lead", fire.uuidString), ("coUnits", street.uuidString), ("notes", "请按期办理"),
                ])
            #expect(assigned.status == 303, "status \(assigned.status)")
            let assignedCase = try await committee.get("/assignment/proposals/\(proposal.uuidString.lowercased())")
            #expect(assignedCase.html.contains("交办情况") && assignedCase.html.contains("南华西街道办事处"), "the case page lists its assignments")
            #expect(
                try await eventually(timeout: .seconds(60)) {
                    try await fixture.store.integer(
                        "SELECT count(*)::int FROM staff_notices WHERE proposal_id = \(proposal) AND kind = \(ProposalAssigned.eventType)") == 2
                }, "publicity tells both units")
            // Supervision reads the same event on its own: it may come after publicity.
            #expect(
                try await eventually(timeout: .seconds(60)) {
                    try await fixture.store.integer("SELECT count(*)::int FROM supervised_assignments WHERE proposal_id = \(proposal)") == 2
                }, "supervision follows both assignments")
            let leadPart = try #require(
                try await fixture.store.string(
                    "SELECT assignment_id::text FROM supervised_assignments WHERE proposal_id = \(proposal) AND role = 'lead'"))
            let coPart = try #require(
                try await fixture.store.string(
                    "SELECT assignment_id::text FROM supervised_assignments WHERE proposal_id = \(proposal) AND role = 'co-handling'"))

            // A key proposal: its leader is told by name and follows it on the leader's page.
            let marked = try await api(fixture.assignment, "POST", "/v1/assignment/proposals/\(proposal)/key", ["supervisingLeader": "测试leader.wang"])
            #expect(marked.status == 200, "status \(marked.status) \(marked.text)")
            let (leaderAccount, leaderPassword) = try await fixture.account("leader.wang", .supervisingLeader)
            let leader = FormBrowser(base: fixture.base)
            _ = try await leader.signIn(leaderAccount.login, leaderPassword)
            #expect(
                try await eventually(timeout: .seconds(30)) {
                    try await leader.get("/inbox").html.contains("由您领衔督办")
                }, "the leader is told")
            #expect(
                try await eventually(timeout: .seconds(30)) {
                    let led = try await leader.get("/leader")
                    return led.status == 200 && led.html.contains("区消防救援大队") && led.html.contains("南华西街道办事处")
                }, "the leader's page lists both units' parts")
            #expect(try await leader.get("/unit/assignments").status == 403, "a leader has no unit desk")

            // The lead unit: the unread count on every page, the notice, its page.
            let (leadAccount, leadPassword) = try await fixture.account("fire.clerk", .handlingUnit, unit: fire)
            let lead = FormBrowser(base: fixture.base)
            _ = try await lead.signIn(leadAccount.login, leadPassword)
            let home = try await lead.get("/")
            #expect(home.html.contains("通知（1 条未读）"), "the count beside 通知")
            #expect(home.html.contains("未读通知") && home.html.contains("本单位的交办件"), "and on the home page, with the unit's assignments")
            let inbox = try await lead.get("/inbox")
            #expect(inbox.status == 200 && inbox.html.contains("新交办") && inbox.html.contains("HZ") && inbox.html.contains("主办"))
            let noticeID = try #require(inbox.html.firstMatch(of: /action="\/inbox\/([0-9a-fA-F-]{36})\/open"/).map { String($0.1) })
            let opened = try await lead.post("/inbox/\(noticeID)/open", [("csrf", inbox.hidden("csrf") ?? ""), ("link", inbox.hidden("link") ?? "")])
            #expect(opened.status == 303 && opened.location == "/unit/assignments/\(leadPart)")
            #expect(try await lead.get("/").html.contains("通知（1 条未读）") == false, "read once opened")
            // A notice never sends anyone off the site.
            let offsite = try await lead.post("/inbox/\(noticeID)/open", [("csrf", inbox.hidden("csrf") ?? ""), ("link", "https://evil.example/")])
            #expect(offsite.location == "/inbox")

            let list = try await lead.get("/unit/assignments")
            #expect(list.status == 200 && list.html.contains("规范电动自行车充电") && list.html.contains("主办") && list.html.contains("还有"))
            let page = try await lead.get("/unit/assignments/\(leadPart)")
            #expect(page.status == 200 && page.html.contains("三见面") && page.html.contains("没有协办单位意见"))
            let csrf = try #require(page.hidden("csrf"))

            // A meeting without its form is refused, naming the field and keeping what was typed.
            let missing = try await lead.post(
                "/unit/assignments/\(leadPart)/meetings",
                [
                    ("csrf", csrf), ("stage", "before"), ("heldOn", metOn), ("form", ""), ("attendees", "王小明、消防大队李科长"), ("summary", "了解诉求"),
                ])
            #expect(missing.status == 422 && missing.html.contains("方式") && missing.html.contains("王小明、消防大队李科长"), "status \(missing.status)")
            let met = try await lead.post(
                "/unit/assignments/\(leadPart)/meetings",
                [
                    ("csrf", csrf), ("stage", "before"), ("heldOn", metOn), ("form", "座谈"), ("attendees", "王小明、消防大队李科长"), ("summary", "了解诉求"),
                ])
            #expect(met.status == 303)
            #expect(try await lead.get("/unit/assignments/\(leadPart)").html.contains("办前见面"))

            // More time: the unit asks, the committee is told and decides, the unit is told.
            let deadline = try #require(
                try await fixture.store.string(
                    "SELECT to_char(deadline, 'YYYY-MM-DD') FROM supervised_assignments WHERE assignment_id = \(leadPart)::uuid"
                ).flatMap(LocalDate.init))
            let asked = try await lead.post(
                "/unit/assignments/\(leadPart)/extension",
                [
                    ("csrf", csrf), ("deadline", deadline.adding(days: 20).description), ("reason", "充电桩选址需街道配合"),
                ])
            #expect(asked.status == 303, "status \(asked.status)")
            #expect(
                try await eventually(timeout: .seconds(30)) {
                    try await committee.get("/inbox").html.contains("申请将提案")
                }, "the committee is told of the request")
            let board = try await committee.get("/supervision")
            #expect(board.status == 200 && board.html.contains("区消防救援大队") && board.html.contains("延期申请待决定 1 项"))
            let requests = try await committee.get("/supervision/extensions")
            let requestID = try #require(
                requests.html.firstMatch(of: /action="\/supervision\/extensions\/([0-9a-f-]{36})\/decision"/).map { String($0.1) })
            let decided = try await committee.post(
                "/supervision/extensions/\(requestID)/decision",
                [
                    ("csrf", requests.hidden("csrf") ?? ""), ("decision", "granted"), ("note", "同意"),
                ])
            #expect(decided.status == 303)
            #expect(
                try await eventually(timeout: .seconds(30)) {
                    try await lead.get("/inbox").html.contains("延期申请已同意")
                }, "the unit is told of the decision")
            let boardPage = try await committee.get("/supervision/assignments/\(leadPart)")
            #expect(boardPage.status == 200 && boardPage.html.contains("办前见面") && boardPage.html.contains("已同意"))

            // The lead cannot reply before its co-unit's opinion, and is told why.
            let early = try await lead.post(
                "/unit/assignments/\(leadPart)/reply", [("csrf", csrf), ("text", "已建设充电桩"), ("category", "A"), ("promisedDate", "")])
            #expect([409, 422].contains(early.status) && early.html.contains("未能保存") && early.html.contains("已建设充电桩"), "status \(early.status)")

            // Another unit cannot open the lead unit's assignment.
            let (streetAccount, streetPassword) = try await fixture.account("street.clerk", .handlingUnit, unit: street)
            let co = FormBrowser(base: fixture.base)
            _ = try await co.signIn(streetAccount.login, streetPassword)
            #expect(try await co.get("/unit/assignments/\(leadPart)").status == 404)
            // The co-unit contests; the committee keeps it there with a note; the co-unit is told.
            let contestPage = try await co.get("/unit/assignments/\(coPart)")
            let contested = try await co.post(
                "/unit/assignments/\(coPart)/contest", [("csrf", contestPage.hidden("csrf") ?? ""), ("reason", "充电桩建设不属街道职责")])
            #expect(contested.status == 303, "status \(contested.status)")
            #expect(try await eventually(timeout: .seconds(30)) { try await committee.get("/inbox").html.contains("提出异议") })
            let withContest = try await committee.get("/assignment/proposals/\(proposal.uuidString.lowercased())")
            #expect(withContest.html.contains("充电桩建设不属街道职责"))
            let contestID = try #require(withContest.html.firstMatch(of: /name="contestId" value="([0-9a-f-]{36})"/).map { String($0.1) })
            let rejected = try await committee.post(
                "/assignment/proposals/\(proposal.uuidString.lowercased())/reject",
                [
                    ("csrf", withContest.hidden("csrf") ?? ""), ("contestId", contestID), ("note", "街道负责选址协调"),
                ])
            #expect(rejected.status == 303, "status \(rejected.status)")
            #expect(try await eventually(timeout: .seconds(30)) { try await co.get("/inbox").html.contains("异议未获同意") })
            let coPage = try await co.get("/unit/assignments/\(coPart)")
            #expect(coPage.html.contains("协办意见") && !coPage.html.contains("提交答复"))
            let opinion = try await co.post("/unit/assignments/\(coPart)/opinion", [("csrf", coPage.hidden("csrf") ?? ""), ("text", "街道配合选址")])
            #expect(opinion.status == 303)

            // A B reply needs its promised date; then it is saved and shown.
            let leadPage = try await lead.get("/unit/assignments/\(leadPart)")
            #expect(leadPage.html.contains("街道配合选址"), "the lead reads its co-unit's opinion")
            let noDate = try await lead.post(
                "/unit/assignments/\(leadPart)/reply", [("csrf", csrf), ("text", "分两期建设"), ("category", "B"), ("promisedDate", "")])
            #expect(noDate.status == 422 && noDate.html.contains("承诺解决日期") && noDate.html.contains("分两期建设"), "status \(noDate.status)")
            #expect(noDate.html.contains("<option value=\"B\" selected>"), "the category kept as chosen")
            // The committee keeps a district template; the unit starts its reply from it, filled with the case.
            let templatesPage = try await committee.get("/templates")
            let typo = try await committee.post(
                "/templates",
                [
                    ("csrf", templatesPage.hidden("csrf") ?? ""), ("name", "标准答复函"),
                    ("body", "关于《{标题}》（{按号}）的答复"),
                ])
            #expect(
                typo.status == 422 && typo.html.contains("{按号}") && typo.html.contains("标准答复函"), "an unknown placeholder is named: \(typo.status)")
            #expect(
                try await committee.post(
                    "/templates",
                    [
                        ("csrf", templatesPage.hidden("csrf") ?? ""), ("name", "标准答复函"),
                        ("body", "关于《{标题}》（案号 {案号}）的答复：{承办单位}分两期建设"),
                    ]
                ).status == 303)
            let offered = try await lead.get("/unit/assignments/\(leadPart)")
            let template = try #require(
                offered.html.firstMatch(of: /<option value="([0-9a-fA-F-]{36})">全区：标准答复函/).map { String($0.1) },
                "the template is offered on the reply form")
            let started = try await lead.get("/unit/assignments/\(leadPart)?template=\(template)")
            let caseNumber = try #require(try await fixture.store.string("SELECT case_number FROM proposals WHERE id = \(proposal)"))
            #expect(started.html.contains("关于《规范电动自行车充电》（案号 \(caseNumber)）的答复：区消防救援大队分两期建设"))
            let letter = "关于《规范电动自行车充电》（案号 \(caseNumber)）的答复：区消防救援大队分两期建设"
            // The reply letter as a PDF from the browser; a program is refused, the text kept.
            let program = MultipartBody.File(
                field: "attachments", filename: "setup.exe", mediaType: "application/x-msdownload", content: Data([0x4d, 0x5a]))
            let refusedFile = try await lead.post(
                "/unit/assignments/\(leadPart)/reply",
                [
                    ("csrf", csrf), ("text", letter), ("category", "B"), ("promisedDate", promised),
                ], files: [program])
            #expect(
                refusedFile.status == 415 && refusedFile.html.contains("不接受这种文件类型") && refusedFile.html.contains(letter),
                "status \(refusedFile.status)")
            let pdf = Data("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".utf8)
            let replied = try await lead.post(
                "/unit/assignments/\(leadPart)/reply",
                [
                    ("csrf", csrf), ("text", letter), ("category", "B"), ("promisedDate", promised),
                ], files: [MultipartBody.File(field: "attachments", filename: "答复函.pdf", mediaType: "application/pdf", content: pdf)])
            #expect(replied.status == 303, "status \(replied.status)")
            let after = try await lead.get("/unit/assignments/\(leadPart)")
            #expect(after.html.contains("分两期建设") && after.html.contains(promised) && !after.html.contains("提交答复"))
            let download = try #require(
                after.html.firstMatch(of: /href="(\/unit\/replies\/[0-9a-f-]+\/attachments\/0)">答复函.pdf/).map { String($0.1) })
            #expect(try await lead.get(download).html == String(decoding: pdf, as: UTF8.self), "the unit downloads what it uploaded")
            let replyRecord = try await committee.get("/supervision/assignments/\(leadPart)")
            #expect(replyRecord.html.contains("答复函.pdf") && replyRecord.html.contains("/supervision/replies/"), "the committee sees the attachment")

            // The documents print: the reply letter and the assignment notice, through Chromium to PDF and back to text.
            #expect(after.html.contains("/print/assignments/\(leadPart)/reply") && after.html.contains("/print/assignments/\(leadPart)/notice"))
            let letterPage = try await lead.get("/print/assignments/\(leadPart)/reply")
            #expect(letterPage.status == 200 && !letterPage.html.contains("<nav"), "a page for paper, without the workbench around it")
            let printedLetter = try await PrintedDocument.print(html: letterPage.html).text.filter { !$0.isWhitespace }
            for part in ["关于政协提案《规范电动自行车充电》的答复", "区消防救援大队", letter, "承诺解决日期：\(promised)", "答复函.pdf", "政协提案委员会"] {
                #expect(printedLetter.contains(part.filter { !$0.isWhitespace }), "the printed letter has \(part): \(printedLetter)")
            }
            let notice = try await committee.get("/print/assignments/\(leadPart)/notice")
            let printedNotice = try await PrintedDocument.print(html: notice.html).text.filter { !$0.isWhitespace }
            #expect(printedNotice.contains("提案交办通知书") && printedNotice.contains(caseNumber) && printedNotice.contains("主办"), "\(printedNotice)")
            #expect(try await lead.get("/print/assignments/\(leadPart)/supervision-notice").status == 409, "not escalated: no supervision notice")
            #expect(try await co.get("/print/assignments/\(leadPart)/reply").status == 404, "another unit's assignment does not print")

            // The committee makes the proposer's link; the proposer opens it without signing in.
            let replyBoard = try await committee.get("/supervision/assignments/\(leadPart)")
            let made = try await committee.post(
                "/supervision/assignments/\(leadPart)/evaluation-link",
                [
                    ("csrf", replyBoard.hidden("csrf") ?? ""), ("proposalId", proposal.uuidString.lowercased()),
                ])
            let link = try #require(made.html.firstMatch(of: /\/evaluate\/([A-Za-z0-9_-]{20,100})/).map { String($0.1) }, "status \(made.status)")
            // The same link reaches the proposer: the drafting member's own inbox.
            let (memberAccount, memberPassword) = try await fixture.account("member-1", .member)
            let member = FormBrowser(base: fixture.base)
            _ = try await member.signIn(memberAccount.login, memberPassword)
            #expect(
                try await eventually(timeout: .seconds(30)) {
                    try await member.get("/inbox").html.contains("value=\"/evaluate/\(link)\"")
                }, "the proposer's inbox links to the page")
            let proposer = FormBrowser(base: fixture.base)
            let form = try await proposer.get("/evaluate/\(link)")
            #expect(form.status == 200 && form.html.contains("分两期建设") && form.html.contains("街道配合选址") && form.html.contains("主办单位答复"))
            #expect(try await proposer.get("/evaluate/\(String(repeating: "x", count: 43))").status == 404, "an unknown link")
            let noChoice = try await proposer.post("/evaluate/\(link)/\(leadPart)", [("comment", "充电桩太少")])
            #expect(noChoice.status == 422 && noChoice.html.contains("请选择") && noChoice.html.contains("充电桩太少"), "status \(noChoice.status)")
            let unhappy = try await proposer.post("/evaluate/\(link)/\(leadPart)", [("result", "dissatisfied"), ("comment", "充电桩太少")])
            #expect(unhappy.status == 303)
            let thanked = try await proposer.get(unhappy.location ?? "/")
            #expect(thanked.html.contains("您的评价已收到") && thanked.html.contains("您的评价：不满意"))
            let twice = try await proposer.post("/evaluate/\(link)/\(leadPart)", [("result", "satisfied")])
            #expect([409, 422].contains(twice.status), "status \(twice.status)")
            // The lead unit is told its part is reopened and handles it again.
            #expect(try await eventually(timeout: .seconds(30)) { try await lead.get("/inbox").html.contains("不满意，请重新办理") })
            #expect(try await lead.get("/unit/assignments/\(leadPart)").html.contains("办理中"))

            // The committee's reports: the unit evaluation as a table, charts and CSV; the quotas against the register.
            let evaluation = try await committee.get("/supervision/evaluation")
            #expect(
                evaluation.status == 200 && evaluation.html.contains("区消防救援大队") && evaluation.html.contains("<svg")
                    && evaluation.html.contains("按时答复率"))
            let csvLink = try #require(evaluation.html.firstMatch(of: /href="(\/supervision\/evaluation\.csv\?[^"]+)"/).map { String($0.1) })
            let csv = try await committee.get(csvLink.replacingOccurrences(of: "&amp;", with: "&"))
            #expect(csv.status == 200 && csv.html.contains("区消防救援大队"), "the CSV: \(csv.html.prefix(300))")
            let badPeriod = try await committee.get("/supervision/evaluation?from=2027-12-31&to=2027-01-01")
            #expect(
                badPeriod.status == 422 && badPeriod.html.contains("起始日期不晚于截止日期") && badPeriod.html.contains("2027-12-31"),
                "status \(badPeriod.status)")
            let quotaPage = try await committee.get("/supervision/quotas")
            #expect(quotaPage.status == 200 && quotaPage.html.contains("登记册上还没有在册的工作室或委员"))
            try await fixture.store.execute(
                """
                INSERT INTO register_entries (district, code, kind, name, active, updated_by)
                VALUES ('haizhu', 's-sy', 'studio', '沙园街委员工作室', true, 'test')
                """, scope: .district(fixture.haizhu))
            let behind = try await committee.get("/supervision/quotas")
            #expect(behind.html.contains("沙园街委员工作室") && behind.html.contains("落后"))
            let reminded = try await committee.post(
                "/supervision/quotas/reminders", [("csrf", behind.hidden("csrf") ?? ""), ("month", behind.hidden("month") ?? "")])
            #expect(reminded.status == 200 && reminded.html.contains("已提醒 1 个"), "status \(reminded.status)")
            try await fixture.stop()
        }
    }
}
