import PostgresNIO

/// What a failed statement says about trying it again: the one place that reads PostgreSQL's
/// error classes, so a consumer neither retries a hopeless event for ever nor dead-letters a
/// good one because the server was restarting.
public enum DatabaseFailure: Sendable, Equatable {
    /// The server or the way to it failed (connection lost, starting up or shutting down, out of
    /// resources) or the transaction lost a race (serialization failure, deadlock): the same
    /// work succeeds later.
    case transient
    /// The statement contradicts the store or the schema (constraint, check, foreign-key,
    /// invalid data, a raised exception): the same work fails the same way again.
    case permanent(sqlState: String, message: String)

    /// Nil for an error that did not come from PostgreSQL or the connection pool.
    public static func classify(_ error: any Error) -> DatabaseFailure? {
        if error is ConnectionClosed || error is TransactionTimedOut { return .transient }
        // The pool's own errors (its circuit breaker after failed connection attempts, a lease
        // timeout) say the server is out of reach; their type is not public.
        if String(reflecting: type(of: error)).contains("ConnectionPoolError") { return .transient }
        guard let error = error as? PSQLError else { return nil }
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else {
            // Connection, pool and protocol failures: the connection is gone, not the work.
            return .transient
        }
        return classify(sqlState: state, message: error.serverInfo?[.message] ?? "")
    }

    /// By SQLSTATE class (PostgreSQL's Appendix A).
    public static func classify(sqlState state: String, message: String) -> DatabaseFailure {
        switch state.prefix(2) {
        // connection exception, transaction rollback (40001 serialization, 40P01 deadlock),
        // insufficient resources, operator intervention (57P01 admin shutdown, 57P03 starting
        // up), system error, internal error.
        case "08", "40", "53", "57", "58", "XX": return .transient
        // 55P03 lock_not_available, 55006 object_in_use: someone else holds it for now.
        case "55": return .transient
        default: return .permanent(sqlState: state, message: message)
        }
    }
}

/// A statement was not sent because its connection had closed (see `Transaction.checkOpen`).
public struct ConnectionClosed: Error, Sendable, CustomStringConvertible {
    public var description: String { "the connection to PostgreSQL closed" }
}

/// A transaction given a time limit (`Database.transaction(_:timeLimit:_:)`) did not finish in it.
public struct TransactionTimedOut: Error, Sendable, CustomStringConvertible {
    public var limit: Duration
    /// The statement it sent last, nil when it never had a connection.
    public var statement: String?

    public var description: String {
        guard let statement else { return "no PostgreSQL connection from the pool within \(limit)" }
        let text = statement.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return "a transaction did not finish within \(limit); its last statement: \(text.prefix(160))"
    }
}
