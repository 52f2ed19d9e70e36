import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// The resident-facing web form (网页表单): server-rendered HTML in Chinese, usable on a phone,
/// no JavaScript. It submits through the same rules as the JSON API, as a resident without
/// credentials (the district must allow it; submissions are rate-limited per address).
struct WebFormController: Sendable {
    let repository: ClueRepository
    let directory: DirectoryRepository
    let settings: IntakeSettings

    func register(on router: Router<AppRequestContext>) {
        router.get("/submit", use: districts)
        router.get("/submit/:district", use: form)
        router.post("/submit/:district", use: submit)
        router.get("/track", use: trackForm)
        router.post("/track", use: track)
    }

    @Sendable func districts(_ request: Request, context: AppRequestContext) async throws -> Response {
        let open = try await directory.districts().filter(\.publicSubmission)
        let items = open.map { #"<li><a href="/submit/\#(HTML.escape($0.code))">\#(HTML.escape($0.name))</a></li>"# }.joined()
        return HTML.page(
            title: "提交百姓提案线索",
            body: """
                <h1>提交百姓提案线索</h1>
                <p>请选择您所在的区：</p>
                <ul>\(items.isEmpty ? "<li>暂无开放网上提交的区</li>" : items)</ul>
                <p><a href="/track">查询已提交线索的办理情况</a></p>
                """)
    }

    @Sendable func form(_ request: Request, context: AppRequestContext) async throws -> Response {
        let district = try await openDistrict(context)
        return try await render(district, values: [:], problem: nil, status: .ok)
    }

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let district = try await openDistrict(context)
        let data = Data(buffer: try await request.collectBody(limit: settings.maximumBodyBytes))
        guard let form = SubmittedForm.parse(data, contentType: request.headers[.contentType]) else {
            return try await render(district, values: [:], problem: APIError.badRequest("表单内容无法读取", field: "body"), status: .badRequest)
        }
        var values: [String: String] = [:]
        for (name, value) in form.values where values[name] == nil { values[name] = value }
        // Chosen files are not sent back into a refused form: the resident chooses them again.
        if !form.files.isEmpty { values["filesDropped"] = "on" }
        let anonymous = values["anonymous"] == "on"
        let input = ClueSubmission(
            district: district.code, title: values["title"] ?? "", situationAnalysis: values["situationAnalysis"],
            specificSuggestions: values["specificSuggestions"] ?? "", channel: Models.Channel.web.rawValue, anonymous: anonymous,
            contact: anonymous ? nil : .init(name: values["contactName"] ?? "", phone: values["contactPhone"], address: values["contactAddress"]),
            consentToPublish: values["consentToPublish"] == "on", themedCallID: values["themedCallId"].flatMap { $0.isEmpty ? nil : $0 },
            attachments: form.attachments(of: "attachments"), consentToProcessing: anonymous ? nil : values["consentToProcessing"] == "on")
        do {
            let clue = try input.validated(settings: settings)
            if clue.consentToProcessing == false {
                throw APIError.invalid("consentToProcessing", "留下联系方式时，请阅读个人信息处理说明并勾选同意；不愿留下的，可以选择匿名提交")
            }
            let submission = ClueController.submission(of: request, context: context, settings: settings)
            // The form's one-time token makes a double-clicked submit one clue.
            let claim = values["formToken"].flatMap { UUID(uuidString: $0) }.map {
                // A hash of the form, not the form: it holds the resident's name and phone.
                IdempotencyClaim(key: "web-form:\($0.uuidString)", requestHash: Data(SHA256.hash(data: data)))
            }
            let receipt = try await repository.accept(clue, from: submission, idempotency: claim).receipt()
            var response = HTML.page(
                title: "提交成功",
                body: """
                    <h1>提交成功</h1>
                    <p>\(receipt.resubmission ? "您此前已提交过相同内容，沿用原受理编号。" : "感谢您的建议，我们已受理。")</p>
                    <dl class="receipt">
                      <dt>受理编号</dt><dd id="tracking-number">\(HTML.escape(receipt.trackingNumber))</dd>
                      <dt>查询码</dt><dd id="receipt-token">\(HTML.escape(receipt.receiptToken))</dd>
                    </dl>
                    <p>请保存受理编号和查询码，凭此<a href="/track">查询办理情况</a>。查询码只显示这一次。</p>
                    """)
            response.status = receipt.resubmission ? .ok : .created
            return response
        } catch let problem as APIError {
            var page = try await render(district, values: values, problem: problem, status: problem.status)
            if let retryAfter = problem.retryAfter { page.headers[.retryAfter] = String(retryAfter) }
            return page
        }
    }

    func openDistrict(_ context: AppRequestContext) async throws -> DirectoryRepository.DistrictView {
        guard let code = context.parameters.get("district").flatMap(DistrictCode.init(rawValue:)),
            let district = try await directory.district(code), district.publicSubmission
        else {
            throw APIError(.notFound, code: "not-found", message: "this district does not accept clues through the web form", field: "district")
        }
        return district
    }

