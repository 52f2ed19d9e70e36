import Foundation
import HTTPTypes
import Hummingbird
import Models
import NIOCore
import Storage

/// The request context of every service: who is calling, once authentication middleware ran,
/// and from which address.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var caller: Caller?
    /// The client's IP address as the TCP connection shows it.
    public let peerAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.caller = nil
        self.peerAddress = source.channel.remoteAddress?.ipAddress
    }

    public var maxUploadSize: Int { 8 * 1024 * 1024 }

    /// The staff member or handling unit the authentication middleware let in; 401 otherwise.
    public func staffClaims() throws(APIError) -> StaffClaims {
        guard case .staff(let claims) = caller else { throw APIError.unauthorized }
        return claims
    }

    /// The route's `:name` parameter as an id; 404 when it is not one (no such resource).
    public func uuid(_ name: String = "id") throws(APIError) -> UUID {
        guard let id = parameters.get(name).flatMap(UUID.init(uuidString:)) else { throw APIError.notFound }
        return id
    }
}

extension Request {
    /// The query's parameters by name (the last value of a repeated name).
    public var queryValues: [String: String] {
        var values: [String: String] = [:]
        for (name, value) in uri.queryParameters { values[String(name)] = String(value) }
        return values
    }
}

/// Reading a query's parameters: a bad value is a 422 naming the parameter.
public enum QueryParameters {
    /// A whole number in `range`; `default` when absent or empty.
    public static func integer(_ query: [String: String], _ name: String, default value: Int, range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let text = query[name], !text.isEmpty else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError.invalid(name, "\(name) is a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// One of a set of values (a status, a state); nil when absent or empty.
    public static func choice<Value: RawRepresentable & CaseIterable>(
        _ query: [String: String], _ name: String, _ type: Value.Type
    ) throws(APIError) -> Value? where Value.RawValue == String {
        guard let text = query[name], !text.isEmpty else { return nil }
        guard let value = Value(rawValue: text) else {
            throw APIError.invalid(name, "\(name) is one of \(Value.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// An id; nil when absent or empty.
    public static func uuid(_ query: [String: String], _ name: String) throws(APIError) -> UUID? {
        guard let text = query[name], !text.isEmpty else { return nil }
        guard let id = UUID(uuidString: text) else { throw APIError.invalid(name, "\(name) is an id (a UUID)") }
        return id
    }

    /// A day as `YYYY-MM-DD`; nil when absent or empty.
    public static func date(_ query: [String: String], _ name: String) throws(APIError) -> LocalDate? {
        guard let text = query[name], !text.isEmpty else { return nil }
        guard let date = LocalDate(text) else { throw APIError.invalid(name, "\(name) is a date as YYYY-MM-DD") }
        return date
    }

    /// A month as `YYYY-MM`, as its first day; nil when absent or empty.
    public static func month(_ query: [String: String], _ name: String) throws(APIError) -> LocalDate? {
        guard let text = query[name], !text.isEmpty else { return nil }
        guard let first = LocalDate(text + "-01") else { throw APIError.invalid(name, "\(name) is a month as YYYY-MM") }
        return first
    }

    /// A required parameter's value, or 422 naming it.
    public static func required<Value>(_ value: Value?, _ name: String, _ form: String) throws(APIError) -> Value {
        guard let value else { throw APIError.invalid(name, "\(name) is required (\(form))") }
        return value
    }

    /// `true`/`1` or `false`/`0`; false when absent.
    public static func flag(_ query: [String: String], _ name: String) throws(APIError) -> Bool {
        switch query[name] {
        case nil, "", "false", "0": return false
        case "true", "1": return true
        default: throw APIError.invalid(name, "\(name) is true or false")
        }
    }
}

/// A machine integration's verified key and what it may do.
public struct IntegrationCredentials: Sendable, Hashable {
    public var keyID: String
    public var districts: Set<DistrictCode>
    /// Channel codes the integration submits through.
    public var channels: Set<String>

    public init(keyID: String, districts: Set<DistrictCode>, channels: Set<String>) {
        self.keyID = keyID
        self.districts = districts
        self.channels = channels
    }
}

/// An authenticated caller: a machine integration or a person holding a staff token.
public enum Caller: Sendable, Hashable {
    case integration(IntegrationCredentials)
    case staff(StaffClaims)

    /// The districts whose data the caller may touch.
    public var districts: Set<DistrictCode> {
        switch self {
        case .integration(let credentials): credentials.districts
        case .staff(let claims): [claims.district]
        }
    }

    /// A stable name for the caller, e.g. to scope idempotency keys.
    public var identity: String {
        switch self {
        case .integration(let credentials): "integration:\(credentials.keyID)"
        case .staff(let claims): "staff:\(claims.district.rawValue):\(claims.subject)"
        }
    }
}

/// A 4xx/5xx answer with a machine-readable body:
/// `{"error": {"code": "invalid-field", "message": "...", "field": "title"}}`.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    /// Seconds for a `Retry-After` header (429, 503).
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retryAfter = retryAfter
    }

    public static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, code: "invalid-field", message: message, field: field)
    }

    public static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, code: "bad-request", message: message, field: field)
    }

    public static func forbidden(_ message: String, field: String? = nil) -> APIError {
        APIError(.forbidden, code: "forbidden", message: message, field: field)
    }

    public static func bodyTooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "body-too-large", message: "the body is larger than \(limit) bytes", field: "body")
    }

    public static func tooManyRequests(retryAfter: Int, message: String = "too many requests") -> APIError {
        APIError(.tooManyRequests, code: "rate-limited", message: message, retryAfter: retryAfter)
    }

    public static let notFound = APIError(.notFound, code: "not-found", message: "no such resource")
    public static let unauthorized = APIError(.unauthorized, code: "unauthorized", message: "missing or invalid credentials")

    struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var field: String?
        }
        var error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try EventCoding.encoder.encode(Body(error: .init(code: code, message: message, field: field)))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension Request {
    /// The whole body, refused with 413 beyond `limit` bytes (checked against Content-Length
    /// first, so an over-long upload is not read).
    public func collectBody(limit: Int) async throws -> ByteBuffer {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit { throw APIError.bodyTooLarge(limit: limit) }
        var request = self
        do {
            return try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.bodyTooLarge(limit: limit)
        }
    }

    /// Decodes a JSON body; a failure becomes a 4xx naming the offending field, or `body` when
    /// the body as a whole is at fault (empty, not UTF-8, not JSON, too large).
    public func decodeJSON<T: Decodable>(as type: T.Type, context: AppRequestContext, limit: Int? = nil) async throws -> T {
        try Self.decodeJSON(T.self, from: Data(buffer: try await collectBody(limit: limit ?? context.maxUploadSize)))
    }

    public static func decodeJSON<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        guard !data.isEmpty else { throw APIError.badRequest("a JSON body is required", field: "body") }
        guard String(validating: data, as: UTF8.self) != nil else {
            throw APIError(.badRequest, code: "invalid-utf8", message: "the body is not valid UTF-8", field: "body")
        }
        do {
            return try EventCoding.decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            switch error {
            case .keyNotFound(let key, let context):
                throw APIError.invalid(path(context.codingPath + [key]), "is required")
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                throw APIError.invalid(path(context.codingPath), "has the wrong type")
            case .dataCorrupted(let context) where !context.codingPath.isEmpty:
                throw APIError.invalid(path(context.codingPath), context.debugDescription)
            default:
                throw APIError(.badRequest, code: "malformed-json", message: "the body is not valid JSON", field: "body")
            }
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    /// A header's value, by name.
    public func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }
}

