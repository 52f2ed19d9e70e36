import Foundation
import Models
import ServiceKit
import TestSupport
import Testing

extension WorkbenchFixture {
    var today: LocalDate { LocalDate.on(clock.now, in: .chinaTime) }
}

/// The page's own content, for a failure's message (the layout's styles are long).
private func content(_ page: FormBrowser.Page) -> String {
    "\(page.status) " + (page.html.range(of: "<main").map { String(page.html[$0.lowerBound...].prefix(2_500)) } ?? String(page.html.prefix(500)))
}

extension HeavySuites {
    /// Members and studios as people (issue 22): the register kept by the administrator, clues
    /// credited to its entries through the workbench and intake's API, quotas and performance
    /// records counted from it, and the municipal committee's view of its districts.
    @Suite(.serialized, .timeLimit(.minutes(4)))
    struct MemberRecordsTests {
        static let csvMedia = "text/csv"

        func staffToken(_ role: StaffClaims.Role, _ subject: String, district: DistrictCode) throws -> String {
            try StaffTokenSigner(secret: TestEnvironment.tokenSecret).token(
                for: StaffClaims(
                    subject: subject, role: role, district: district, expiresAt: Date().addingTimeInterval(3600)))
        }

        @Test func theRegisterCreditsCluesAndTheRecordsAndQuotasCountIt() async throws {
            let fixture = try await WorkbenchFixture(handling: true)
            let (_, adminPassword) = try await fixture.account("admin.wu", .administrator)
            let admin = FormBrowser(base: fixture.base)
            #expect(try await admin.signIn("admin.wu", adminPassword).status == 303)

            // The administrator registers a studio and a member by hand; a bad code is refused by name.
            let page = try await admin.get("/register")
            #expect(page.status == 200 && page.html.contains("委员和工作室登记册"))
            let csrf = try #require(page.hidden("csrf"))
            let badCode = try await admin.post("/register/entries", [("csrf", csrf), ("code", "沙园"), ("kind", "studio"), ("name", "沙园街委员工作室")])
            #expect(badCode.status == 422 && badCode.html.contains("编号"), "status \(badCode.status)")
            let studio = try await admin.post(
                "/register/entries",
                [
                    ("csrf", csrf), ("code", "s-sy"), ("kind", "studio"), ("name", "沙园街委员工作室"),
                    ("street", "沙园街"),
                ])
            #expect(studio.status == 200, "\(content(studio))")
            let member = try await admin.post(
                "/register/entries",
                [
                    ("csrf", csrf), ("code", "m-chen"), ("kind", "member"), ("name", "陈委员"),
                    ("sector", "经济界"), ("studio", "s-sy"),
                ])
            #expect(member.status == 200 && member.html.contains("已保存 陈委员"), "\(content(member))")

            // A CSV import: good lines kept, bad ones refused with their line and reason.
            let csv = """
                编号,类型,姓名/名称,界别,所属工作室,街道,状态
                s-nhx,工作室,南华西街委员工作室,,,南华西街,在册
                m-li,委员,李明,教育界,南华西街委员工作室,,在册
                m-bad,委员,王五,,不存在的工作室,,在册
                m-x,队长,赵六,,,,在册
                m-gone,委员,钱七,,,,停用

                """
            let imported = try await admin.post(
                "/register/import", [("csrf", csrf)],
                files: [MultipartBody.File(field: "file", filename: "register.csv", mediaType: Self.csvMedia, content: Data(csv.utf8))])
            #expect(imported.status == 200 && imported.html.contains("已导入 3 条"), "\(content(imported))")
            #expect(imported.html.contains("第 4 行（m-bad）") && imported.html.contains("没有名为“不存在的工作室”的工作室"))
            #expect(imported.html.contains("第 5 行") && imported.html.contains("类型须为"))
            #expect(
                try await fixture.store.string("SELECT studio_code FROM register_entries WHERE code = 'm-li'") == "s-nhx",
                "a studio named, stored by code")

