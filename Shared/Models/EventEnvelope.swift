import Foundation

/// A typed event payload. The type name and schema version travel in the envelope.
public protocol EventPayload: Codable, Sendable {
    static var eventType: String { get }
    static var schemaVersion: Int { get }
}

/// The one shape every event on every topic has.
public struct EventEnvelope: Codable, Sendable, Hashable {
    public var eventID: UUID
    public var type: String
    public var schemaVersion: Int
    public var district: DistrictCode
    public var occurredAt: Date
    /// The first event of the chain (e.g. the clue's receipt); shared by everything that follows from it.
    public var correlationID: UUID
    /// The event that directly caused this one; nil for events caused by a request.
    public var causationID: UUID?
    /// A received envelope keeps its message's bytes: a consumer decodes the payload straight
    /// into its own type, never through a `JSONValue` (on the consumers' hot paths that detour
    /// cost a third of the CPU).
    private var body: Body

    private enum Body: Sendable {
        case value(JSONValue)
        case wire(Data)
    }

    /// The payload as generic JSON.
    public var payload: JSONValue {
        get {
            switch body {
            case .value(let value): value
            // The bytes decoded as an envelope before, so this does not fail.
            case .wire(let data): (try? EventCoding.decoder.decode(PayloadField<JSONValue>.self, from: data).payload) ?? .null
            }
        }
        set { body = .value(newValue) }
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "eventId"
        case type
        case schemaVersion
        case district
        case occurredAt
        case correlationID = "correlationId"
        case causationID = "causationId"
        case payload
    }

    public init(
        eventID: UUID = UUID(), type: String, schemaVersion: Int, district: DistrictCode,
        occurredAt: Date, correlationID: UUID, causationID: UUID? = nil, payload: JSONValue
    ) {
        self.eventID = eventID
        self.type = type
        self.schemaVersion = schemaVersion
        self.district = district
        self.occurredAt = occurredAt
        self.correlationID = correlationID
        self.causationID = causationID
        self.body = .value(payload)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            eventID: try container.decode(UUID.self, forKey: .eventID), type: try container.decode(String.self, forKey: .type),
            schemaVersion: try container.decode(Int.self, forKey: .schemaVersion),
            district: try container.decode(DistrictCode.self, forKey: .district),
            occurredAt: try container.decode(Date.self, forKey: .occurredAt), correlationID: try container.decode(UUID.self, forKey: .correlationID),
            causationID: try container.decodeIfPresent(UUID.self, forKey: .causationID),
            payload: try container.decode(JSONValue.self, forKey: .payload))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventID, forKey: .eventID)
        try container.encode(type, forKey: .type)
        try container.encode(schemaVersion, forKey: .schemaVersion)
        try container.encode(district, forKey: .district)
        try container.encode(occurredAt, forKey: .occurredAt)
        try container.encode(correlationID, forKey: .correlationID)
        try container.encodeIfPresent(causationID, forKey: .causationID)
        try container.encode(payload, forKey: .payload)
    }

    public static func == (left: EventEnvelope, right: EventEnvelope) -> Bool {
        left.eventID == right.eventID && left.type == right.type && left.schemaVersion == right.schemaVersion && left.district == right.district
            && left.occurredAt == right.occurredAt && left.correlationID == right.correlationID && left.causationID == right.causationID
            && left.payload == right.payload
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(eventID)
        hasher.combine(type)
        hasher.combine(schemaVersion)
    }

    /// Any JSON value, not looked at: the payload of the first of the two passes over a received
    /// message (`Wire<Present>`), which reads the envelope's other fields.
    private struct Present: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    /// The payload alone, decoded as `P` from the whole message: the second pass.
    private struct PayloadField<P: Decodable>: Decodable {
        var payload: P
    }

    /// A new event. Without a cause it starts its own correlation chain.
    public init<P: EventPayload>(
        _ payload: P, district: DistrictCode, occurredAt: Date,
        eventID: UUID = UUID(), causedBy cause: EventEnvelope? = nil
    ) throws {
        self.init(
            eventID: eventID, type: P.eventType, schemaVersion: P.schemaVersion, district: district,
            occurredAt: occurredAt, correlationID: cause?.correlationID ?? eventID,
            causationID: cause?.eventID, payload: try EventCoding.jsonValue(of: payload))
    }

    /// The payload as `P`, after checking the type and version match.
    public func decodePayload<P: EventPayload>(as _: P.Type) throws -> P {
        guard type == P.eventType, schemaVersion == P.schemaVersion else {
            throw EnvelopeError.typeMismatch(expected: "\(P.eventType) v\(P.schemaVersion)", found: "\(type) v\(schemaVersion)")
        }
        do {
            switch body {
            case .wire(let data): return try EventCoding.decoder.decode(PayloadField<P>.self, from: data).payload
            case .value(let value): return try EventCoding.decoder.decode(P.self, from: EventCoding.encoder.encode(value))
            }
        } catch {
            // Paths read from the payload, as when it is decoded on its own.
            let isWire = if case .wire = body { true } else { false }
            throw EnvelopeError.invalidPayload("\(type) v\(schemaVersion): \(EventCoding.describe(error, droppingLeading: isWire ? 1 : 0))")
        }
    }

    public func encoded() throws -> Data { try EventCoding.encoder.encode(self) }

    /// A new event's wire form in one encoding pass: what `EventEnvelope(payload, ...)` and then
    /// `encoded()` give, without turning the payload into a `JSONValue` and back first (two of
    /// the three JSON passes per event on the hot paths of intake and triage).
    public static func wireForm<P: EventPayload>(
        _ payload: P, district: DistrictCode, occurredAt: Date, eventID: UUID = UUID(), causedBy cause: EventEnvelope? = nil
    ) throws -> Data {
        try EventCoding.encoder.encode(
            Wire(
                eventID: eventID, type: P.eventType, schemaVersion: P.schemaVersion, district: district, occurredAt: occurredAt,
                correlationID: cause?.correlationID ?? eventID, causationID: cause?.eventID, payload: payload))
    }

    /// The envelope's fields with a typed payload; the same keys as `EventEnvelope`. Encoded for
    /// new events, decoded with a `Present` payload for received ones.
    struct Wire<P> {
        var eventID: UUID
        var type: String
        var schemaVersion: Int
        var district: DistrictCode
        var occurredAt: Date
        var correlationID: UUID
        var causationID: UUID?
        var payload: P

        typealias CodingKeys = EventEnvelope.CodingKeys
    }

    /// Decodes an envelope from a message value, with a reason fit for a dead-letter header on failure.
    public static func decode(from data: Data) throws(EnvelopeError) -> EventEnvelope {
        do {
            let header = try EventCoding.decoder.decode(Wire<Present>.self, from: data)
            var envelope = EventEnvelope(
                eventID: header.eventID, type: header.type, schemaVersion: header.schemaVersion, district: header.district,
                occurredAt: header.occurredAt, correlationID: header.correlationID, causationID: header.causationID, payload: .null)
            envelope.body = .wire(data)
            return envelope
        } catch {
            throw EnvelopeError.notAnEnvelope(EventCoding.describe(error))
        }
    }
}

