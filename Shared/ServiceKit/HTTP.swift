import Foundation
import Hummingbird
import Models

/// The request context of every service: who is calling, once authentication middleware ran.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var caller: Caller?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.caller = nil
    }

    public var maxUploadSize: Int { 8 * 1024 * 1024 }
}

/// An authenticated caller: a machine integration or a person holding a staff token.
public enum Caller: Sendable, Hashable {
    case integration(keyID: String, district: DistrictCode)
    case staff(StaffClaims)

    public var district: DistrictCode {
        switch self {
        case .integration(_, let district): district
        case .staff(let claims): claims.district
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

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, code: "invalid-field", message: message, field: field)
    }

    public static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, code: "bad-request", message: message, field: field)
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
        let body = try JSONEncoder().encode(Body(error: .init(code: code, message: message, field: field)))
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension Request {
    /// Decodes a JSON body; a decoding failure becomes a 4xx naming the offending field.
    public func decodeJSON<T: Decodable>(as type: T.Type, context: AppRequestContext) async throws -> T {
        var request = self
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("a JSON body is required") }
        do {
            return try EventCoding.decoder.decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            switch error {
            case .keyNotFound(let key, let context):
                throw APIError.invalid(Self.path(context.codingPath + [key]), "is required")
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                throw APIError.invalid(Self.path(context.codingPath), "has the wrong type")
            case .dataCorrupted(let context) where !context.codingPath.isEmpty:
                throw APIError.invalid(Self.path(context.codingPath), context.debugDescription)
            default:
                throw APIError.badRequest("the body is not valid JSON")
            }
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

/// Encodes a value as a JSON response with the given status.
public func jsonResponse<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
    let body = try EventCoding.encoder.encode(value)
    return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
}