            // A clue received before the register, by free text: mapped once by a person, never guessed.
            try await fixture.store.execute(
                """
                INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions, source_category, channel,
                                   is_anonymous, received_at, receiver_kind, receiver_name)
                VALUES (\(UUID()), 'haizhu', 'HZ-OLD-1', '旧线索', '情况', '建议', 'street-studio', 'staff-entry', true, \(fixture.clock.now),
                        'studio', '沙园街工作室')
                """, scope: .district(fixture.haizhu))
            let unmatched = try await admin.get("/register")
            #expect(unmatched.html.contains("待对应的接收人") && unmatched.html.contains("沙园街工作室"))
            let mapped = try await admin.post(
                "/register/mappings", [("csrf", csrf), ("kind", "studio"), ("receivedName", "沙园街工作室"), ("code", "s-sy")])
            #expect(mapped.status == 200 && mapped.html.contains("1 条线索已记入登记册"), "\(content(mapped))")
            #expect(try await fixture.store.string("SELECT receiver_code FROM clues WHERE tracking_number = 'HZ-OLD-1'") == "s-sy")

            // The member's account is linked to the register by the administrator; a studio's code for a member is refused.
            let (chen, chenPassword) = try await fixture.account("member.chen", .member)
            let accounts = try await admin.get("/admin/accounts")
            let wrongKind = try await admin.post(
                "/admin/accounts/\(chen.id.uuidString)",
                [
                    ("csrf", accounts.hidden("csrf") ?? ""), ("action", "save"), ("role", "member"), ("registerCode", "s-sy"),
                ])
            #expect(wrongKind.status == 422 && wrongKind.html.contains("与账号角色不符"), "\(content(wrongKind))")
            let linked = try await admin.post(
                "/admin/accounts/\(chen.id.uuidString)",
                [
                    ("csrf", accounts.hidden("csrf") ?? ""), ("action", "save"), ("role", "member"), ("registerCode", "m-chen"),
                ])
            #expect(linked.status == 200 && linked.html.contains("陈委员"), "\(content(linked))")

            // The member enters a clue: the receiver is picked from the register, their own entry first.
            let browser = FormBrowser(base: fixture.base)
            #expect(try await browser.signIn("member.chen", chenPassword).status == 303)
            let entry = try await browser.get("/entry")
            #expect(entry.status == 200 && entry.html.contains(#"<option value="m-chen" selected>陈委员（委员）</option>"#), "\(content(entry))")
            let entered = try await browser.post(
                "/entry",
                [
                    ("csrf", entry.hidden("csrf") ?? ""), ("idempotencyKey", entry.hidden("idempotencyKey") ?? ""), ("receiver", "m-chen"),
                    ("sourceCategory", "committee-member"), ("clueTitle", "增设社区长者饭堂"), ("situationAnalysis", "老人就餐难"),
                    ("specificSuggestions", "在沙园街增设长者饭堂"), ("anonymous", "on"),
                ])
            #expect(entered.status == 200 && entered.html.contains("已录入，线索编号"), "\(content(entered))")
            #expect(
                try await fixture.store.string(
                    "SELECT receiver_code || '/' || receiver_studio_code FROM clues WHERE title = '增设社区长者饭堂'") == "m-chen/s-sy",
                "credited to the member and the studio they collect for")

            // A CSV of clues: the row with an unknown receiver is refused with the closest names, the other kept.
            let clues = """
                标题,情况分析,具体建议,来源,接收人,接收人类型,匿名
                修缮小区道路,路面破损,尽快修缮,委员,陈委员,委员,是
                加装电梯,老楼无电梯,推进加装,街道委员工作室,沙园街工作室,工作室,是

                """
            let batch = try await browser.post(
                "/entry/import", [("csrf", entry.hidden("csrf") ?? "")],
                files: [MultipartBody.File(field: "file", filename: "clues.csv", mediaType: Self.csvMedia, content: Data(clues.utf8))])
            #expect(batch.status == 200 && batch.html.contains("导入 1 条"), "\(content(batch))")
            #expect(batch.html.contains("第 3 行") && batch.html.contains("最接近的：沙园街委员工作室"))

