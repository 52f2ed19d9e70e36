import Foundation
import EventPipeline
import Models
import ServiceKit
import Storage

/// Triage (梳理、分级分类处理): every received clue lands in the district's clue database.
public enum TriageService {
    public static let definition = ServiceDefinition(name: .triage, handler: { _ in ClueIntakeHandler() })
}

/// Registers each received clue in the clue database and announces it, exactly once.
struct ClueIntakeHandler: EventHandler {
    func handle(_ event: EventEnvelope, in transaction: Transaction) async throws {
        guard event.type == ClueReceived.eventType else { return }
        let received: ClueReceived
        do {
            received = try event.decodePayload(as: ClueReceived.self)
        } catch {
            throw EventRejection("\(error)")
        }
        try await transaction.execute("""
            INSERT INTO triage_clues (clue_id, district, tracking_number, channel, received_at)
            VALUES (\(received.clueID), \(event.district.rawValue), \(received.trackingNumber.rawValue),
                    \(received.channel.rawValue), \(received.receivedAt))
            """)
        let registered = try EventEnvelope(ClueRegistered(clueID: received.clueID), district: event.district, occurredAt: Date(), causedBy: event)
        try await Outbox.append(registered, to: TopicCatalogue.triageEvents, key: received.clueID.uuidString, in: transaction)
    }
}

