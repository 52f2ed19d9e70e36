import Crypto
import EventPipeline
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Models
import Storage
import Synchronization

/// What a staff or handling-unit bearer token says about its holder.
public struct StaffClaims: Codable, Sendable, Hashable {
    public enum Role: String, Codable, Sendable, CaseIterable {
        /// 提案线索处理组: triages clues.
        case clueHandler = "clue-handler"
        /// 提案委: files and assigns proposals, decides contests.
        case proposalsCommittee = "proposals-committee"
        case specialCommittee = "special-committee"
        case memberStudio = "member-studio"
        case member
        /// A handling unit (承办单位); `unitID` names which.
        case handlingUnit = "handling-unit"
        case administrator
        /// 督办领导: a leader who supervises key proposals.
        case supervisingLeader = "supervising-leader"
    }

    public var subject: String
    public var role: Role
    public var district: DistrictCode
    public var unitID: UUID?
    public var issuedAt: Date
    public var expiresAt: Date
    /// Names this token alone: `proposals-ctl token revoke <id>` ends it; the workbench ties it to
    /// the session that minted it.
    public var tokenID: String
    /// Who the token is for (`StaffClaims.audience`): a token made for another deployment or
    /// purpose with the same secret is refused.
    public var audience: String
    /// A service account an administrator named (`proposals-ctl service-account add`): only such
    /// tokens may live longer than `maximumLifetime`.
    public var serviceAccount: Bool
    /// The holder's display name, where notices are addressed by name (a supervising leader, a
    /// studio or member); the workbench sets it from the account.
    public var name: String?
    /// The member's or studio's register entry (`RegisterEntry.code`) the account is linked to:
    /// their quotas, records and notices follow it.
    public var register: String?

    enum CodingKeys: String, CodingKey {
        case subject = "sub", role, district, unitID = "unit", issuedAt = "iat", expiresAt = "exp", tokenID = "jti", audience = "aud",
            serviceAccount = "svc", name, register = "reg"
    }

    /// The audience of the services' staff API.
    public static let audience = "citizens-proposals"
    /// The longest life of a person's token (staff, members, handling units).
    public static let maximumLifetime: TimeInterval = 12 * 3_600

    public init(
        subject: String, role: Role, district: DistrictCode, unitID: UUID? = nil, issuedAt: Date = Date(), expiresAt: Date,
        tokenID: String = UUID().uuidString.lowercased(), audience: String = StaffClaims.audience, serviceAccount: Bool = false,
        name: String? = nil, register: String? = nil
    ) {
        self.subject = subject
        self.role = role
        self.district = district
        self.unitID = unitID
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.tokenID = tokenID
        self.audience = audience
        self.serviceAccount = serviceAccount
        self.name = name
        self.register = register
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        subject = try container.decode(String.self, forKey: .subject)
        role = try container.decode(Role.self, forKey: .role)
        district = try container.decode(DistrictCode.self, forKey: .district)
        unitID = try container.decodeIfPresent(UUID.self, forKey: .unitID)
        issuedAt = try container.decode(Date.self, forKey: .issuedAt)
        expiresAt = try container.decode(Date.self, forKey: .expiresAt)
        tokenID = try container.decode(String.self, forKey: .tokenID)
        audience = try container.decode(String.self, forKey: .audience)
        serviceAccount = try container.decodeIfPresent(Bool.self, forKey: .serviceAccount) ?? false
        name = try container.decodeIfPresent(String.self, forKey: .name)
        register = try container.decodeIfPresent(String.self, forKey: .register)
    }

    /// Whether the claims may be honoured at `now`: in their lifetime, for this audience, and no
    /// longer-lived than a person's token may be unless a service account's.
    public func isValid(at now: Date, audience expected: String = StaffClaims.audience) -> Bool {
        guard audience == expected, issuedAt <= now.addingTimeInterval(300), now < expiresAt else { return false }
        return serviceAccount || expiresAt.timeIntervalSince(issuedAt) <= Self.maximumLifetime
    }
}

/// Signed bearer tokens: `v1.<base64url claims JSON>.<base64url HMAC-SHA256>`.
public struct StaffTokenSigner: Sendable {
    private let key: SymmetricKey
    /// Tokens verified before: an integration or studio sends the same token with every request,
    /// and checking it again (HMAC, JSON, dates) was a measurable share of intake's CPU.
    private let verified = VerifiedTokens()
    /// Tokens and subjects revoked in the store, as last read (`TokenRevocations.run`).
    public let revocations: TokenRevocations

