import AsyncHTTPClient
import Foundation
import Models
import NIOCore
import NIOHTTP1
import ServiceKit

/// A service's answer to the workbench.
struct APIAnswer: Sendable {
    var status: Int
    var body: Data
    var contentType: String?
    /// A download's `Content-Disposition` (its file name).
    var disposition: String? = nil

    var ok: Bool { (200..<300).contains(status) }

    /// The body as a JSON object; empty when it is not one.
    var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }

    /// The error's field and message, as the services' error body has them; the refusals people
    /// meet at a form's files in Chinese.
    var problem: (field: String?, message: String) {
        let error = json["error"] as? [String: Any]
        let message = (error?["code"] as? String).flatMap(Attachments.explanation) ?? (error?["message"] as? String) ?? "服务暂时不可用（\(status)）"
        return (error?["field"] as? String, message)
    }
}

/// Calls the services' HTTP APIs on the signed-in person's behalf: each call carries a bearer
/// token minted for the session's account, living `tokenLifetime` at most, whose token id is the
/// session's (ending the session revokes it). The services decide what the person may do.
struct ServiceCalls: Sendable {
    enum Target: Sendable { case intake, triage, assignment, supervision, publicity }

    let settings: WorkbenchSettings
    let signer: StaffTokenSigner
    static let tokenLifetime: TimeInterval = 15 * 60

    func base(_ target: Target) -> String {
        switch target {
        case .intake: settings.intakeURL
        case .triage: settings.triageURL
        case .assignment: settings.assignmentURL
        case .supervision: settings.supervisionURL
        case .publicity: settings.publicityURL
        }
    }

    func token(for visit: Visit, now: Date = Date()) throws -> String {
        try signer.token(
            for: StaffClaims(
                subject: visit.account.login, role: visit.account.role, district: visit.account.district, unitID: visit.account.unitID,
                issuedAt: now, expiresAt: now.addingTimeInterval(Self.tokenLifetime), tokenID: visit.sessionID.uuidString.lowercased(),
                name: visit.account.displayName, register: visit.account.registerCode))
    }

    /// `timeout`: a whole call's deadline (a service that is down is retried until it).
    func get(_ target: Target, _ path: String, for visit: Visit, timeout: TimeAmount = .seconds(15)) async throws -> APIAnswer {
        try await call(.GET, target, path, body: nil, for: visit, timeout: timeout)
    }

    func send(_ method: HTTPMethod, _ target: Target, _ path: String, json: [String: Any]?, for visit: Visit) async throws -> APIAnswer {
        try await call(method, target, path, body: try json.map { try JSONSerialization.data(withJSONObject: $0) }, for: visit)
    }

    /// A body that is not JSON (a CSV file), or a JSON call that carries an Idempotency-Key.
    func send(
        _ method: HTTPMethod, _ target: Target, _ path: String, body: Data, contentType: String, idempotencyKey: String? = nil,
        for visit: Visit
    ) async throws -> APIAnswer {
        try await call(method, target, path, body: body, contentType: contentType, idempotencyKey: idempotencyKey, for: visit)
    }

    /// A call for someone who is not signed in, whose credential is in the path (the proposer's
    /// evaluation link): no bearer token.
    func unsigned(_ method: HTTPMethod, _ target: Target, _ path: String, json: [String: Any]?) async throws -> APIAnswer {
        try await call(method, target, path, body: try json.map { try JSONSerialization.data(withJSONObject: $0) }, for: nil)
    }

    private func call(
        _ method: HTTPMethod, _ target: Target, _ path: String, body: Data?, contentType: String = "application/json",
        idempotencyKey: String? = nil, for visit: Visit?, timeout: TimeAmount = .seconds(15)
    ) async throws -> APIAnswer {
        var request = HTTPClientRequest(url: base(target) + path)
        request.method = method
        if let visit { request.headers.add(name: "Authorization", value: "Bearer " + (try token(for: visit))) }
        request.headers.add(name: "Accept", value: "application/json")
        if let address = visit?.address { request.headers.add(name: "X-Workbench-Client", value: address) }
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 40 * 1024 * 1024)
        return APIAnswer(
            status: Int(response.status.code), body: Data(buffer: bytes), contentType: response.headers.first(name: "Content-Type"),
            disposition: response.headers.first(name: "Content-Disposition"))
    }
}
