import Foundation
import Hummingbird
import Models
import ServiceKit

/// The clue routes of `/v1`.
struct ClueController: Sendable {
    let repository: ClueRepository

    func register(on routes: RouterGroup<AppRequestContext>) {
        routes.post("/clues", use: submit)
    }

    /// Accepts one clue; answers 202 with the tracking number only after the transaction committed.
    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let submission = try await request.decodeJSON(as: ClueSubmission.self, context: context).validated()
        do {
            let clue = try await repository.accept(submission, receivedAt: Date())
            context.logger.info("clue accepted", metadata: ["clue": "\(clue.id)", "tracking": "\(clue.trackingNumber)"])
            return try jsonResponse(
                ClueAccepted(clueId: clue.id, trackingNumber: clue.trackingNumber.rawValue, receivedAt: clue.receivedAt),
                status: .accepted)
        } catch is UnknownDistrict {
            throw APIError.invalid("district", "no district \(submission.district) is configured")
        }
    }
}