    public init(secret: String, revocations: TokenRevocations = TokenRevocations()) {
        key = SymmetricKey(data: Data(secret.utf8))
        self.revocations = revocations
    }

    public func token(for claims: StaffClaims) throws -> String {
        let payload = "v1." + Base64URL.encode(try EventCoding.encoder.encode(claims))
        let signature = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)
        return payload + "." + Base64URL.encode(Data(signature))
    }

    /// The secret of a proposer's evaluation link: derived from the link's id with the key the
    /// services share, so supervision (which keeps only its hash) and publicity (which delivers
    /// it) agree without the secret ever crossing a topic.
    public func evaluationLinkToken(for linkID: UUID) -> String {
        let message = Data("evaluation-link:\(linkID.uuidString.lowercased())".utf8)
        return Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: message, using: key)))
    }

    /// The claims of a well-signed, valid, unrevoked token; nil otherwise.
    public func verify(_ token: String, now: Date = Date()) -> StaffClaims? {
        let claims: StaffClaims
        if let known = verified.claims(of: token) {
            claims = known
        } else {
            guard let fresh = verifyAnew(token) else { return nil }
            verified.remember(token, fresh)
            claims = fresh
        }
        guard claims.isValid(at: now), !revocations.revokes(claims) else { return nil }
        return claims
    }

    private func verifyAnew(_ token: String) -> StaffClaims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1",
            let signature = Base64URL.decode(String(parts[2])),
            let body = Base64URL.decode(String(parts[1]))
        else { return nil }
        let signed = Data("\(parts[0]).\(parts[1])".utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key) else { return nil }
        return try? EventCoding.decoder.decode(StaffClaims.self, from: body)
    }
}

/// The revoked token ids and subjects (`revoked_tokens`, `revoked_subjects`), read again every
/// few seconds by each service, so a revocation holds everywhere within `interval`.
public final class TokenRevocations: Sendable {
    struct Snapshot {
        var tokenIDs: Set<String> = []
        /// Tokens of a subject issued before this moment are refused.
        var subjects: [String: Date] = [:]
    }
    private let snapshot = Mutex(Snapshot())

    public init() {}

    public func revokes(_ claims: StaffClaims) -> Bool {
        snapshot.withLock { snapshot in
            if snapshot.tokenIDs.contains(claims.tokenID) { return true }
            if let before = snapshot.subjects[claims.subject], claims.issuedAt < before { return true }
            return false
        }
    }

    /// Reads the revocations that still matter (of tokens not yet expired).
    public func refresh(from database: Database) async throws {
        var next = Snapshot()
        try await database.transaction(.none) { transaction in
            for try await id in try await transaction.query("SELECT token_id FROM revoked_tokens WHERE expires_at > now()").decode(String.self) {
                next.tokenIDs.insert(id)
            }
            for try await (subject, before) in try await transaction.query(
                "SELECT subject, revoked_before FROM revoked_subjects"
            ).decode((String, Date).self) {
                next.subjects[subject] = before
            }
        }
        snapshot.withLock { $0 = next }
    }
}

/// A bounded memory of verified tokens (forgotten all at once when full).
final class VerifiedTokens: Sendable {
    private let tokens = Mutex<[String: StaffClaims]>([:])
    static let capacity = 4_096

    func claims(of token: String) -> StaffClaims? { tokens.withLock { $0[token] } }

    func remember(_ token: String, _ claims: StaffClaims) {
        tokens.withLock { tokens in
            if tokens.count >= Self.capacity { tokens.removeAll(keepingCapacity: true) }
            tokens[token] = claims
        }
    }
}

/// Requires `Authorization: Bearer <token>` signed with the service's token secret.
public struct StaffAuthenticator: RouterMiddleware {
    public typealias Context = AppRequestContext
    let signer: StaffTokenSigner
    let roles: Set<StaffClaims.Role>?

