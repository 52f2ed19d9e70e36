import ClassificationRules
import EventPipeline
import Foundation
import Hummingbird
import Models
import Operations
import PostgresNIO
import ServiceKit
import Storage

/// Triage (梳理、分级分类处理): every received clue lands in the district's clue database,
/// classified and grouped, and waits for staff to give it one route.
public enum TriageService {
    public static let definition = ServiceDefinition(
        name: .triage,
        handler: { parts in ClueIntakeHandler(registrar: ClueRegistrar.shared(by: parts)) },
        background: { parts in [StoreGauges(database: parts.database, logger: parts.logger, read: openClues)] },
        routes: { router, parts in
            let registrar = ClueRegistrar.shared(by: parts)
            TriageController(
                database: parts.database, registrar: registrar, sequences: TrackingSequences(), signer: parts.tokens
            ).register(on: router)
            CultivationController(database: parts.database, signer: parts.tokens).register(on: router)
            let domainNames = Dictionary(RuleSet.builtIn.domains.map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
            CompilationController(database: parts.database, signer: parts.tokens, domainNames: domainNames).register(on: router)
        })
}

/// `clues_open{district,status}`: the clues still waiting on the committee.
@Sendable func openClues(in transaction: Transaction) async throws -> [StoreGauges.Sample] {
    try await BusinessFigures.openClues(in: transaction).map {
        StoreGauges.Sample("clues_open", ["district": $0.district, "status": $0.status], $0.count)
    }
}

/// Registers received clues in the clue database, a batch at a time, exactly once.
struct ClueIntakeHandler: EventHandler {
    let registrar: ClueRegistrar

    func handle(_ events: [EventEnvelope], of district: DistrictCode, in transaction: Transaction) async throws {
        var received: [(EventEnvelope, ClueReceived)] = []
        // A payload that does not decode is dead-lettered by the consumer.
        for event in events where event.type == ClueReceived.eventType {
            received.append((event, try event.decodePayload(as: ClueReceived.self)))
        }
        guard !received.isEmpty else { return }
        let texts = try await Self.texts(of: received.map(\.1.clueID), in: transaction)
        var incoming: [IncomingClue] = []
        var seen: Set<UUID> = []
        for (event, clue) in received {
            guard let text = texts[clue.clueID] else {
                throw EventRejection("clue \(clue.clueID) of \(district) is not in the store")
            }
            // Registered already (e.g. the same clue announced twice under different event ids).
            guard !text.registered, seen.insert(clue.clueID).inserted else { continue }
            incoming.append(
                IncomingClue(
                    id: clue.clueID, trackingNumber: clue.trackingNumber.rawValue, channel: clue.channel.rawValue,
                    receivedAt: clue.receivedAt, sourceCategory: clue.sourceCategory.rawValue, themedCallID: clue.themedCallID,
                    text: text.text, linkedFromClueID: nil, cause: event))
        }
        try await registrar.register(incoming, in: district, transaction: transaction)
    }

    struct StoredText {
        var text: ClueText
        var registered: Bool
    }

    /// The clues' text from the store (events carry none), and whether triage has them already.
    static func texts(of ids: [UUID], in transaction: Transaction) async throws -> [UUID: StoredText] {
        let rows = try await transaction.query(
            """
            SELECT c.id, c.title, c.situation_analysis, c.specific_suggestions, c.contact_address, c.receiver_name,
                   t.clue_id IS NOT NULL
            FROM clues c LEFT JOIN triage_clues t ON t.clue_id = c.id
            WHERE c.id = ANY(\(ids))
            """)
        var texts: [UUID: StoredText] = [:]
        for try await (id, title, situation, suggestions, address, receiver, registered) in rows.decode(
            (UUID, String, String, String, String?, String?, Bool).self)
        {
            texts[id] = StoredText(
                text: ClueText(title: title, situation: situation, suggestions: suggestions, address: address, receiver: receiver),
                registered: registered)
        }
        return texts
    }
}
