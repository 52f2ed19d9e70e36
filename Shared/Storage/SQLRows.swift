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
    /// Records several events in one statement.
    public static func append(_ rows: [Row], in transaction: Transaction) async throws {
        guard !rows.isEmpty else { return }
        // At most 65,535 bound values per statement: 8 per row.
        guard rows.count <= 4_000 else {
            for start in stride(from: 0, to: rows.count, by: 4_000) {
                try await append(Array(rows[start..<min(start + 4_000, rows.count)]), in: transaction)
            }
            return
        }
        var sql = PostgresQuery.StringInterpolation(literalCapacity: 64 + 16 * rows.count, interpolationCount: 8 * rows.count)
        sql.appendLiteral("INSERT INTO outbox (\(columns)) VALUES ")
        for (index, row) in rows.enumerated() { try sql.appendRow(first: index == 0, row.values) }
        try await transaction.execute(PostgresQuery(stringInterpolation: sql))
    }
}
