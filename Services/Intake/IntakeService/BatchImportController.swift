import Crypto
import Foundation
import Hummingbird
import Models
import ServiceKit

/// The standard form's columns as a studio's spreadsheet names them, in Chinese or English.
enum BatchColumn: String, CaseIterable, Sendable {
    case title, situationAnalysis, specificSuggestions, sourceCategory, receiverName, receiverKind
    case contactName, contactPhone, contactAddress, anonymous, consentToPublish, themedCallID

    static let headerNames: [String: BatchColumn] = {
        var names: [String: BatchColumn] = [:]
        let synonyms: [BatchColumn: [String]] = [
            .title: ["标题", "title"],
            .situationAnalysis: ["情况分析", "situationanalysis", "situation"],
            .specificSuggestions: ["具体建议", "specificsuggestions", "suggestions", "建议"],
            .sourceCategory: ["来源", "sourcecategory", "source"],
            .receiverName: ["接收人", "receiver", "receivername", "接收人（委员/街道工作室）", "接收人(委员/街道工作室)"],
            .receiverKind: ["接收人类型", "receiverkind"],
            .contactName: ["联系人", "姓名", "contactname", "name"],
            .contactPhone: ["联系电话", "电话", "contactphone", "phone"],
            .contactAddress: ["联系地址", "地址", "contactaddress", "address"],
            .anonymous: ["匿名", "是否匿名", "anonymous"],
            .consentToPublish: ["同意公开", "是否同意公开", "consenttopublish", "consent"],
            .themedCallID: ["选题", "选题编号", "themedcallid", "themedcall"],
        ]
        for (column, list) in synonyms { for name in list { names[name] = column } }
        return names
    }()

    /// Header text compared without case, spaces, underscores or hyphens.
    static func named(_ header: String) -> BatchColumn? {
        let key = header.trimmingCharacters(in: .whitespaces).lowercased().filter { $0 != " " && $0 != "_" && $0 != "-" }
        return headerNames[key]
    }
}

/// Which column of this file holds which field.
struct BatchLayout: Sendable {
    var positions: [BatchColumn: Int]
    var ignored: [String]

    /// Reads the header line; title and suggestions columns are required, unknown ones ignored.
    init(header: [String]) throws(APIError) {
        positions = [:]
        ignored = []
        for (index, name) in header.enumerated() {
            guard let column = BatchColumn.named(name) else {
                if !name.trimmingCharacters(in: .whitespaces).isEmpty { ignored.append(name) }
                continue
            }
            guard positions[column] == nil else { throw APIError.invalid("header", "column \(name) appears twice") }
            positions[column] = index
        }
        for required in [BatchColumn.title, .specificSuggestions] where positions[required] == nil {
            throw APIError.invalid("header", "the header has no \(required == .title ? "标题/title" : "具体建议/specificSuggestions") column")
        }
    }

    /// One row as a submission; `defaults` fills what the file leaves out.
    func submission(_ fields: [String], district: DistrictCode, defaults: BatchDefaults) throws(APIError) -> ClueSubmission {
        func value(_ column: BatchColumn) -> String? {
            guard let index = positions[column], index < fields.count else { return nil }
            let text = fields[index].trimmingCharacters(in: .whitespaces)
            return text.isEmpty ? nil : text
        }
        func flag(_ column: BatchColumn) throws(APIError) -> Bool? {
            guard let text = value(column) else { return nil }
            switch text.lowercased() {
            case "是", "yes", "y", "true", "1", "同意": return true
            case "否", "no", "n", "false", "0", "不同意": return false
            default: throw APIError.invalid(column.rawValue, "must be 是/否 (yes/no)")
            }
        }
        var category = defaults.sourceCategory?.rawValue
        if let label = value(.sourceCategory) {
            guard let known = SourceCategory(label: label) else {
                throw APIError.invalid("sourceCategory", "unknown source category \(label); e.g. 街道委员工作室, 社区, 政协委员 or a code such as street-studio")
            }
            category = known.rawValue
        }
        var receiver = defaults.receiver.map { ClueSubmission.ReceiverInput(kind: $0.kind.rawValue, name: $0.name) }
        if let name = value(.receiverName) {
            var kind = name.contains("工作室") ? "studio" : "member"
            if let text = value(.receiverKind) {
                switch text.lowercased() {
                case "委员", "member": kind = "member"
                case "工作室", "街道工作室", "studio": kind = "studio"
                default: throw APIError.invalid("receiverKind", "must be 委员 (member) or 工作室 (studio)")
                }
            }
            receiver = .init(kind: kind, name: name)
        }
        let (name, phone, address) = (value(.contactName), value(.contactPhone), value(.contactAddress))
        // A paper form with no contact at all was handed in anonymously.
        let anonymous = try flag(.anonymous) ?? (name == nil && phone == nil && address == nil)
        return ClueSubmission(
            district: district.rawValue, title: value(.title), situationAnalysis: value(.situationAnalysis),
            specificSuggestions: value(.specificSuggestions), sourceCategory: category, channel: Models.Channel.batchImport.rawValue,
            receiver: receiver, anonymous: anonymous,
            contact: anonymous ? nil : .init(name: name, phone: phone, address: address),
            consentToPublish: try flag(.consentToPublish), themedCallID: value(.themedCallID))
    }
}

