import PostgresNIO

extension PostgresQuery {
    /// A statement of SQL text the code spells once and reuses (a column list and table, a lock or
    /// an order clause) around a condition that carries every value: `head`, the condition, then
    /// `tail`. PostgresNIO numbers a query's binds from `$1`, so only the condition may bind;
    /// `head` and `tail` are the code's own text, never input.
    public init(_ head: String, condition: PostgresQuery, tail: String = "") {
        self.init(unsafeSQL: [head, condition.sql, tail].filter { !$0.isEmpty }.joined(separator: " "), binds: condition.binds)
    }
}