            // Intake's API refuses an unknown receiver by the field, with the closest names; a code is enough.
            let clerk = try staffToken(.clueHandler, "clerk-1", district: fixture.haizhu)
            func submit(_ receiver: String) async throws -> HTTPAnswer {
                try await sendHTTP(
                    "POST", fixture.intake + "/v1/clues",
                    body: try JSONSerialization.data(withJSONObject: [
                        "district": "haizhu", "channel": "staff-entry", "sourceCategory": "street-studio", "title": "路灯不亮",
                        "situationAnalysis": "夜间昏暗",
                        "specificSuggestions": "维修路灯", "anonymous": true, "receiver": ["kind": "studio", "name": receiver],
                    ]), contentType: "application/json", headers: ["Authorization": "Bearer \(clerk)"])
            }
            let unknown = try await submit("南华西工作室")
            #expect(unknown.status == 422 && unknown.errorField == "receiver.name" && unknown.text.contains("南华西街委员工作室"), "\(unknown.text)")
            #expect(try await submit("m-gone").text.contains("已停用"))
            #expect(try await submit("s-nhx").status == 201)

            // What the member drafted, attended and was told, written as the later stages store them.
            let proposal = UUID(), part = UUID()
            try await fixture.store.execute(
                """
                INSERT INTO proposals (id, district, status, title, case_summary, reasons, suggestions, proposers, drafted_by, case_number,
                                       reviewed_at, created_at)
                VALUES (\(proposal), 'haizhu', 'replied', '长者饭堂建设', '案由', '理由', '建议', '[]', 'member.chen', 'HZ-14-2026-0090',
                        \(fixture.clock.now), \(fixture.clock.now))
                """, scope: .district(fixture.haizhu))
            try await fixture.store.execute(
                """
                INSERT INTO supervised_assignments (assignment_id, district, proposal_id, case_number, unit_id, unit_name, role, round,
                                                    assigned_on, deadline, state)
                VALUES (\(part), 'haizhu', \(proposal), 'HZ-14-2026-0090', \(UUID()), '区民政局', 'lead', 1, current_date, current_date + 90, 'replied')
                """, scope: .district(fixture.haizhu))
            try await fixture.store.execute(
                """
                INSERT INTO handling_meetings (id, district, assignment_id, stage, held_on, form, attendees, summary, recorded_at, recorded_by)
                VALUES (\(UUID()), 'haizhu', \(part), 'before', current_date, '座谈', '陈委员、区民政局', '摘要', now(), 'unit'),
                       (\(UUID()), 'haizhu', \(part), 'during', current_date, '电话', '区民政局', '摘要', now(), 'unit')
                """, scope: .district(fixture.haizhu))
            try await fixture.store.execute(
                """
                INSERT INTO proposer_evaluations (id, district, assignment_id, proposal_id, result, by_proposer, entered_by, evaluated_at)
                VALUES (\(UUID()), 'haizhu', \(part), \(proposal), 'satisfied', true, 'member.chen', \(fixture.clock.now))
                """, scope: .district(fixture.haizhu))

            // The member's own record: two clues (entered and imported), the proposal, one meeting naming them, one evaluation.
            let record = try await browser.get("/my/record")
            #expect(record.status == 200 && record.html.contains("陈委员的履职档案"), "\(content(record))")
            #expect(record.html.contains(#"<dd id="clues-collected">2 条</dd>"#) && record.html.contains(#"<dd id="proposals-drafted">1 件</dd>"#))
            #expect(record.html.contains("<dd>1 次</dd>") && record.html.contains("满意 1，基本满意 0，不满意 0"))
            #expect(record.html.contains("增设社区长者饭堂") && record.html.contains("修缮小区道路"))
            #expect(try await browser.get("/members").status == 403, "a member reads their own record only")