/// What a batch's rows get when they leave a field empty (query parameters of the upload).
struct BatchDefaults: Sendable {
    var sourceCategory: SourceCategory?
    var receiver: Receiver?
}

/// One row's result in the answer to a batch upload.
struct BatchRowResult: Encodable, Sendable {
    struct Problem: Encodable, Sendable {
        var code: String
        var message: String
        var field: String?
    }

    /// The row's number in the file, the header being row 1.
    var row: Int
    var result: String
    var trackingNumber: String?
    var receiptToken: String?
    var resubmission: Bool?
    var error: Problem?
}

/// The answer to a batch upload: counts, then `rows`, one result per row in file order.
struct BatchAnswer: Encodable, Sendable {
    var district: String
    var accepted = 0
    var rejected = 0
    var ignoredColumns: [String] = []
    /// True when the upload went past the size or row limit and the rest was not read.
    var truncated = false
}

/// The row results, kept as encoded JSON as they come (a few dozen bytes a row) rather than
/// as values to encode at the end, so a 10,000-row answer needs little more than its own size.
struct BatchRows {
    private(set) var json = ByteBuffer()

    mutating func append(_ result: BatchRowResult) throws {
        json.writeString(json.readableBytes == 0 ? "" : ",")
        json.writeBytes(try EventCoding.encoder.encode(result))
    }

    /// `{...answer..., "rows": [...]}`.
    func response(_ answer: BatchAnswer) throws -> Response {
        var body = ByteBuffer(bytes: try EventCoding.encoder.encode(answer).dropLast())
        body.writeString(#","rows":["#)
        body.writeImmutableBuffer(json)
        body.writeString("]}")
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
    }
}

/// `POST /v1/clues/batch`: a studio's monthly collection as CSV. Rows are read as the upload
/// streams in; valid rows are stored a hundred to a transaction, each in a savepoint, so good
/// rows are kept when others fail. A store failure (e.g. the database is down) ends the upload
/// with an error: rows before it are stored, and re-sending the file with the same
/// Idempotency-Key answers them again without storing them twice.
struct BatchImportController: Sendable {
    let repository: ClueRepository
    let settings: IntakeSettings

    @Sendable func importCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let submission = ClueController.submission(of: request, context: context, settings: settings)
        if case .resident = submission { throw APIError.unauthorized }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("text/csv") || contentType.hasPrefix("application/csv") else {
            throw APIError(.unsupportedMediaType, code: "unsupported-media-type", message: "send the file as text/csv (UTF-8)", field: "Content-Type")
        }
        if let charset = contentType.split(separator: ";").dropFirst().first(where: { $0.contains("charset") }),
            !charset.contains("utf-8") && !charset.contains("utf8")
        {
            throw APIError(.unsupportedMediaType, code: "unsupported-media-type", message: "the file must be UTF-8", field: "Content-Type")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > settings.batchMaximumBytes {
            throw APIError.bodyTooLarge(limit: settings.batchMaximumBytes)
        }
        let key = request.header("Idempotency-Key")
        try IdempotencyClaim.validate(key)
        let district = try Self.district(of: submission, query: request.uri.queryParameters["district"].map(String.init))
        let defaults = try Self.defaults(request.uri.queryParameters)
        // Read once for the whole file: every row's receiver is credited against it.
        let register = try await repository.register.entries(of: district)

        var reader = CSVRecords()
        var layout: BatchLayout?
        var answer = BatchAnswer(district: district.rawValue)
        var rows = BatchRows()
        var pending: [(row: Int, clue: ValidClue, idempotency: IdempotencyClaim?)] = []
        var recordNumber = 0
        var bytesRead = 0

        func record(_ result: BatchRowResult) throws {
            if result.result == "rejected" { answer.rejected += 1 } else { answer.accepted += 1 }
            try rows.append(result)
        }

        // Valid rows are stored a group at a time: one commit for many clues.
        func flush() async throws {
            guard !pending.isEmpty else { return }
            let results: [Result<AcceptOutcome, APIError>]
            do {
                results = try await repository.acceptAll(pending.map { ($0.clue, $0.idempotency) }, district: district, from: submission)
            } catch let error as APIError {
                throw error
            } catch {
                context.logger.error("batch import stopped", metadata: ["error": "\(String(reflecting: error))", "row": "\(pending[0].row)"])
                throw APIError(
                    .serviceUnavailable, code: "store-unavailable",
                    message: "the rows before row \(pending[0].row) were stored, the rest not; send the file again with the same Idempotency-Key",
                    retryAfter: 5)
            }
            for (item, result) in zip(pending, results) { try record(Self.rowResult(item.row, result)) }
            pending.removeAll(keepingCapacity: true)
        }

        func handle(_ csvRecord: CSVRecords.Record) async throws {
            recordNumber += 1
            guard let layout else {
                guard case .success(let header) = csvRecord else { throw APIError.invalid("header", "the header line cannot be read") }
                let read = try BatchLayout(header: header)
                layout = read
                answer.ignoredColumns = read.ignored
                return
            }
            // Blank lines and rows of empty cells (spreadsheets export them) are not clues.
            if case .success(let fields) = csvRecord, fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { return }
            guard recordNumber - 1 <= settings.batchMaximumRows else {
                answer.truncated = true
                return
            }
            do {
                let (clue, claim) = try validRow(
                    csvRecord, number: recordNumber, layout: layout, district: district, defaults: defaults,
                    register: register, submission: submission, key: key)
                pending.append((recordNumber, clue, claim))
                if pending.count >= Self.rowsPerTransaction { try await flush() }
            } catch let error as APIError {
                // Rows before it go first, so results stay in file order.
                try await flush()
                try record(Self.rowResult(recordNumber, .failure(error)))
            }
        }

        reading: for try await buffer in request.body {
            bytesRead += buffer.readableBytes
            if bytesRead > settings.batchMaximumBytes {
                answer.truncated = true
                break reading
            }
            for csvRecord in reader.feed(buffer.readableBytesView) {
                try await handle(csvRecord)
                if answer.truncated { break reading }
            }
        }
        if !answer.truncated {
            for csvRecord in reader.finish() { try await handle(csvRecord) }
        }
        try await flush()
        guard layout != nil else { throw APIError.invalid("header", "the file is empty; the first line must name the columns") }
        context.logger.info(
            "batch imported", metadata: ["district": "\(district)", "accepted": "\(answer.accepted)", "rejected": "\(answer.rejected)"])
        return try rows.response(answer)
    }

