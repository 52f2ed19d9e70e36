import Foundation
import Models
import ServiceKit
import TestSupport
import Testing

/// The other ways in: Open311, a studio's CSV file, the resident web form.
@Suite(.timeLimit(.minutes(3)))
struct IntakeChannelTests {
    @Test func open311RoundTrip() async throws {
        let intake = try await IntakeFixture()
        let secret = try await intake.integrationKey("gov311")
        let apiKey = "gov311:\(secret)"

        let services = try await intake.send("GET", "/open311/v2/services.json?jurisdiction_id=haizhu")
        #expect(services.status == 200)
        #expect(services.text.contains(#""service_code":"online-platform""#))
        let definition = try await intake.send("GET", "/open311/v2/services/online-platform.json?jurisdiction_id=haizhu")
        #expect(definition.status == 200 && definition.text.contains(#""code":"specific_suggestions""#))
        #expect(try await intake.send("GET", "/open311/v2/services/nothing.json?jurisdiction_id=haizhu").status == 404)

        let form = URLEncodedForm.encode([
            ("api_key", apiKey), ("jurisdiction_id", "haizhu"), ("service_code", "online-platform"),
            ("description", "沙园七街电线杂乱，存在安全隐患"), ("attribute[title]", "推动沙园七街三线下地"),
            ("attribute[specific_suggestions]", "将供电、通信、有线电视线路入地"), ("attribute[consent_to_publish]", "yes"),
            ("last_name", "陈"), ("first_name", "先生"), ("phone", "020-84123456"), ("address_string", "沙园七街"),
        ])
        let created = try await intake.send(
            "POST", "/open311/v2/requests.json", body: Data(form.utf8), contentType: "application/x-www-form-urlencoded")
        #expect(created.status == 201, "\(created.text)")
        let id = try #require(created.json["service_request_id"] as? String)
        #expect(id.hasPrefix("HZ-"))

        // A generic GeoReport v2 client sends a description and contact fields, no attributes.
        let generic = URLEncodedForm.encode([
            ("api_key", apiKey), ("jurisdiction_id", "haizhu"), ("service_code", "online-platform"),
            ("description", "  南洲路口的红绿灯时间太短！老人过马路来不及，建议延长绿灯时间。"), ("last_name", "林"), ("phone", "13800138000"),
        ])
        let genericCreated = try await intake.send(
            "POST", "/open311/v2/requests.json", body: Data(generic.utf8), contentType: "application/x-www-form-urlencoded")
        #expect(genericCreated.status == 201, "\(genericCreated.text)")
        let genericID = try #require(genericCreated.json["service_request_id"] as? String)
        let titled = try await intake.store.integer(
            """
            SELECT count(*)::int FROM clues WHERE tracking_number = \(genericID) AND title = '南洲路口的红绿灯时间太短'
              AND specific_suggestions = '南洲路口的红绿灯时间太短！老人过马路来不及，建议延长绿灯时间。'
            """)
        #expect(titled == 1, "the title is the description's first sentence, the suggestion the whole description")

        let one = try await intake.send("GET", "/open311/v2/requests/\(id).json?jurisdiction_id=haizhu&api_key=\(apiKey)")
        #expect(one.status == 200)
        #expect(one.json["status"] as? String == "open")
        #expect(one.json["service_code"] as? String == "online-platform")
        #expect(one.json["agency_responsible"] as? String == "海珠区政协")
        #expect((one.json["requested_datetime"] as? String)?.hasSuffix("+08:00") == true)
        let list = try await intake.send("GET", "/open311/v2/requests.json?jurisdiction_id=haizhu&api_key=\(apiKey)&status=open")
        #expect(list.text.contains(id))
        let closedOnly = try await intake.send("GET", "/open311/v2/requests.json?jurisdiction_id=haizhu&api_key=\(apiKey)&status=closed")
        #expect(closedOnly.text == "[]")
        let oldWindow = try await intake.send(
            "GET", "/open311/v2/requests.json?jurisdiction_id=haizhu&api_key=\(apiKey)&end_date=2020-01-01T00:00:00Z")
        #expect(oldWindow.text == "[]", "a window that ends before the request leaves it out")
        // The contact never shows in Open311 answers.
        #expect(!one.text.contains("陈先生") && !one.text.contains("84123456"))

        // Errors in Open311's own shape.
        let badKey = try await intake.send("GET", "/open311/v2/requests.json?jurisdiction_id=haizhu&api_key=gov311:wrong")
        #expect(badKey.status == 401)
        let errors = try JSONSerialization.jsonObject(with: badKey.body) as? [[String: Any]]
        #expect(errors?.first?["code"] as? Int == 401 && errors?.first?["description"] is String)
        let noTitle = URLEncodedForm.encode([
            ("api_key", apiKey), ("jurisdiction_id", "haizhu"), ("service_code", "community"), ("attribute[specific_suggestions]", "x"),
            ("attribute[anonymous]", "yes"),
        ])
        let missing = try await intake.send(
            "POST", "/open311/v2/requests.json", body: Data(noTitle.utf8), contentType: "application/x-www-form-urlencoded")
        #expect(missing.status == 422 && missing.json["field"] as? String == "attribute[title]")
        let otherDistrict = try await intake.send("GET", "/open311/v2/requests.json?jurisdiction_id=tianhe&api_key=\(apiKey)")
        #expect(otherDistrict.status == 403)
        #expect(try await intake.send("GET", "/open311/v2/services.json").status == 400)
        try await intake.stop()
    }