public enum EnvelopeError: Error, Equatable, Sendable, CustomStringConvertible {
    case notAnEnvelope(String)
    case typeMismatch(expected: String, found: String)
    case invalidPayload(String)

    public var description: String {
        switch self {
        case .notAnEnvelope(let reason): "not a valid event envelope: \(reason)"
        case .typeMismatch(let expected, let found): "expected \(expected), found \(found)"
        case .invalidPayload(let reason): "invalid payload for \(reason)"
        }
    }
}

/// One JSON convention for every event: ISO 8601 dates with fractional seconds, sorted keys.
public enum EventCoding {
    static let fractionalISO8601 = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(fractionalISO8601))
        }
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? fractionalISO8601.parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 date: \(text)")
        }
        return decoder
    }

    static func jsonValue<T: Encodable>(of value: T) throws -> JSONValue {
        try decoder.decode(JSONValue.self, from: encoder.encode(value))
    }

    /// A one-line reason naming the path of the offending field.
    public static func describe(_ error: any Error, droppingLeading dropped: Int = 0) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let codingPath = codingPath.dropFirst(dropped)
            return codingPath.isEmpty ? "(root)" : codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing field \(path(context.codingPath + [key]))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(path(context.codingPath)): \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty ? "malformed JSON" : "invalid value at \(path(context.codingPath)): \(context.debugDescription)"
        default:
            return String(describing: error)
        }
    }
}

extension EventEnvelope.Wire: Encodable where P: Encodable {}
extension EventEnvelope.Wire: Decodable where P: Decodable {}
