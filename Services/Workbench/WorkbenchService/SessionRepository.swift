import Crypto
import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

/// A signed-in browser's session, as a page sees it.
struct Visit: Sendable {
    var sessionID: UUID
    var account: Account
    var csrfToken: String
    var address: String?
    /// Unread notices in the person's inbox, shown on every page; nil when not asked or unknown.
    var unread: Int?
    /// The person's tenant is a municipal committee (districts name it as parent).
    var municipal = false
}

/// Sessions in PostgreSQL. The cookie carries a random 32-byte secret; the store keeps its
/// SHA-256 only, so a copy of the table signs no one in. A session ends after `idleMinutes`
/// without a request, `absoluteHours` after sign-in, at sign-out, or when an administrator
/// changes the account; ending it also revokes the bearer tokens minted for it.
struct SessionRepository: Sendable {
    let database: Database
    let settings: WorkbenchSettings

    static let cookieName = "workbench_session"
    /// last_seen_at is written at most this often: a page view need not be a write.
    static let touchInterval: TimeInterval = 60

    static func hash(_ secret: String) -> Data { Data(SHA256.hash(data: Data(secret.utf8))) }

    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Base64URL.encode(Data(bytes))
    }

    /// Starts a session for the account (its sign-in recorded in the audit trail); the cookie value.
    func start(for account: Account, address: String?, now: Date) async throws -> String {
        let secret = Self.randomSecret()
        let expires = now.addingTimeInterval(TimeInterval(settings.absoluteHours * 3_600))
        try await database.transaction(.district(account.district)) { transaction in
            try await transaction.execute(
                """
                INSERT INTO workbench_sessions (id, secret_hash, account_id, district, csrf_token, created_at, last_seen_at, expires_at)
                VALUES (\(UUID()), \(Self.hash(secret)), \(account.id), \(account.district.rawValue), \(Self.randomSecret()), \(now), \(now), \(expires))
                """)
            try await transaction.execute(
                """
                UPDATE accounts SET failed_sign_ins = 0, locked_until = NULL WHERE id = \(account.id)
                """)
            try await AuditTrail.record(
                AuditEntry(actor: account.login, address: address, action: "signed-in", objectType: "account", objectID: account.login),
                service: "workbench", district: account.district, at: now, in: transaction)
        }
        return secret
    }

    /// The live session the cookie names, with its account; nil when there is none, it ended,
    /// or it idled or aged out (then it is ended here, with its reason).
    func visit(cookie secret: String, address: String?, now: Date) async throws -> Visit? {
        let found = try await database.transaction(.allDistricts) { transaction -> (UUID, Bool, String, Date, Date, Account?)? in
            for try await row in try await transaction.query(
                """
                SELECT s.id, EXISTS (SELECT 1 FROM districts d WHERE d.parent = a.district), s.csrf_token, s.last_seen_at, s.expires_at,
                       \(unescaped: AccountRepository.columns(of: "a"))
                FROM workbench_sessions s JOIN accounts a ON a.id = s.account_id
                WHERE s.secret_hash = \(Self.hash(secret)) AND s.ended_at IS NULL
                """)
            {
                let columns = row.makeRandomAccess()
                let (id, municipal, csrf, lastSeen, expires) = (
                    try columns[0].decode(UUID.self), try columns[1].decode(Bool.self), try columns[2].decode(String.self),
                    try columns[3].decode(Date.self), try columns[4].decode(Date.self)
                )
                let account = try AccountRepository.account(columns: columns, from: 5)
                return (id, municipal, csrf, lastSeen, expires, account)
            }
            return nil
        }
        guard let (id, municipal, csrf, lastSeen, expires, account) = found, let account else { return nil }
        let idleLimit = lastSeen.addingTimeInterval(TimeInterval(settings.idleMinutes * 60))
        let reason: String? = !account.active ? "account-disabled" : now >= expires ? "expired" : now >= idleLimit ? "idle" : nil
        if let reason {
            try await end(id, district: account.district, reason: reason, actor: account.login, address: address, now: now)
            return nil
        }
        if now.timeIntervalSince(lastSeen) >= Self.touchInterval {
            try await database.transaction(.district(account.district)) { transaction in
                try await transaction.execute("UPDATE workbench_sessions SET last_seen_at = \(now) WHERE id = \(id)")
            }
        }
        return Visit(sessionID: id, account: account, csrfToken: csrf, address: address, municipal: municipal)
    }

    /// Ends the session, revokes its tokens and records why.
    func end(_ id: UUID, district: DistrictCode, reason: String, actor: String, address: String?, now: Date) async throws {
        try await database.transaction(.district(district)) { transaction in
            try await Self.end(where: "id = \(id)", reason: reason, now: now, in: transaction)
            try await AuditTrail.record(
                AuditEntry(
                    actor: actor, address: address, action: reason == "signed-out" ? "signed-out" : "session-ended",
                    objectType: "session", objectID: id.uuidString.lowercased(), after: #"{"reason":"\#(reason)"}"#),
                service: "workbench", district: district, at: now, in: transaction)
        }
    }

    static func endAll(of account: UUID, reason: String, now: Date, in transaction: Transaction) async throws {
        try await end(where: "account_id = \(account)", reason: reason, now: now, in: transaction)
    }

    /// Ends the matching live sessions; the tokens minted for them (token id = session id,
    /// lifetime ≤ 15 minutes) are revoked for the services, which read revocations every 2 s.
    private static func end(where condition: PostgresQuery, reason: String, now: Date, in transaction: Transaction) async throws {
        var sessions: [UUID] = []
        let statement = PostgresQuery("SELECT id FROM workbench_sessions WHERE ended_at IS NULL AND", condition: condition)
        for try await id in try await transaction.query(statement).decode(UUID.self) { sessions.append(id) }
        guard !sessions.isEmpty else { return }
        try await transaction.execute(
            """
            UPDATE workbench_sessions SET ended_at = \(now), end_reason = \(reason) WHERE id = ANY(\(sessions))
            """)
        try await transaction.execute(
            """
            INSERT INTO revoked_tokens (token_id, subject, expires_at, revoked_by, reason)
            SELECT id::text, NULL, \(now.addingTimeInterval(ServiceCalls.tokenLifetime + 60)), 'workbench', \(reason)
            FROM unnest(\(sessions)::uuid[]) AS s(id)
            ON CONFLICT (token_id) DO NOTHING
            """)
    }

    /// The background pass: sessions past their absolute or idle limit are ended.
    func endExpired(now: Date) async throws {
        let idleSince = now.addingTimeInterval(-TimeInterval(settings.idleMinutes * 60))
        let districts = try await database.transaction(.allDistricts) { transaction in
            var codes: [DistrictCode] = []
            for try await code in try await transaction.query(
                """
                SELECT DISTINCT district FROM workbench_sessions
                WHERE ended_at IS NULL AND (expires_at <= \(now) OR last_seen_at <= \(idleSince))
                """
            ).decode(String.self) {
                if let code = DistrictCode(rawValue: code) { codes.append(code) }
            }
            return codes
        }
        for district in districts {
            try await database.transaction(.district(district)) { transaction in
                try await Self.end(where: "(expires_at <= \(now) OR last_seen_at <= \(idleSince))", reason: "expired", now: now, in: transaction)
            }
        }
    }
}