            // The committee reads everyone's, as a table and as CSV, and the quotas against the register.
            let (_, committeePassword) = try await fixture.account("committee.li", .proposalsCommittee)
            let committee = FormBrowser(base: fixture.base)
            _ = try await committee.signIn("committee.li", committeePassword)
            let table = try await committee.get("/members")
            #expect(table.status == 200 && table.html.contains(#"<a href="/members/m-chen">陈委员</a>"#) && table.html.contains("钱七"))
            let download = try await committee.get("/members.csv")
            #expect(download.status == 200 && download.html.contains("m-chen,陈委员,委员,经济界"), "\(content(download))")
            let quotas = try await committee.get("/supervision/quotas")
            // 沙园街: the mapped old clue, the member's clue and the imported one (3 in the month); 南华西街: the API's one; 李明: none.
            #expect(
                quotas.status == 200 && quotas.html.contains(#"<a href="/members/m-li">李明</a> <span class="tag urgent">落后</span>"#),
                "\(content(quotas))")
            #expect(!quotas.html.contains("钱七"), "an inactive entry owes nothing")
            // The reminder reaches the accounts linked to an entry behind: 南华西街's studio, by its register code.
            let (studioAccount, studioPassword) = try await fixture.account("studio.nhx", .memberStudio)
            try await fixture.store.execute(
                "UPDATE accounts SET register_code = 's-nhx' WHERE id = \(studioAccount.id)", scope: .district(fixture.haizhu))
            let reminded = try await committee.post(
                "/supervision/quotas/reminders", [("csrf", quotas.hidden("csrf") ?? ""), ("month", quotas.hidden("month") ?? "")])
            #expect(reminded.status == 200 && reminded.html.contains("已提醒"), "\(content(reminded))")
            let studioBrowser = FormBrowser(base: fixture.base)
            _ = try await studioBrowser.signIn("studio.nhx", studioPassword)
            #expect(
                try await eventually(timeout: .seconds(30)) { try await studioBrowser.get("/inbox").html.contains("线索收集提醒") }, "the studio is told")
            let standings = try await sendHTTP(
                "GET", fixture.supervision + "/v1/supervision/quotas?month=\(String(fixture.today.description.prefix(7)))",
                headers: ["Authorization": "Bearer \(try staffToken(.proposalsCommittee, "c", district: fixture.haizhu))"])
            let counts = Dictionary(
                uniqueKeysWithValues: ((standings.json["standings"] as? [[String: Any]]) ?? []).map {
                    (($0["code"] as? String) ?? "", ($0["count"] as? Int) ?? -1)
                })
            #expect(counts == ["s-sy": 3, "s-nhx": 1, "m-chen": 2, "m-li": 0], "\(standings.text)")

            // A disabled member cannot sign in; the record stays.
            let disabled = try await admin.post(
                "/admin/accounts/\(chen.id.uuidString)", [("csrf", accounts.hidden("csrf") ?? ""), ("action", "disable")])
            #expect(disabled.status == 200)
            let refused = try await FormBrowser(base: fixture.base).signIn("member.chen", chenPassword)
            #expect(refused.location != "/", "status \(refused.status)")
            let kept = try await committee.get("/members/m-chen")
            #expect(kept.status == 200 && kept.html.contains(#"<dd id="clues-collected">2 条</dd>"#))
            try await fixture.stop()
        }

        @Test func theMunicipalCommitteeSeesItsDistrictsSideBySide() async throws {
            let fixture = try await WorkbenchFixture(handling: true)
            let store = fixture.store
            try await store.execute("INSERT INTO districts (code, name) VALUES ('guangzhou', '广州市')", scope: .none)
            try await store.execute("UPDATE districts SET parent = 'guangzhou' WHERE code IN ('haizhu', 'tianhe')", scope: .none)
            let now = fixture.clock.now
            func clue(_ district: String, _ number: String, id: UUID = UUID()) async throws {
                try await store.execute(
                    """
                    INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions, source_category, channel,
                                       is_anonymous, received_at)
                    VALUES (\(id), \(district), \(number), \("线索" + number), '情况', '建议', 'online-platform', 'web', true, \(now))
                    """, scope: .district(DistrictCode(rawValue: district)!))
            }
            for number in 1...3 { try await clue("haizhu", "HZ-M-\(number)") }
            for number in 1...2 { try await clue("tianhe", "TH-M-\(number)") }
            // One of Haizhu's went up by the through train and arrived as a municipal clue.
            let origin = UUID(), arrived = UUID()
            try await clue("haizhu", "HZ-M-UP", id: origin)
            try await clue("guangzhou", "GZ-M-1", id: arrived)
            try await store.execute(
                """
                INSERT INTO triage_clues (clue_id, district, tracking_number, channel, status, received_at, linked_clue_id)
                VALUES (\(origin), 'haizhu', 'HZ-M-UP', 'web', 'sent-to-municipal', \(now), \(arrived))
                """, scope: .district(fixture.haizhu))
            try await store.execute(
                """
                INSERT INTO triage_clues (clue_id, district, tracking_number, channel, status, received_at, linked_from_clue_id)
                VALUES (\(arrived), 'guangzhou', 'GZ-M-1', 'web', 'awaiting-review', \(now), \(origin))
                """, scope: .district(DistrictCode(rawValue: "guangzhou")!))
            // Haizhu reviewed two and filed one, assigned, replied on time and satisfied; Tianhe filed one.
            let filed = UUID()
            for (id, district, number, title) in [
                (filed, "haizhu", "HZ-14-2026-0001" as String?, "海珠区立案提案"), (UUID(), "haizhu", nil, "海珠区未立案"),
                (UUID(), "tianhe", "TH-14-2026-0001", "天河区立案提案"),
            ] {
                try await store.execute(
                    """
                    INSERT INTO proposals (id, district, status, title, case_summary, reasons, suggestions, proposers, drafted_by, case_number, year,
                                           reviewed_at)
                    VALUES (\(id), \(district), \(number == nil ? "not-filed" : "replied"), \(title), '案由', '理由', '建议', '[]', 'someone', \(number),
                            \(LocalDate.on(now, in: .chinaTime).year), \(now))
                    """, scope: .district(DistrictCode(rawValue: district)!))
            }
            try await store.execute(
                """
                INSERT INTO supervised_assignments (assignment_id, district, proposal_id, case_number, unit_id, unit_name, role, round,
                                                    assigned_on, deadline, state, replied_at, satisfaction)
                VALUES (\(UUID()), 'haizhu', \(filed), 'HZ-14-2026-0001', \(UUID()), '区住建局', 'lead', 1, \(fixture.today.description)::date,
                        \(fixture.today.adding(days: 90).description)::date, 'replied', \(now), 'satisfied')
                """, scope: .district(fixture.haizhu))

            let (_, password) = try await fixture.account("city.committee", .proposalsCommittee, district: DistrictCode(rawValue: "guangzhou")!)
            let city = FormBrowser(base: fixture.base)
            _ = try await city.signIn("city.committee", password)
            let overview = try await city.get("/municipal")
            #expect(overview.status == 200 && overview.html.contains(#"href="/municipal""#), "the menu offers it: \(overview.status)")
            let haizhuRow =
                #"<td><a href="/municipal/districts/haizhu?year=\#(LocalDate.on(now, in: .chinaTime).year)">海珠区</a></td><td>4</td><td>1</td><td>2</td><td>1</td><td>50.0%</td><td>1</td><td>100.0%</td><td>100.0%</td>"#
            #expect(overview.html.contains(haizhuRow), "\(content(overview))")
            #expect(overview.html.contains("天河区</a></td><td>2</td><td>0</td><td>1</td><td>1</td><td>100.0%</td><td>0</td><td>—</td><td>—</td>"))
            #expect(overview.html.contains("<th>合计</th><td>6</td>"))
            #expect(overview.html.contains("GZ-M-1") && overview.html.contains("HZ-M-UP"), "the through-train arrival with where it came from")
            let district = try await city.get("/municipal/districts/haizhu")
            #expect(district.status == 200 && district.html.contains("海珠区立案提案") && !district.html.contains("海珠区未立案"))
            let opened = try await city.get("/municipal/proposals/\(filed.uuidString)")
            #expect(opened.status == 200 && opened.html.contains("海珠区立案提案") && opened.html.contains("区住建局") && opened.html.contains("只读"))
            #expect(!content(opened).contains("method=\"post\""), "read-only: nothing to act on (the layout's sign-out aside)")
            #expect(try await city.get("/municipal/proposals/\(UUID().uuidString)").status == 404)

            // A district's committee has no member districts: no such view.
            let (_, districtPassword) = try await fixture.account("committee.hz", .proposalsCommittee)
            let haizhu = FormBrowser(base: fixture.base)
            _ = try await haizhu.signIn("committee.hz", districtPassword)
            #expect(try await haizhu.get("/municipal").status == 403)
            #expect(try await haizhu.get("/municipal/proposals/\(filed.uuidString)").status == 403)
            try await fixture.stop()
        }

        /// The member's record page in a real browser: signed in, reached from the menu, the period
        /// changed in the form, on an office screen and on a phone. Screenshots go to
        /// Tests/screenshots/members (git-ignored).
        @Test func aMemberReadsTheirRecordInABrowser() async throws {
            let fixture = try await WorkbenchFixture(handling: true)
            let browser = try await WebDriver(screenshots: "Tests/screenshots/members")
            defer { Task { await browser.quit() } }
            let year = fixture.today.year
            try await fixture.store.execute(
                """
                INSERT INTO register_entries (district, code, kind, name, sector, special_committee, studio_code, street, active, updated_by) VALUES
                    ('haizhu', 's-sy', 'studio', '沙园街委员工作室', NULL, NULL, NULL, '沙园街', true, 'test'),
                    ('haizhu', 'm-chen', 'member', '陈委员', '经济界', '经济委', 's-sy', NULL, true, 'test')
                """, scope: .district(fixture.haizhu))
            // Two clues this year and one last year; the older one leaves the page when the period is this year.
            for (number, day) in [(1, "\(year)-01-15"), (2, fixture.today.description), (3, "\(year - 1)-06-01")] {
                try await fixture.store.execute(
                    """
                    INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions, source_category, channel,
                                       is_anonymous, received_at, receiver_kind, receiver_name, receiver_code, receiver_studio_code)
                    VALUES (\(UUID()), 'haizhu', \("HZ-B-\(number)"), \("第\(number)条线索"), '情况', '建议', 'committee-member', 'staff-entry', true,
                            (\(day)::date + time '10:00') AT TIME ZONE 'Asia/Shanghai', 'member', '陈委员', 'm-chen', 's-sy')
                    """, scope: .district(fixture.haizhu))
            }
            let (chen, password) = try await fixture.account("member.chen", .member)
            try await fixture.store.execute("UPDATE accounts SET register_code = 'm-chen' WHERE id = \(chen.id)", scope: .district(fixture.haizhu))

            try await browser.open(fixture.base + "/sign-in")
            try await browser.type("member.chen", into: "#login")
            try await browser.type(password, into: "#password")
            try await browser.clickAndWait("form[action='/sign-in'] button")
            try await browser.clickAndWait("nav a[href='/my/record']")
            var text = try await browser.text
            #expect(text.contains("陈委员的履职档案") && text.contains("经济界") && text.contains("编号 m-chen"), "\(text)")
            #expect(text.contains("收集线索\n2 条") || text.contains("收集线索\t2 条") || text.contains("收集线索 2 条"), "this year by default: \(text)")
            #expect(text.contains("第1条线索") && text.contains("第2条线索") && !text.contains("第3条线索"))
            try await browser.screenshot("01-record-this-year")

            // Longer than a year is refused on the page; last half-year shows only the older clue.
            try await browser.setDate("\(year - 1)-01-01", in: "#from")
            try await browser.setDate("\(year)-12-31", in: "#to")
            try await browser.clickAndWait("form[action='/my/record'] button")
            #expect(try await browser.text.contains("期间不超过一年"))
            try await browser.setDate("\(year - 1)-06-01", in: "#from")
            try await browser.setDate("\(year - 1)-12-31", in: "#to")
            try await browser.clickAndWait("form[action='/my/record'] button")
            text = try await browser.text
            #expect(
                text.contains("第3条线索") && !text.contains("第1条线索") && (text.contains("收集线索\n1 条") || text.contains("收集线索\t1 条")),
                "\(text)")
            #expect(try await browser.currentURL.contains("from=\(year - 1)-06-01"), "the period stays in the address")
            try await browser.resize(width: 390, height: 844)
            try await browser.screenshot("02-record-on-a-phone")
            let overflow = try await browser.script("return document.documentElement.scrollWidth > window.innerWidth + 1") as? Bool
            #expect(overflow == false, "the page fits a phone's width")
            await browser.quit()
            try await fixture.stop()
        }
    }
}
