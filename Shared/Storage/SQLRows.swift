import PostgresNIO

/// A value in a statement built row by row (multi-row `VALUES`, one round trip for many rows).
public enum SQLValue {
    case value(any PostgresThrowingDynamicTypeEncodable)
    case optional((any PostgresThrowingDynamicTypeEncodable)?)
    /// JSON text, cast in SQL.
    case json(String)
}

extension PostgresQuery.StringInterpolation {
    /// `(v1, v2, ...)`, preceded by a comma unless it is the first row.
    public mutating func appendRow(first: Bool, _ values: [SQLValue]) throws {
        appendLiteral(first ? "(" : ", (")
        for (index, value) in values.enumerated() {
            if index > 0 { appendLiteral(", ") }
            switch value {
            case .value(let bound): try appendBound(bound)
            case .optional(let bound?): try appendBound(bound)
            case .optional(nil): appendLiteral("NULL")
            case .json(let text):
                appendInterpolation(text)
                appendLiteral("::json")
            }
        }
        appendLiteral(")")
    }

    private mutating func appendBound(_ value: some PostgresThrowingDynamicTypeEncodable) throws {
        try appendInterpolation(value)
    }
}

extension Outbox.Row {
    /// The row's values in `Outbox.columns` order.
    public var values: [SQLValue] {
        [.value(eventID), .value(source), .value(topic), .value(key), .value(shard), .value(eventType), .value(district), .json(envelope)]
    }
}

extension Outbox {
    /// Records several events in one statement of column arrays (8 binds however many events).
    public static func append(_ rows: [Row], in transaction: Transaction) async throws {
        guard !rows.isEmpty else { return }
        transaction.wroteOutbox()
        try await transaction.execute(
            """
            INSERT INTO outbox (\(unescaped: columns))
            SELECT event_id, source, topic, partition_key, shard, event_type, district, envelope::json
            FROM unnest(\(rows.map(\.eventID))::uuid[], \(rows.map(\.source))::text[], \(rows.map(\.topic))::text[],
                        \(rows.map(\.key))::text[], \(rows.map(\.shard))::smallint[], \(rows.map(\.eventType))::text[],
                        \(rows.map(\.district))::text[], \(rows.map(\.envelope))::text[])
                 AS e(event_id, source, topic, partition_key, shard, event_type, district, envelope)
            """)
    }
}
