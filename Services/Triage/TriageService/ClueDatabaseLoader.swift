import ClassificationRules
import Foundation
import Logging
import Models
import Storage

/// A clue from before the pipeline ran (an office's existing clue database).
public struct HistoricalClue: Sendable {
    public var id: UUID
    public var trackingNumber: String
    public var channel: Channel
    public var sourceCategory: SourceCategory
    public var receivedAt: Date
    public var title: String
    public var situation: String
    public var suggestions: String

    public init(
        id: UUID, trackingNumber: String, channel: Channel, sourceCategory: SourceCategory, receivedAt: Date, title: String,
        situation: String, suggestions: String
    ) {
        self.id = id
        self.trackingNumber = trackingNumber
        self.channel = channel
        self.sourceCategory = sourceCategory
        self.receivedAt = receivedAt
        self.title = title
        self.situation = situation
        self.suggestions = suggestions
    }
}

/// Loads clues into a district's clue database as triage would have, classified and grouped,
/// but without announcing them: history has no one left to tell. Each call is one transaction.
public struct ClueDatabaseLoader: Sendable {
    let database: Database
    let registrar: ClueRegistrar

    public init(database: Database, logger: Logger) {
        self.database = database
        registrar = ClueRegistrar(rules: RuleBook(logger: logger))
    }

    public func load(_ clues: [HistoricalClue], into district: DistrictCode) async throws {
        let incoming = clues.map { clue in
            IncomingClue(
                id: clue.id, trackingNumber: clue.trackingNumber, channel: clue.channel.rawValue, receivedAt: clue.receivedAt,
                sourceCategory: clue.sourceCategory.rawValue, themedCallID: nil,
                text: ClueText(title: clue.title, situation: clue.situation, suggestions: clue.suggestions), linkedFromClueID: nil, cause: nil)
        }
        try await database.transaction(.district(district)) { transaction in
            _ = try await registrar.register(incoming, in: district, announce: false, transaction: transaction)
        }
    }
}
