import Foundation

// Event payloads. They carry identifiers and classifications only: names, phone numbers,
// addresses and free text stay in PostgreSQL, so topics never hold personal data.

/// Intake accepted a clue and stored it (intake-events).
public struct ClueReceived: EventPayload, Hashable {
    public static let eventType = "clue.received"
    public static let schemaVersion = 1

    public var clueID: UUID
    public var trackingNumber: TrackingNumber
    public var channel: Channel
    public var sourceCategory: SourceCategory
    public var isAnonymous: Bool
    public var consentToPublish: Bool
    public var themedCallID: UUID?
    public var attachmentCount: Int
    public var receivedAt: Date

    enum CodingKeys: String, CodingKey {
        case clueID = "clueId", trackingNumber, channel, sourceCategory, isAnonymous, consentToPublish
        case themedCallID = "themedCallId", attachmentCount, receivedAt
    }

    public init(
        clueID: UUID, trackingNumber: TrackingNumber, channel: Channel, sourceCategory: SourceCategory, isAnonymous: Bool,
        consentToPublish: Bool = false, themedCallID: UUID? = nil, attachmentCount: Int = 0, receivedAt: Date
    ) {
        self.clueID = clueID
        self.trackingNumber = trackingNumber
        self.channel = channel
        self.sourceCategory = sourceCategory
        self.isAnonymous = isAnonymous
        self.consentToPublish = consentToPublish
        self.themedCallID = themedCallID
        self.attachmentCount = attachmentCount
        self.receivedAt = receivedAt
    }

    /// Fields added after the first version decode with their defaults, so older events still apply.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        clueID = try container.decode(UUID.self, forKey: .clueID)
        trackingNumber = try container.decode(TrackingNumber.self, forKey: .trackingNumber)
        channel = try container.decode(Channel.self, forKey: .channel)
        sourceCategory = try container.decode(SourceCategory.self, forKey: .sourceCategory)
        isAnonymous = try container.decode(Bool.self, forKey: .isAnonymous)
        consentToPublish = try container.decodeIfPresent(Bool.self, forKey: .consentToPublish) ?? false
        themedCallID = try container.decodeIfPresent(UUID.self, forKey: .themedCallID)
        attachmentCount = try container.decodeIfPresent(Int.self, forKey: .attachmentCount) ?? 0
        receivedAt = try container.decode(Date.self, forKey: .receivedAt)
    }
}
