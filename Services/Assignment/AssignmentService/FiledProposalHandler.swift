import EventPipeline
import Foundation
import Models
import PostgresNIO
import Similarity
import Storage

/// Takes each filed proposal (`proposal.filed`) into the assignment queue with a ranked
/// suggestion of units, and assigns it at once where the district allows and the suggestion is
/// confident. A batch of one district is one transaction.
struct FiledProposalHandler: EventHandler {
    let suggestions: SuggestionRepository

    func handle(_ events: [EventEnvelope], of district: DistrictCode, in transaction: Transaction) async throws {
        var filed: [(EventEnvelope, ProposalFiled)] = []
        // A payload that does not decode is dead-lettered by the consumer.
        for event in events where event.type == ProposalFiled.eventType {
            filed.append((event, try event.decodePayload(as: ProposalFiled.self)))
        }
        guard !filed.isEmpty else { return }
        try await suggestions.takeIn(filed, of: district, in: transaction)
    }
}

/// The text, domain and kind of a filed proposal, from the store (events carry no text).
struct FiledProposal: Sendable {
    var id: UUID
    var caseNumber: String
    var title: String
    var text: String
    var domain: String?
    var kind: ProposalKind
    var filedAt: Date
}
