import Foundation
import HTTPTypes
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

/// Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), JSON only, so a 311-style client
/// of the government-service platform submits clues unchanged. Services are the form's source
/// categories and the district's open themed calls; `jurisdiction_id` is the district code and
/// `api_key` is `<key id>:<secret>` of an integration key with the open311 channel.
struct Open311Controller: Sendable {
    let repository: ClueRepository
    let directory: DirectoryRepository
    let integrations: IntegrationAuthenticator
    let settings: IntakeSettings

    /// Open311's error shape: `[{"code": 400, "description": "..."}]`, plus the field at fault.
    struct Failure: HTTPResponseError {
        var status: HTTPResponse.Status
        var description: String
        var field: String?
        var retryAfter: Int?

        init(_ status: HTTPResponse.Status, _ description: String, field: String? = nil) {
            self.status = status
            self.description = description
            self.field = field
        }

        init(_ error: APIError) {
            self.init(
                error.status, error.field.map { "\($0): \(error.message)" } ?? error.message,
                field: error.field.map(Open311Controller.parameter(for:)))
            retryAfter = error.retryAfter
        }

        struct Item: Encodable {
            var code: Int
            var description: String
            var field: String?
        }

        func response(from request: Request, context: some RequestContext) throws -> Response {
            var response = try jsonResponse([Item(code: Int(status.code), description: description, field: field)], status: status)
            if let retryAfter { response.headers[HTTPField.Name.retryAfter] = String(retryAfter) }
            return response
        }
    }

    /// The Open311 parameter an error of the JSON API's field names.
    static func parameter(for field: String) -> String {
        switch field {
        case "district": "jurisdiction_id"
        case "title": "attribute[title]"
        case "specificSuggestions": "attribute[specific_suggestions]"
        case "situationAnalysis": "description"
        case "sourceCategory", "themedCallId": "service_code"
        case "contact.name": "last_name"
        case "contact.phone": "phone"
        case "contact.address": "address_string"
        case "receiver.name", "receiver.kind", "receiver": "attribute[receiver_name]"
        default: field
        }
    }

    func register(on router: Router<AppRequestContext>) {
        let group = router.group("/open311/v2")
        group.get("/services.json", use: services)
        group.get("/services/:code", use: service)
        group.post("/requests.json", use: create)
        group.get("/requests.json", use: requests)
        group.get("/requests/:id", use: request)
    }

    // MARK: services

    struct ServiceEntry: Encodable {
        var service_code: String
        var service_name: String
        var description: String
        var metadata: Bool
        var type: String
        var keywords: String
        var group: String
    }

    struct AttributeValue: Encodable { var key: String; var name: String }

    struct Attribute: Encodable {
        var variable: Bool
        var code: String
        var datatype: String
        var required: Bool
        var datatype_description: String?
        var order: Int
        var description: String
        var values: [AttributeValue]?
    }

    struct Definition: Encodable {
        var service_code: String
        var attributes: [Attribute]
    }

    static let attributes: [Attribute] = {
        let yesNo = [AttributeValue(key: "yes", name: "是"), AttributeValue(key: "no", name: "否")]
        return [
            Attribute(
                variable: true, code: "title", datatype: "string", required: true, datatype_description: "at most \(FieldLimits.title) characters",
                order: 1, description: "标题 (title)"),
            Attribute(
                variable: true, code: "specific_suggestions", datatype: "text", required: true,
                datatype_description: "at most \(FieldLimits.specificSuggestions) characters", order: 2, description: "具体建议 (specific suggestions)"),
            Attribute(
                variable: true, code: "consent_to_publish", datatype: "singlevaluelist", required: false, datatype_description: nil, order: 3,
                description: "是否同意公开 (consent to publish)", values: yesNo),
            Attribute(
                variable: true, code: "anonymous", datatype: "singlevaluelist", required: false, datatype_description: nil, order: 4,
                description: "是否匿名 (anonymous)", values: yesNo),
            Attribute(
                variable: true, code: "receiver_name", datatype: "string", required: false,
                datatype_description: "member or studio that took the clue in", order: 5, description: "接收人 (receiver)"),
        ]
    }()

    func district(_ request: Request) async throws -> DirectoryRepository.DistrictView {
        guard let code = request.uri.queryParameters["jurisdiction_id"].map(String.init) else {
            throw Failure(.badRequest, "jurisdiction_id is required (a district code such as haizhu)", field: "jurisdiction_id")
        }
        guard let district = DistrictCode(rawValue: code), let view = try await directory.district(district) else {
            throw Failure(.notFound, "unknown jurisdiction_id \(code)", field: "jurisdiction_id")
        }
        return view
    }