    static func megabytes(_ bytes: Int) -> String {
        bytes % (1024 * 1024) == 0 ? "\(bytes / (1024 * 1024)) MB" : String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }

    /// The file chooser's hint: the accepted media types.
    static func accept(_ types: Set<String>) -> String {
        HTML.escape(types.sorted().joined(separator: ","))
    }

    /// One paragraph: line breaks in the HTML would show as spaces between Chinese sentences.
    static let privacyNotice = [
        "依照《中华人民共和国个人信息保护法》：您留下的姓名、电话和地址，仅用于区政协提案工作人员就本建议与您联系、核实情况和告知办理结果；",
        "只有区政协提案工作人员和办理本建议的单位在工作需要时可以看到，不会公开，也不会写入公开页面和开放数据。",
        "联系方式随本线索的档案保存；您可以随时联系区政协查询、更正或要求删除。不愿留下联系方式的，可以匿名提交。",
    ].joined()

    static let fieldLabels: [String: String] = [
        "title": "标题", "situationAnalysis": "情况分析", "specificSuggestions": "具体建议", "contact.name": "联系人",
        "contact.phone": "联系电话", "contact.address": "联系地址", "themedCallId": "选题", "district": "区", "body": "表单",
        "consentToProcessing": "个人信息处理", "attachments": "附件",
    ]

    func render(_ district: DirectoryRepository.DistrictView, values: [String: String], problem: APIError?, status: HTTPResponse.Status) async throws
        -> Response
    {
        let calls = try await directory.calls(in: DistrictCode(rawValue: district.code)!, includeClosed: false)
        func value(_ name: String) -> String { HTML.escape(values[name] ?? "") }
        func checked(_ name: String) -> String { values[name] == "on" ? " checked" : "" }
        let options = calls.map { call in
            let selected = values["themedCallId"] == call.id.uuidString ? " selected" : ""
            return #"<option value="\#(call.id.uuidString)"\#(selected)>\#(HTML.escape(call.title))</option>"#
        }.joined()
        var errorBlock = ""
        if let problem {
            let label =
                problem.field.flatMap { Self.fieldLabels[$0] ?? $0.split(separator: ".").first.flatMap { Self.fieldLabels[String($0)] } }
                ?? problem.field ?? ""
            errorBlock =
                #"<div class="error" role="alert" data-field="\#(HTML.escape(problem.field ?? ""))" data-code="\#(HTML.escape(problem.code))"><strong>\#(HTML.escape(label))</strong>：\#(HTML.escape(Attachments.explanation(code: problem.code) ?? problem.message))</div>"#
        }
        var page = HTML.page(
            title: "\(district.name)百姓提案线索",
            body: """
                <h1>\(HTML.escape(district.name))百姓提案线索</h1>
                <p>欢迎就您身边的民生问题提出意见建议。带 * 的为必填项。</p>
                \(errorBlock)
                <form method="post" action="/submit/\(HTML.escape(district.code))" enctype="multipart/form-data">
                  <input type="hidden" name="formToken" value="\(HTML.escape(values["formToken"] ?? UUID().uuidString))">
                  <label for="title">标题 *</label>
                  <input id="title" name="title" required maxlength="\(FieldLimits.title)" value="\(value("title"))">
                  <label for="situationAnalysis">情况分析</label>
                  <textarea id="situationAnalysis" name="situationAnalysis" rows="6" maxlength="\(FieldLimits.situationAnalysis)">\(value("situationAnalysis"))</textarea>
                  <label for="specificSuggestions">具体建议 *</label>
                  <textarea id="specificSuggestions" name="specificSuggestions" rows="6" required maxlength="\(FieldLimits.specificSuggestions)">\(value("specificSuggestions"))</textarea>
                  \(calls.isEmpty ? "" : #"<label for="themedCallId">选题征集（可选）</label><select id="themedCallId" name="themedCallId"><option value="">不针对特定选题</option>\#(options)</select>"#)
                  <label for="attachments">附件（可选，最多 \(settings.attachmentLimits.maximumCount) 个，每个不超过 \(Self.megabytes(settings.attachmentLimits.maximumBytes))；照片、PDF、Word、Excel 或文本）</label>
                  \(values["filesDropped"] == "on" && problem != nil ? #"<p class="error">刚才选择的附件没有保留，请重新选择。</p>"# : "")
                  <input id="attachments" name="attachments" type="file" multiple accept="\(Self.accept(settings.attachmentLimits.mediaTypes))">
                  <fieldset>
                    <legend>联系方式</legend>
                    <label for="contactName">联系人</label>
                    <input id="contactName" name="contactName" maxlength="\(FieldLimits.contactName)" autocomplete="name" value="\(value("contactName"))">
                    <label for="contactPhone">联系电话</label>
                    <input id="contactPhone" name="contactPhone" type="tel" autocomplete="tel" value="\(value("contactPhone"))">
                    <label for="contactAddress">联系地址</label>
                    <input id="contactAddress" name="contactAddress" maxlength="\(FieldLimits.contactAddress)" value="\(value("contactAddress"))">
                    <label class="check"><input type="checkbox" name="anonymous"\(checked("anonymous"))> 匿名提交（不填写联系方式）</label>
                    <details class="privacy" open>
                      <summary>个人信息处理说明</summary>
                      <p>\(Self.privacyNotice)</p>
                    </details>
                    <label class="check"><input type="checkbox" name="consentToProcessing"\(checked("consentToProcessing"))> 我已阅读上述说明，同意按说明处理我留下的联系方式（匿名提交无需勾选）</label>
                  </fieldset>
                  <label class="check"><input type="checkbox" name="consentToPublish"\(checked("consentToPublish"))> 同意公开本建议（联系方式不会公开）</label>
                  <button type="submit">提交</button>
                </form>
                """)
        page.status = status
        return page
    }

