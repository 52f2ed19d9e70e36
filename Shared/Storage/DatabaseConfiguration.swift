import Foundation

/// Where the one PostgreSQL store is, from a `postgres://user:password@host:port/database` URL.
public struct DatabaseConfiguration: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var requireTLS: Bool
    public var maximumConnections: Int

    public init(host: String, port: Int, user: String, password: String?, database: String, requireTLS: Bool = false, maximumConnections: Int = 10) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.requireTLS = requireTLS
        self.maximumConnections = maximumConnections
    }

    /// Parses a URL; `?sslmode=require` asks for TLS.
    public init?(url text: String) {
        guard let components = URLComponents(string: text),
            components.scheme == "postgres" || components.scheme == "postgresql",
            let host = components.host, !host.isEmpty,
            let user = components.user, !user.isEmpty
        else { return nil }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { return nil }
        let sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value
        self.init(
            host: host, port: components.port ?? 5432, user: user,
            password: components.password?.removingPercentEncoding, database: database,
            requireTLS: sslMode == "require" || sslMode == "verify-full")
    }

    /// The same server, another database (tests create one per test).
    public func with(database: String) -> DatabaseConfiguration {
        var copy = self
        copy.database = database
        return copy
    }
}
