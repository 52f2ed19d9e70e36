import EventPipeline
import Foundation
import Models
import PostgresNIO
import Storage

struct UnknownDistrict: Error {}

struct MissingRow: Error {}

/// Clues in PostgreSQL; SQL for clues lives here and nowhere else.
struct ClueRepository: Sendable {
    let database: Database

    /// Stores the clue and its clue-received event in one transaction.
    func accept(_ submission: ClueSubmission.Valid, receivedAt: Date) async throws -> Clue {
        try await database.transaction(.district(submission.district)) { transaction in
            guard try await districtExists(submission.district, in: transaction) else { throw UnknownDistrict() }
            let clue = Clue(
                id: UUID(), district: submission.district,
                trackingNumber: try await nextTrackingNumber(submission.district, at: receivedAt, in: transaction),
                title: submission.title, situationAnalysis: submission.situationAnalysis,
                specificSuggestions: submission.specificSuggestions, sourceCategory: submission.sourceCategory,
                channel: submission.channel, submitter: submission.submitter, receivedAt: receivedAt)
            let contact: Contact? = if case .named(let contact) = clue.submitter { contact } else { nil }
            try await transaction.execute("""
                INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions,
                                   source_category, channel, is_anonymous, contact_name, contact_phone, contact_address, received_at)
                VALUES (\(clue.id), \(clue.district.rawValue), \(clue.trackingNumber.rawValue), \(clue.title),
                        \(clue.situationAnalysis), \(clue.specificSuggestions), \(clue.sourceCategory.rawValue),
                        \(clue.channel.rawValue), \(contact == nil), \(contact?.name), \(contact?.phone), \(contact?.address),
                        \(clue.receivedAt))
                """)
            let event = try EventEnvelope(
                ClueReceived(
                    clueID: clue.id, trackingNumber: clue.trackingNumber, channel: clue.channel,
                    sourceCategory: clue.sourceCategory, isAnonymous: contact == nil, receivedAt: receivedAt),
                district: clue.district, occurredAt: receivedAt)
            try await Outbox.append(event, to: TopicCatalogue.intakeEvents, key: clue.id.uuidString, in: transaction)
            return clue
        }
    }

    private func districtExists(_ district: DistrictCode, in transaction: Transaction) async throws -> Bool {
        for try await _ in try await transaction.query("SELECT 1 FROM districts WHERE code = \(district.rawValue)") { return true }
        return false
    }

    /// The district's next number this year; the row lock serialises concurrent intakes briefly.
    private func nextTrackingNumber(_ district: DistrictCode, at date: Date, in transaction: Transaction) async throws -> TrackingNumber {
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "Asia/Shanghai")!, from: date).year!
        let rows = try await transaction.query("""
            INSERT INTO tracking_sequences (district, year, last_value) VALUES (\(district.rawValue), \(year), 1)
            ON CONFLICT (district, year) DO UPDATE SET last_value = tracking_sequences.last_value + 1
            RETURNING last_value
            """)
        for try await value in rows.decode(Int.self) {
            return TrackingNumber(district: district, year: year, sequence: value)
        }
        throw MissingRow()
    }
}