/// Gives every error the JSON error body: Hummingbird's own (unknown route, wrong method) and
/// unexpected ones, which are logged and answered 500 without details.
public struct ErrorBodyMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as IllegalTransition {
            throw APIError(.conflict, code: "illegal-transition", message: error.description)
        } catch let error as UnknownDistrict {
            throw APIError(.notFound, code: "not-found", message: error.description)
        } catch let error as ProposalStatuses.UnknownProposal {
            throw APIError(.notFound, code: "not-found", message: error.description)
        } catch let error as HTTPError {
            let code =
                switch error.status {
                case .notFound: "not-found"
                case .methodNotAllowed: "method-not-allowed"
                case .contentTooLarge: "body-too-large"
                default: error.status.code < 500 ? "bad-request" : "internal"
                }
            throw APIError(error.status, code: code, message: error.body ?? error.status.reasonPhrase)
        } catch let error as any HTTPResponseError {
            // A route's own error shape (e.g. Open311's).
            throw error
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            throw APIError(.internalServerError, code: "internal", message: "the request could not be completed")
        }
    }
}

/// Encodes a value as a JSON response with the given status.
public func jsonResponse<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
    let body = try EventCoding.encoder.encode(value)
    return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
}

/// A CSV download, with a byte-order mark so spreadsheet programs read Chinese headers as UTF-8.
public func csvResponse(_ csv: String, filename: String) -> Response {
    var body = ByteBuffer(bytes: [0xEF, 0xBB, 0xBF])
    body.writeString(csv)
    return Response(
        status: .ok,
        headers: [
            .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\"",
        ], body: .init(byteBuffer: body))
}

/// `application/x-www-form-urlencoded` bodies (HTML forms, Open311).
public enum URLEncodedForm {
    /// The fields in order; nil when the body is not well-formed (bad percent-encoding, not UTF-8).
    public static func parse(_ data: Data) -> [(name: String, value: String)]? {
        guard let text = String(validating: data, as: UTF8.self) else { return nil }
        var fields: [(name: String, value: String)] = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else { return nil }
            fields.append((name, value))
        }
        return fields
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// Encodes fields for a request body (tests, clients).
    public static func encode(_ fields: [(String, String)]) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return fields.map { name, value in
            "\(name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
    }
}