    /// `roles`: who may pass; nil lets any valid token through.
    public init(signer: StaffTokenSigner, roles: Set<StaffClaims.Role>? = nil) {
        self.signer = signer
        self.roles = roles
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            let claims = signer.verify(String(header.dropFirst("Bearer ".count)))
        else { throw APIError.unauthorized }
        if let roles, !roles.contains(claims.role) {
            throw APIError(.forbidden, code: "forbidden", message: "role \(claims.role.rawValue) may not do this")
        }
        var context = context
        context.caller = .staff(claims)
        // The browser's address, as the workbench passes it on, beside the caller's own.
        let peer = context.peerAddress ?? "unknown"
        let address = request.headers[values: HTTPField.Name("X-Workbench-Client")!].first.map { "\($0) via \(peer)" } ?? peer
        let actor = AuditActor(subject: claims.subject, address: address)
        return try await AuditTrail.$actor.withValue(actor) { try await next(request, context) }
    }
}

/// Machine integrations sign each request:
/// `X-Key-Id`, `X-Timestamp` (Unix seconds), `X-Nonce` (unique per request) and
/// `X-Signature` = hex HMAC-SHA256 over `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nhex(SHA256(body))`.
public enum RequestSignature {
    public static func canonical(method: String, path: String, timestamp: String, nonce: String, body: Data) -> Data {
        let bodyHash = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        return Data("\(method)\n\(path)\n\(timestamp)\n\(nonce)\n\(bodyHash)".utf8)
    }