    func entries(for district: DirectoryRepository.DistrictView) async throws -> [ServiceEntry] {
        var entries = SourceCategory.allCases.map { category in
            ServiceEntry(
                service_code: category.rawValue, service_name: category.chineseName,
                description: "百姓提案线索：\(category.chineseName)", metadata: true, type: "realtime",
                keywords: "百姓提案, 线索, \(category.chineseName)", group: "百姓提案")
        }
        let calls = try await directory.calls(in: DistrictCode(rawValue: district.code)!, includeClosed: false)
        entries += calls.map { call in
            ServiceEntry(
                service_code: "call-\(call.id.uuidString.lowercased())", service_name: call.title, description: call.description,
                metadata: true, type: "realtime", keywords: "选题征集, \(call.title)", group: "选题征集")
        }
        return entries
    }

    @Sendable func services(_ request: Request, context: AppRequestContext) async throws -> Response {
        try jsonResponse(try await entries(for: try await district(request)))
    }

    @Sendable func service(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let file = context.parameters.get("code"), file.hasSuffix(".json") else {
            throw Failure(.notFound, "use /services/{service_code}.json")
        }
        let code = String(file.dropLast(".json".count))
        let district = try await district(request)
        guard try await entries(for: district).contains(where: { $0.service_code == code }) else {
            throw Failure(.notFound, "unknown service_code \(code)", field: "service_code")
        }
        return try jsonResponse(Definition(service_code: code, attributes: Self.attributes))
    }

    // MARK: requests

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        do {
            let data = Data(buffer: try await request.collectBody(limit: settings.maximumBodyBytes))
            guard let fields = URLEncodedForm.parse(data) else {
                throw Failure(.badRequest, "the body must be application/x-www-form-urlencoded UTF-8", field: "body")
            }
            var form: [String: String] = [:]
            for (name, value) in fields where form[name] == nil { form[name] = value }
            guard let apiKey = form["api_key"] else { throw Failure(.unauthorized, "api_key is required", field: "api_key") }
            let credentials = try await integrations.verify(apiKey: apiKey)
            guard let jurisdiction = form["jurisdiction_id"] else {
                throw Failure(.badRequest, "jurisdiction_id is required (a district code such as haizhu)", field: "jurisdiction_id")
            }
            guard let serviceCode = form["service_code"], !serviceCode.isEmpty else {
                throw Failure(.badRequest, "service_code is required", field: "service_code")
            }
            var category = SourceCategory.onlinePlatform.rawValue
            var call: String?
            if serviceCode.hasPrefix("call-") {
                call = String(serviceCode.dropFirst("call-".count))
            } else {
                guard SourceCategory(rawValue: serviceCode) != nil else {
                    throw Failure(.badRequest, "unknown service_code \(serviceCode)", field: "service_code")
                }
                category = serviceCode
            }
            func attribute(_ name: String) -> String? {
                form["attribute[\(name)]"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
            }
            func yesNo(_ name: String) throws -> Bool? {
                guard let value = form["attribute[\(name)]"], !value.isEmpty else { return nil }
                switch value {
                case "yes": return true
                case "no": return false
                default: throw Failure(.badRequest, "attribute[\(name)] must be yes or no", field: "attribute[\(name)]")
                }
            }
            // Chinese names are written family name first.
            let name = [form["last_name"], form["first_name"]].compactMap { $0?.trimmingCharacters(in: .whitespaces) }.joined()
            let anonymous = try yesNo("anonymous") ?? name.isEmpty
            let submission = ClueSubmission(
                district: jurisdiction,
                // Most 311 apps send a description and no attributes: its first sentence is the
                // title, and the whole of it the suggestion.
                title: attribute("title") ?? ClueSubmission.title(fromDescription: form["description"]),
                situationAnalysis: attribute("specific_suggestions") == nil ? nil : form["description"],
                specificSuggestions: attribute("specific_suggestions") ?? form["description"], sourceCategory: category,
                channel: Models.Channel.open311.rawValue,
                receiver: form["attribute[receiver_name]"].flatMap {
                    $0.isEmpty ? nil : .init(kind: $0.contains("工作室") ? "studio" : "member", name: $0)
                },
                anonymous: anonymous,
                contact: anonymous ? nil : .init(name: name, phone: form["phone"], address: form["address_string"]),
                consentToPublish: try yesNo("consent_to_publish"), themedCallID: call)
            let clue = try submission.validated(settings: settings)
            try SubmissionPolicy.check(clue, from: .integration(credentials))
            let receipt = try await repository.accept(clue, from: .integration(credentials), idempotency: nil).receipt()
            struct Created: Encodable {
                var service_request_id: String
                var service_notice: String
                var account_id: String?
                /// Not in the spec: lets the resident check the status on the public tracking page.
                var receipt_token: String
            }
            let notice = receipt.resubmission ? "同一联系人已提交过相同内容，沿用原受理编号" : "已受理，请保存受理编号和查询码"
            return try jsonResponse(
                [Created(service_request_id: receipt.trackingNumber, service_notice: notice, account_id: nil, receipt_token: receipt.receiptToken)],
                status: .created)
        } catch let error as APIError {
            throw Failure(error)
        }
    }