    static let rowsPerTransaction = 100

    /// One row as a valid clue, or the reason it is not one.
    func validRow(
        _ record: CSVRecords.Record, number: Int, layout: BatchLayout, district: DistrictCode, defaults: BatchDefaults,
        register: [RegisterEntry], submission: Submission, key: String?
    ) throws(APIError) -> (ValidClue, IdempotencyClaim?) {
        let fields: [String]
        switch record {
        case .success(let values): fields = values
        case .failure(let problem): throw APIError(.unprocessableContent, code: "malformed-csv", message: problem.description)
        }
        let input = try layout.submission(fields, district: district, defaults: defaults)
        var clue = try input.validated(settings: settings, defaultChannel: .batchImport)
        try SubmissionPolicy.check(clue, from: submission)
        // An unknown receiver refuses its row, with the closest register names; the others are kept.
        if let receiver = clue.receiver { clue.receiver = try RegisterRepository.credit(receiver, in: register, field: "receiverName") }
        let claim = key.map {
            IdempotencyClaim(key: "\($0)#\(number)", requestHash: Data(SHA256.hash(data: Data(fields.joined(separator: "\u{1F}").utf8))))
        }
        return (clue, claim)
    }

    static func rowResult(_ row: Int, _ result: Result<AcceptOutcome, APIError>) -> BatchRowResult {
        switch result {
        case .success(let outcome):
            guard let receipt = try? outcome.receipt() else {
                return BatchRowResult(
                    row: row, result: "rejected", error: .init(code: "not-stored", message: "the stored answer of this row cannot be read"))
            }
            return BatchRowResult(
                row: row, result: "accepted", trackingNumber: receipt.trackingNumber, receiptToken: receipt.receiptToken,
                resubmission: receipt.resubmission)
        case .failure(let error):
            return BatchRowResult(row: row, result: "rejected", error: .init(code: error.code, message: error.message, field: error.field))
        }
    }

    static func district(of submission: Submission, query: String?) throws(APIError) -> DistrictCode {
        switch submission {
        case .staff(let claims):
            if let query, query != claims.district.rawValue {
                throw .forbidden("a staff token of \(claims.district) may not import for \(query)", field: "district")
            }
            return claims.district
        case .integration(let credentials):
            guard let query else { throw .invalid("district", "is required as a query parameter") }
            guard let district = DistrictCode(rawValue: query) else { throw .invalid("district", "must be a district code") }
            guard credentials.districts.contains(district) else {
                throw .forbidden("integration key \(credentials.keyID) may not submit for district \(district)", field: "district")
            }
            return district
        case .resident:
            throw APIError.unauthorized
        }
    }

    static func defaults(_ query: Parameters) throws(APIError) -> BatchDefaults {
        var defaults = BatchDefaults()
        if let text = query["sourceCategory"].map(String.init) {
            guard let category = SourceCategory(label: text) else { throw .invalid("sourceCategory", "unknown source category \(text)") }
            defaults.sourceCategory = category
        }
        if let name = query["receiverName"].map(String.init) {
            let kindText = query["receiverKind"].map(String.init) ?? (name.contains("工作室") ? "studio" : "member")
            guard let kind = Receiver.Kind(rawValue: kindText) else { throw .invalid("receiverKind", "must be member or studio") }
            let clean = try ClueSubmission.required(name, "receiverName", limit: FieldLimits.receiverName, multiline: false)
            defaults.receiver = Receiver(kind: kind, name: clean)
        }
        return defaults
    }
}
