import Foundation
import ServiceKit
import TestSupport
import Testing

/// The suites that start several services (as processes, or four in-process at a time) or a
/// browser run one after another: on two cores, together they starved the rest of the suite
/// past its time limits.
@Suite(.serialized) enum HeavySuites {}

/// What the tests that drive services as processes share: staff tokens of the test's secret,
/// and a call that records a wrong status as the test's failure with the answer.
protocol ServiceProcessCalls {}

extension ServiceProcessCalls {
    /// Valid for four hours: long enough for a soak run.
    func token(_ role: StaffClaims.Role, _ subject: String, unit: UUID? = nil) throws -> String {
        try StaffTokenSigner(secret: TestEnvironment.tokenSecret).token(
            for: StaffClaims(
                subject: subject, role: role, district: haizhu, unitID: unit, expiresAt: Date().addingTimeInterval(4 * 3_600)))
    }

    /// One call; fails the test with the answer when the status is not `expecting`.
    @discardableResult
    func call(
        _ service: ServiceProcess, _ method: String, _ path: String, _ json: [String: Any]? = nil, token: String?,
        expecting status: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> HTTPAnswer {
        let answer = try await sendHTTP(
            method, service.base + path, body: try json.map { try JSONSerialization.data(withJSONObject: $0) },
            contentType: json == nil ? nil : "application/json", headers: token.map { ["Authorization": "Bearer \($0)"] } ?? [:])
        #expect(answer.status == status, "\(method) \(path): \(answer.status) \(answer.text)", sourceLocation: sourceLocation)
        return answer
    }
}