    struct ServiceRequest: Encodable {
        var service_request_id: String
        var status: String
        var status_notes: String
        var service_name: String
        var service_code: String
        var description: String
        var agency_responsible: String
        var service_notice: String?
        var requested_datetime: String
        var updated_datetime: String
        var expected_datetime: String?
        var address: String?
        var media_url: String?
    }

    /// GET requests answer only what the same integration key submitted in that district.
    func caller(_ request: Request) async throws -> (IntegrationCredentials, DirectoryRepository.DistrictView) {
        do {
            guard let apiKey = request.uri.queryParameters["api_key"].map(String.init) else {
                throw Failure(.unauthorized, "api_key is required", field: "api_key")
            }
            let credentials = try await integrations.verify(apiKey: apiKey)
            let district = try await district(request)
            guard credentials.districts.contains(DistrictCode(rawValue: district.code)!) else {
                throw Failure(.forbidden, "this api_key may not read jurisdiction \(district.code)", field: "jurisdiction_id")
            }
            return (credentials, district)
        } catch let error as APIError {
            throw Failure(error)
        }
    }

    @Sendable func request(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let file = context.parameters.get("id"), file.hasSuffix(".json") else {
            throw Failure(.notFound, "use /requests/{service_request_id}.json")
        }
        let id = String(file.dropLast(".json".count))
        let (credentials, district) = try await caller(request)
        guard TrackingNumber.isWellFormed(id) else {
            throw Failure(.notFound, "no service request \(id) from this api_key", field: "service_request_id")
        }
        let found = try await repository.open311Requests(
            district: district, submittedBy: Caller.integration(credentials).identity, ids: [id], from: nil, to: nil)
        guard !found.isEmpty else { throw Failure(.notFound, "no service request \(id) from this api_key", field: "service_request_id") }
        return try jsonResponse(found)
    }

    @Sendable func requests(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (credentials, district) = try await caller(request)
        let query = request.uri.queryParameters
        // Only well-formed tracking numbers can match; the rest never reach the database.
        let ids = query["service_request_id"].map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter(TrackingNumber.isWellFormed)
        }
        func date(_ name: String) throws -> Date? {
            guard let text = query[Substring(name)].map(String.init) else { return nil }
            guard let date = Open311Time.parse(text) else {
                throw Failure(.badRequest, "\(name) must be a W3C date-time such as 2026-11-01T00:00:00+08:00", field: name)
            }
            return date
        }
        var (start, end) = (try date("start_date"), try date("end_date"))
        if let start, let end, end < start { throw Failure(.badRequest, "end_date is before start_date", field: "end_date") }
        // The spec's default window: the last 90 days, unless requests are asked for by id.
        if ids == nil && start == nil && end == nil { start = Date().addingTimeInterval(-90 * 86_400) }
        if ids == nil, let given = start, end == nil { end = given.addingTimeInterval(90 * 86_400) }
        if ids == nil, let given = end, start == nil { start = given.addingTimeInterval(-90 * 86_400) }
        let status = query["status"].map(String.init)
        if let status, status != "open" && status != "closed" { throw Failure(.badRequest, "status must be open or closed", field: "status") }
        let serviceCode = query["service_code"].map(String.init)
        var found = try await repository.open311Requests(
            district: district, submittedBy: Caller.integration(credentials).identity, ids: ids, from: start, to: end)
        if let status { found = found.filter { $0.status == status } }
        if let serviceCode { found = found.filter { $0.service_code == serviceCode } }
        return try jsonResponse(found)
    }
}

/// Open311's W3C date-times, in China's time zone.
enum Open311Time {
    static func format(_ date: Date) -> String {
        var style = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
        style = style.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .colon)
        return date.formatted(style)
    }

    static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}