    public static func sign(secret: String, method: String, path: String, timestamp: String, nonce: String, body: Data) -> String {
        let code = HMAC<SHA256>.authenticationCode(
            for: canonical(method: method, path: path, timestamp: timestamp, nonce: nonce, body: body),
            using: SymmetricKey(data: Data(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    /// The headers an integration sends with a request.
    public static func headers(
        keyID: String, secret: String, method: String, path: String, body: Data, now: Date = Date(), nonce: String = UUID().uuidString
    ) -> [String: String] {
        let timestamp = String(Int(now.timeIntervalSince1970))
        return [
            "X-Key-Id": keyID, "X-Timestamp": timestamp, "X-Nonce": nonce,
            "X-Signature": sign(secret: secret, method: method, path: path, timestamp: timestamp, nonce: nonce, body: body),
        ]
    }
}

/// Verifies signed integration requests against `integration_keys`; a stale timestamp or a
/// nonce seen before (on any instance) is refused, and each key's requests per minute are
/// counted across instances (429 with `Retry-After` beyond its limit).
public struct IntegrationAuthenticator: RouterMiddleware {
    public typealias Context = AppRequestContext
    let database: Database
    let windowSeconds: Int
    let bodyLimit: Int

    public init(database: Database, windowSeconds: Int, bodyLimit: Int = 8 * 1024 * 1024) {
        self.database = database
        self.windowSeconds = windowSeconds
        self.bodyLimit = bodyLimit
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let keyID = request.header("X-Key-Id"), let timestamp = request.header("X-Timestamp"),
            let nonce = request.header("X-Nonce"), let signature = request.header("X-Signature"),
            (8...128).contains(nonce.utf8.count), Self.isWellFormedKeyID(keyID),
            nonce.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { throw APIError.unauthorized }
        guard let seconds = Int(timestamp), abs(Date().timeIntervalSince1970 - Double(seconds)) <= Double(windowSeconds) else {
            throw APIError(.unauthorized, code: "stale-request", message: "X-Timestamp is outside the \(windowSeconds)-second window")
        }
        var request = request
        let buffer = try await request.collectBody(limit: bodyLimit)
        request.body = .init(buffer: buffer)
        let body = Data(buffer: buffer)
        let path = request.uri.description
        let method = request.method.rawValue
        let window = windowSeconds
        let (credentials, decision) = try await database.transaction(.none) { transaction -> (IntegrationCredentials?, RateLimits.Decision) in
            guard let (secret, districts, channels, perMinute) = try await Self.key(keyID, in: transaction) else { return (nil, .allowed) }
            let expected = RequestSignature.sign(secret: secret, method: method, path: path, timestamp: timestamp, nonce: nonce, body: body)
            guard constantTimeEqual(expected, signature.lowercased()) else { return (nil, .allowed) }
            // Recording the nonce is what refuses a replay, on this instance or any other.
            let inserted = try await transaction.query(
                """
                INSERT INTO request_nonces (key_id, nonce, expires_at)
                VALUES (\(keyID), \(nonce), now() + make_interval(secs => \(Double(2 * window))))
                ON CONFLICT DO NOTHING RETURNING 1
                """)
            var fresh = false
            for try await _ in inserted { fresh = true }
            guard fresh else { throw APIError(.unauthorized, code: "replayed-request", message: "this X-Nonce was already used") }
            try await transaction.execute("DELETE FROM request_nonces WHERE expires_at < now() AND key_id = \(keyID)")
            let decision = try await RateLimits.hit("integration:\(keyID)", limit: perMinute, windowSeconds: 60, in: transaction)
            let credentials = IntegrationCredentials(
                keyID: keyID, districts: Set(districts.compactMap(DistrictCode.init(rawValue:))), channels: Set(channels))
            return (credentials, decision)
        }
        guard let credentials else { throw APIError.unauthorized }
        if case .exceeded(let retryAfter) = decision {
            throw APIError.tooManyRequests(retryAfter: retryAfter, message: "integration key \(keyID) exceeded its requests per minute")
        }
        var context = context
        context.caller = .integration(credentials)
        return try await next(request, context)
    }

    /// An active key's secret, districts, channels and requests per minute.
    static func key(_ keyID: String, in transaction: Transaction) async throws -> (String, [String], [String], Int)? {
        let rows = try await transaction.query(
            """
            SELECT secret, districts, channels, requests_per_minute FROM integration_keys WHERE key_id = \(keyID) AND active
            """)
        var found: (String, [String], [String], Int)?
        for try await row in rows.decode((String, [String], [String], Int).self) { found = row }
        return found
    }

    /// Key ids are what `proposals-ctl integration-key add` accepts; anything else cannot match.
    static func isWellFormedKeyID(_ keyID: String) -> Bool {
        (2...64).contains(keyID.utf8.count)
            && keyID.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") }
    }

    /// Open311 clients send one `api_key` (`<key id>:<secret>`) instead of a signature; the same
    /// scopes and rate limit apply.
    public func verify(apiKey: String) async throws -> IntegrationCredentials {
        guard let colon = apiKey.firstIndex(of: ":") else { throw APIError.unauthorized }
        let keyID = String(apiKey[..<colon])
        let secret = String(apiKey[apiKey.index(after: colon)...])
        guard Self.isWellFormedKeyID(keyID) else { throw APIError.unauthorized }
        let (credentials, decision) = try await database.transaction(.none) { transaction -> (IntegrationCredentials?, RateLimits.Decision) in
            guard let (expected, districts, channels, perMinute) = try await Self.key(keyID, in: transaction),
                constantTimeEqual(expected, secret)
            else { return (nil, .allowed) }
            let decision = try await RateLimits.hit("integration:\(keyID)", limit: perMinute, windowSeconds: 60, in: transaction)
            return (
                IntegrationCredentials(keyID: keyID, districts: Set(districts.compactMap(DistrictCode.init(rawValue:))), channels: Set(channels)),
                decision
            )
        }
        guard let credentials else { throw APIError.unauthorized }
        if case .exceeded(let retryAfter) = decision {
            throw APIError.tooManyRequests(retryAfter: retryAfter, message: "integration key \(keyID) exceeded its requests per minute")
        }
        return credentials
    }
}

/// For routes open to residents as well as to integrations and staff: a signed request is
/// verified as an integration's, a bearer token as staff's; bad credentials are refused, and a
/// request with none goes on with no caller.
public struct OptionalCredentials: RouterMiddleware {
    public typealias Context = AppRequestContext
    let staff: StaffAuthenticator
    let integrations: IntegrationAuthenticator

    public init(staff: StaffAuthenticator, integrations: IntegrationAuthenticator) {
        self.staff = staff
        self.integrations = integrations
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.header("X-Key-Id") != nil || request.header("X-Signature") != nil {
            return try await integrations.handle(request, context: context, next: next)
        }
        if request.headers[.authorization] != nil {
            return try await staff.handle(request, context: context, next: next)
        }
        return try await next(request, context)
    }
}

/// Whether two secrets are equal, in a time that does not tell how much of them matched.
public func constantTimeEqual(_ left: String, _ right: String) -> Bool {
    let (a, b) = (Array(left.utf8), Array(right.utf8))
    guard a.count == b.count else { return false }
    return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
}

public enum Base64URL {
    public static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: "=", with: "")
    }

    public static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