    @Sendable func trackForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        HTML.page(title: "查询线索办理情况", body: Self.trackFormBody(number: "", problem: nil))
    }

    static func trackFormBody(number: String, problem: String?) -> String {
        """
        <h1>查询线索办理情况</h1>
        \(problem.map { #"<div class="error" role="alert">\#(HTML.escape($0))</div>"# } ?? "")
        <form method="post" action="/track">
          <label for="trackingNumber">受理编号</label>
          <input id="trackingNumber" name="trackingNumber" required value="\(HTML.escape(number))" placeholder="HZ-2026-000123">
          <label for="receiptToken">查询码</label>
          <input id="receiptToken" name="receiptToken" required autocomplete="off">
          <button type="submit">查询</button>
        </form>
        """
    }

    /// POST keeps the receipt token out of URLs and access logs.
    @Sendable func track(_ request: Request, context: AppRequestContext) async throws -> Response {
        let data = Data(buffer: try await request.collectBody(limit: 16 * 1024))
        var values: [String: String] = [:]
        for (name, value) in URLEncodedForm.parse(data) ?? [] where values[name] == nil { values[name] = value }
        let number = values["trackingNumber"]?.trimmingCharacters(in: .whitespaces).uppercased() ?? ""
        let token = values["receiptToken"]?.trimmingCharacters(in: .whitespaces) ?? ""
        guard let status = try await repository.status(trackingNumber: number, receiptToken: token) else {
            var page = HTML.page(title: "查询线索办理情况", body: Self.trackFormBody(number: number, problem: "未找到：请核对受理编号和查询码。"))
            page.status = .notFound
            return page
        }
        return HTML.page(
            title: "线索办理情况",
            body: """
                <h1>线索办理情况</h1>
                <dl class="receipt">
                  <dt>受理编号</dt><dd>\(HTML.escape(status.trackingNumber))</dd>
                  <dt>标题</dt><dd>\(HTML.escape(status.title))</dd>
                  <dt>状态</dt><dd id="status">\(HTML.escape(status.statusLabel))</dd>
                  \(status.themedCall.map { "<dt>选题</dt><dd>\(HTML.escape($0))</dd>" } ?? "")
                  <dt>受理时间</dt><dd>\(Open311Time.format(status.receivedAt))</dd>
                  <dt>更新时间</dt><dd>\(Open311Time.format(status.updatedAt))</dd>
                </dl>
                <p><a href="/track">查询其他线索</a></p>
                """)
    }
}

/// Small helpers for server-rendered pages.
enum HTML {
    static func escape(_ text: String) -> String { HTMLText.escape(text) }

    static func page(title: String, body: String) -> Response {
        let html = """
            <!doctype html>
            <html lang="zh-CN">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>
            body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:40rem;margin:0 auto;padding:1rem;line-height:1.6;color:#1a1a1a}
            label{display:block;margin-top:.8rem;font-weight:600}
            label.check{font-weight:normal}
            input:not([type=checkbox]),textarea,select{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #767676;border-radius:4px}
            fieldset{margin-top:1rem;border:1px solid #ccc;border-radius:4px}
            button{margin-top:1.2rem;padding:.7rem 2rem;font-size:1.1rem;background:#b71c1c;color:#fff;border:0;border-radius:4px}
            .error{background:#fdecea;border:1px solid #b71c1c;padding:.6rem;border-radius:4px}
            dl.receipt dt{font-weight:600}dl.receipt dd{margin:0 0 .6rem 0;font-size:1.2rem;word-break:break-all}
            </style>
            </head>
            <body>
            <main>
            \(body)
            </main>
            </body>
            </html>
            """
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