    @Test func batchImportKeepsGoodRowsAndReportsBadOnes() async throws {
        let intake = try await IntakeFixture()
        let studio = ["Authorization": "Bearer \(try intake.staffToken(.memberStudio))", "Idempotency-Key": "shayuan-2026-11"]
        var file = Data([0xEF, 0xBB, 0xBF])
        file += Data(
            """
            标题,情况分析,具体建议,来源,接收人,联系人,联系电话,同意公开,备注\r
            路灯不亮,夜间无照明,尽快维修,街道委员工作室,沙园街委员工作室,李四,020-84123456,是,第一条\r
            ,缺标题,建议,社区,,,,,\r
            垃圾分类,投放点少,增设投放点,社区,,王五,12345,否,\r
            "带引号的标题","多行
            情况",增加公交,政协委员,张委员,,,是,\r
            坏"引号,x,y,社区,,,,,\r
            ,,,,,,,,\r

            """.utf8)
        file += Data("\r\n".utf8)  // a blank line
        file += Data("无效编码,".utf8) + Data([0xFF]) + Data(",建议,社区,,,,,\r\n".utf8)
        file += Data("最后一行,没有换行,也要读,协商活动,,,,,".utf8)

        let answer = try await intake.send("POST", "/v1/clues/batch", body: file, contentType: "text/csv; charset=utf-8", headers: studio)
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.json["accepted"] as? Int == 3)
        #expect(answer.json["rejected"] as? Int == 4)
        #expect(answer.json["ignoredColumns"] as? [String] == ["备注"])
        let rows = try #require(answer.json["rows"] as? [[String: Any]])
        // Row numbers count records (a quoted line break stays in its row) and blank lines, header = 1.
        #expect(rows.map { $0["row"] as? Int } == [2, 3, 4, 5, 6, 9, 10])
        #expect(rows.map { $0["result"] as? String } == ["accepted", "rejected", "rejected", "accepted", "rejected", "rejected", "accepted"])
        func problem(_ row: Int) -> [String: Any]? { rows.first { $0["row"] as? Int == row }?["error"] as? [String: Any] }
        #expect(problem(3)?["field"] as? String == "title")
        #expect(problem(4)?["field"] as? String == "contact.phone")
        #expect(problem(6)?["code"] as? String == "malformed-csv")
        #expect(problem(9)?["code"] as? String == "malformed-csv")
        #expect(try await intake.count("clues") == 3)
        #expect(
            try await intake.store.integer(
                "SELECT count(*)::int FROM clues WHERE channel = 'batch-import' AND receiver_name = '沙园街委员工作室' AND consent_to_publish") == 1)

        // The same file again with the same key: the same answers, no new clues.
        let again = try await intake.send("POST", "/v1/clues/batch", body: file, contentType: "text/csv", headers: studio)
        let firstNumbers = rows.compactMap { $0["trackingNumber"] as? String }
        let againNumbers = (again.json["rows"] as? [[String: Any]])?.compactMap { $0["trackingNumber"] as? String }
        #expect(firstNumbers.count == 3 && againNumbers == firstNumbers)
        #expect(try await intake.count("clues") == 3)

        // English headers, no BOM, LF line ends.
        let english = Data(
            "title,specificSuggestions,sourceCategory,contactName,contactPhone\nStreet lights,Fix them,community,Li Si,13800138000\n".utf8)
        let englishAnswer = try await intake.send(
            "POST", "/v1/clues/batch", body: english, contentType: "text/csv", headers: ["Authorization": studio["Authorization"]!])
        #expect(englishAnswer.json["accepted"] as? Int == 1)

        // Rows nothing but the district's rules can refuse (no key, no contact) are written together.
        let simpleRows = Data("标题,具体建议\n路灯,修好\n井盖,补上\n".utf8)
        let grouped = try await intake.send(
            "POST", "/v1/clues/batch", body: simpleRows, contentType: "text/csv", headers: ["Authorization": studio["Authorization"]!])
        #expect(grouped.json["accepted"] as? Int == 2)
        #expect(try await intake.count("clues") == 6)
        let nowhere = try await intake.send(
            "POST", "/v1/clues/batch", body: simpleRows, contentType: "text/csv",
            headers: ["Authorization": "Bearer \(try intake.staffToken(.memberStudio, district: "nowhere"))"])
        #expect(nowhere.json["rejected"] as? Int == 2 && nowhere.text.contains(#""field":"district""#))

        // Whole-file problems.
        let noHeader = try await intake.send(
            "POST", "/v1/clues/batch", body: Data("a,b\n".utf8), contentType: "text/csv", headers: ["Authorization": studio["Authorization"]!])
        #expect(noHeader.status == 422 && noHeader.errorField == "header")
        let notCSV = try await intake.send(
            "POST", "/v1/clues/batch", body: english, contentType: "application/json", headers: ["Authorization": studio["Authorization"]!])
        #expect(notCSV.status == 415 && notCSV.errorField == "Content-Type")
        let anonymous = try await intake.send("POST", "/v1/clues/batch", body: english, contentType: "text/csv")
        #expect(anonymous.status == 401)
        try await intake.stop()
    }

    @Test func residentWebFormSubmitsAndTracks() async throws {
        let intake = try await IntakeFixture()
        let page = try await intake.send("GET", "/submit/haizhu")
        #expect(page.status == 200)
        #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
        #expect(page.text.contains("海珠区百姓提案线索") && page.text.contains(#"name="specificSuggestions""#) && !page.text.contains("<script"))
        #expect(try await intake.send("GET", "/submit/tianhe").status == 404, "tianhe does not open the form")

        let form = URLEncodedForm.encode([
            ("formToken", UUID().uuidString), ("title", "<b>增设</b>公交线路"), ("situationAnalysis", "琶洲人才公寓周边交通不便"),
            ("specificSuggestions", "增加公交线路"), ("contactName", "赵六"), ("contactPhone", "13700001111"), ("consentToPublish", "on"),
            ("consentToProcessing", "on"),
        ])
        // The personal-information notice is on the form; contact details without consent are refused.
        let formPage = try await intake.send("GET", "/submit/haizhu")
        #expect(formPage.text.contains("个人信息处理说明") && formPage.text.contains("个人信息保护法") && formPage.text.contains(#"name="consentToProcessing""#))
        let withoutConsent = URLEncodedForm.encode([
            ("formToken", UUID().uuidString), ("title", "增设公交线路"), ("specificSuggestions", "增加公交线路"), ("contactName", "赵六"),
            ("contactPhone", "13700001111"),
        ])
        let refused = try await intake.send(
            "POST", "/submit/haizhu", body: Data(withoutConsent.utf8), contentType: "application/x-www-form-urlencoded")
        #expect(refused.status == 422 && refused.text.contains(#"data-field="consentToProcessing""#), "\(refused.status)")
        #expect(try await intake.count("clues") == 0)
        let submitted = try await intake.send("POST", "/submit/haizhu", body: Data(form.utf8), contentType: "application/x-www-form-urlencoded")
        #expect(submitted.status == 201)
        let number = try #require(submitted.text.firstMatch(of: /id="tracking-number">([A-Z0-9-]+)</)?.1).description
        let token = try #require(submitted.text.firstMatch(of: /id="receipt-token">([A-Za-z0-9_=-]+)</)?.1).description
        // The double-clicked submit is the same clue.
        let twice = try await intake.send("POST", "/submit/haizhu", body: Data(form.utf8), contentType: "application/x-www-form-urlencoded")
        #expect(twice.text.contains(number))
        #expect(twice.text.contains(token), "the retry shows the same receipt token, derived again")
        #expect(try await intake.count("clues") == 1)
        // What is kept of the resident: a hash of the form, no address, no token in clear.
        #expect(
            try await intake.store.integer(
                """
                SELECT count(*)::int FROM idempotency_keys WHERE key LIKE 'web-form:%' AND length(request_hash) = 32
                  AND position(convert_to(\(token), 'UTF8') in response_body) = 0 AND position(convert_to('13700001111', 'UTF8') in response_body) = 0
                """) == 1)
        #expect(try await intake.store.integer("SELECT count(*)::int FROM clues WHERE submitted_by = 'resident' AND contact_consent") == 1)
        #expect(try await intake.store.integer("SELECT count(*)::int FROM rate_limit_windows WHERE bucket LIKE '%127.0.0.1%'") == 0)

        let tracked = try await intake.send(
            "POST", "/track", body: Data(URLEncodedForm.encode([("trackingNumber", number), ("receiptToken", token)]).utf8),
            contentType: "application/x-www-form-urlencoded")
        #expect(tracked.status == 200)
        #expect(tracked.text.contains("&lt;b&gt;增设&lt;/b&gt;公交线路"), "text is escaped, never interpreted")
        let wrong = try await intake.send(
            "POST", "/track", body: Data(URLEncodedForm.encode([("trackingNumber", number), ("receiptToken", "nope")]).utf8),
            contentType: "application/x-www-form-urlencoded")
        #expect(wrong.status == 404)

        let invalid = try await intake.send(
            "POST", "/submit/haizhu", body: Data(URLEncodedForm.encode([("title", "只有标题")]).utf8), contentType: "application/x-www-form-urlencoded")
        #expect(invalid.status == 422)
        #expect(
            invalid.text.contains(#"data-field="specificSuggestions""#) && invalid.text.contains("只有标题"),
            "the form comes back with the problem and what was typed")
        try await intake.stop()
    }

    /// The resident's form takes photos and documents as a browser sends them (multipart), with
    /// the API's limits: a refused type or a too large file gets the form back, nothing stored.
    @Test func residentWebFormTakesAttachmentsWithIntakesLimits() async throws {
        let intake = try await IntakeFixture(environment: ["INTAKE_MAX_ATTACHMENT_BYTES": "4096"])
        let page = try await intake.send("GET", "/submit/haizhu")
        #expect(page.text.contains(#"enctype="multipart/form-data""#) && page.text.contains(#"type="file""#))
        let fields = [("formToken", UUID().uuidString), ("title", "路灯不亮"), ("specificSuggestions", "尽快维修"), ("anonymous", "on")]
        let photo = MultipartBody.File(field: "attachments", filename: "路灯.png", mediaType: "image/png", content: Data(repeating: 7, count: 1_000))

        let script = MultipartBody(
            fields: fields, files: [MultipartBody.File(field: "attachments", filename: "x.html", mediaType: "text/html", content: Data("<p>".utf8))])
        let refused = try await intake.send("POST", "/submit/haizhu", body: script.data, contentType: script.contentType)
        #expect(
            refused.status == 415 && refused.text.contains(#"data-field="attachments.0.mediaType""#) && refused.text.contains("路灯不亮"),
            "\(refused.status)")
        #expect(refused.text.contains("附件没有保留"), "the resident is told to choose the files again")
        #expect(refused.text.contains("不接受这种文件类型"), "the refusal in Chinese")
        let large = MultipartBody(
            fields: fields,
            files: [
                MultipartBody.File(
                    field: "attachments", filename: "big.pdf", mediaType: "application/pdf",
                    content: Data(repeating: 1, count: 5_000))
            ])
        #expect(try await intake.send("POST", "/submit/haizhu", body: large.data, contentType: large.contentType).status == 413)
        #expect(try await intake.count("clues") == 0)

        let body = MultipartBody(fields: fields, files: [photo])
        let submitted = try await intake.send("POST", "/submit/haizhu", body: body.data, contentType: body.contentType)
        #expect(submitted.status == 201, "\(submitted.text.prefix(400))")
        #expect(
            try await intake.store.integer(
                "SELECT count(*)::int FROM clue_attachments WHERE name = '路灯.png' AND media_type = 'image/png' AND size_bytes = 1000 AND length(content) = 1000"
            ) == 1)
        try await intake.stop()
    }
}
