import ArgumentParser
import Foundation
import Logging
import Messaging
import Models
import ServiceKit
import Storage

struct IntegrationKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "integration-key", abstract: "Credentials of machine integrations (also `token issue integration`).", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an integration key scoped to districts and channels; print its secret once.")

        @OptionGroup var key: IntegrationKeyOptions

        func run() async throws { try await key.create() }
    }
}

/// What an integration key is scoped to; `integration-key add` and `token issue integration` share it.
struct IntegrationKeyOptions: ParsableArguments {
    @Option(name: .customLong("district"), help: "A district the integration submits for (repeatable).") var districts: [String]
    @Option(
        name: .customLong("channel"),
        help: "A channel the integration submits through (repeatable; default: government-service-app, wechat, web, qr-code, open311).")
    var channels: [String] = []
    @Option(help: "Key id the integration sends in X-Key-Id (letters, digits, - and _).") var keyID: String
    @Option(help: "Requests per minute before 429.") var requestsPerMinute = 600
    @Option(help: "What the integration is.") var description: String = ""

    func validate() throws {
        guard !districts.isEmpty, districts.allSatisfy({ DistrictCode(rawValue: $0) != nil }) else {
            throw ValidationError("--district: give one or more district codes")
        }
        guard channels.allSatisfy({ Channel(rawValue: $0) != nil }) else {
            throw ValidationError("--channel: one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard keyID.range(of: "^[A-Za-z0-9_-]{2,64}$", options: .regularExpression) != nil else {
            throw ValidationError("--key-id: 2-64 letters, digits, - or _")
        }
        guard requestsPerMinute > 0 else { throw ValidationError("--requests-per-minute: must be positive") }
    }

    func create() async throws {
        let secret = (0..<4).map { _ in UUID().uuidString.replacingOccurrences(of: "-", with: "") }.joined()
        let channels = self.channels.isEmpty ? ["government-service-app", "wechat", "web", "qr-code", "open311"] : self.channels
        let (keyID, description, districts, perMinute) = (self.keyID, self.description, self.districts, requestsPerMinute)
        try await withDatabase { database in
            try await database.transaction(.none) { transaction in
                try await transaction.execute(
                    """
                    INSERT INTO integration_keys (key_id, districts, channels, requests_per_minute, secret, description)
                    VALUES (\(keyID), \(districts), \(channels), \(perMinute), \(secret), \(description))
                    """)
            }
        }
        print("key id: \(keyID)\nsecret: \(secret)\nOpen311 api_key: \(keyID):\(secret)")
        print("districts: \(districts.joined(separator: ", ")); channels: \(channels.joined(separator: ", ")); \(perMinute) requests/minute")
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Credentials for staff, handling units and machine integrations.",
        subcommands: [Issue.self], defaultSubcommand: Issue.self)

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a credential: a staff or handling-unit bearer token, or an integration key.",
            subcommands: [Staff.self, Unit.self, Integration.self], defaultSubcommand: Staff.self)
    }

    struct Staff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A signed bearer token for a member of staff (uses TOKEN_SECRET).")

        @Option(help: "Who holds it (a person's identifier).") var subject: String
        @Option(help: "Role: \(StaffClaims.Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String
        @Option(help: "District code.") var district: String
        @Option(help: "Handling unit id, for the handling-unit role (or use `token issue unit`).") var unit: String?
        @Option(help: "Validity in hours: 1 to 12 for a person; up to the account's limit for a service account.") var hours: Int = 12
        @Flag(help: "The subject is a service account an administrator named (`service-account add`).") var serviceAccount = false

        func validate() throws {
            guard StaffClaims.Role(rawValue: role) != nil else {
                throw ValidationError("--role: one of \(StaffClaims.Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard DistrictCode(rawValue: district) != nil else { throw ValidationError("--district: not a district code") }
            if let unit, UUID(uuidString: unit) == nil { throw ValidationError("--unit: not a UUID") }
            if role == StaffClaims.Role.handlingUnit.rawValue && unit == nil { throw ValidationError("--unit: required for the handling-unit role") }
            try Token.checkHours(hours, serviceAccount: serviceAccount)
        }

        func run() async throws {
            print(
                try await Token.sign(
                    subject: subject, role: StaffClaims.Role(rawValue: role)!, district: district, unit: unit.flatMap { UUID(uuidString: $0) },
                    hours: hours, serviceAccount: serviceAccount))
        }
    }

    struct Unit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A signed bearer token for a handling unit (承办单位); it sees only its own assignments.")

        @Option(help: "The unit's id (from GET /v1/assignment/units).") var unit: String
        @Option(help: "District code.") var district: String
        @Option(help: "Who holds it (default: unit-<id>).") var subject: String?
        @Option(help: "Validity in hours: 1 to 12; up to the account's limit for a service account.") var hours: Int = 12
        @Flag(help: "The subject is a service account an administrator named (`service-account add`).") var serviceAccount = false

        func validate() throws {
            guard UUID(uuidString: unit) != nil else { throw ValidationError("--unit: not a UUID") }
            guard DistrictCode(rawValue: district) != nil else { throw ValidationError("--district: not a district code") }
            try Token.checkHours(hours, serviceAccount: serviceAccount)
        }

        func run() async throws {
            let id = UUID(uuidString: unit)!
            print(
                try await Token.sign(
                    subject: subject ?? "unit-\(id.uuidString.lowercased())", role: .handlingUnit, district: district, unit: id,
                    hours: hours, serviceAccount: serviceAccount))
        }
    }

    struct Integration: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An integration key for a machine client (the government-service platform): key id and secret, printed once.")

        @OptionGroup var key: IntegrationKeyOptions

        func run() async throws { try await key.create() }
    }

    static func checkHours(_ hours: Int, serviceAccount: Bool) throws {
        let personal = Int(StaffClaims.maximumLifetime / 3_600)
        if serviceAccount {
            guard (1...8760).contains(hours) else { throw ValidationError("--hours: 1 to 8760 for a service account") }
        } else {
            guard (1...personal).contains(hours) else {
                throw ValidationError(
                    "--hours: 1 to \(personal) for a person's token; longer ones only with --service-account for a subject named by `service-account add`"
                )
            }
        }
    }

    /// The signed token; its id goes to standard error (for `token revoke`), the token alone to
    /// standard output.
    static func sign(subject: String, role: StaffClaims.Role, district: String, unit: UUID?, hours: Int, serviceAccount: Bool) async throws -> String
    {
        let secret = try tokenSecret()
        if serviceAccount {
            let limit = try await withDatabase { database in
                try await database.transaction(.none) { transaction -> Int? in
                    var limit: Int?
                    for try await hours in try await transaction.query(
                        "SELECT maximum_hours FROM service_accounts WHERE subject = \(subject)"
                    ).decode(Int.self) { limit = hours }
                    return limit
                }
            }
            guard let limit else { throw CommandFailure("\(subject) is not a service account; an administrator names it with `service-account add`") }
            guard hours <= limit else { throw CommandFailure("the service account \(subject) may hold tokens of at most \(limit) hours") }
        }
        let claims = StaffClaims(
            subject: subject, role: role, district: DistrictCode(rawValue: district)!, unitID: unit,
            expiresAt: Date().addingTimeInterval(Double(hours) * 3600), serviceAccount: serviceAccount)
        FileHandle.standardError.write(Data("token id: \(claims.tokenID) (expires \(ISO8601DateFormatter().string(from: claims.expiresAt)))\n".utf8))
        return try StaffTokenSigner(secret: secret).token(for: claims)
    }

    /// TOKEN_SECRET as the services accept it: at least 32 characters.
    static func tokenSecret() throws -> String {
        let reader = EnvironmentReader()
        let secret = reader.string("TOKEN_SECRET", help: "at least 32 characters")
        if secret.count < 32 { reader.problem("TOKEN_SECRET", "must be at least 32 characters") }
        try reader.validate()
        return secret
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a bearer token before it expires, by its id, or every token of a subject issued until now.",
            discussion: "Every service honours a revocation within a few seconds.")

        @Argument(help: "The token's id (printed when it was issued).") var tokenID: String?
        @Option(help: "Revoke every token of this subject issued until now.") var subject: String?
        @Option(help: "Why (recorded).") var reason: String = ""
        @Option(name: .customLong("operator"), help: "Who revokes (recorded).")
        var operatorName: String = ProcessInfo.processInfo.environment["USER"] ?? "operator"

        func validate() throws {
            guard (tokenID == nil) != (subject == nil) else { throw ValidationError("give a token id or --subject, not both") }
        }

        func run() async throws {
            let (tokenID, subject, reason, who) = (self.tokenID, self.subject, self.reason, operatorName)
            try await withDatabase { database in
                try await database.transaction(.none) { transaction in
                    if let tokenID {
                        // The expiry is not known from the id: kept as long as any token may live.
                        try await transaction.execute(
                            """
                            INSERT INTO revoked_tokens (token_id, expires_at, revoked_by, reason)
                            VALUES (\(tokenID), now() + interval '8760 hours', \(who), \(reason))
                            ON CONFLICT (token_id) DO NOTHING
                            """)
                    } else if let subject {
                        try await transaction.execute(
                            """
                            INSERT INTO revoked_subjects (subject, revoked_before, revoked_by, reason) VALUES (\(subject), now(), \(who), \(reason))
                            ON CONFLICT (subject) DO UPDATE SET revoked_before = now(), revoked_by = EXCLUDED.revoked_by, reason = EXCLUDED.reason
                            """)
                    }
                }
            }
            print(tokenID.map { "revoked token \($0)" } ?? "revoked every token of \(subject ?? "") issued until now")
        }
    }
}

struct ServiceAccounts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service-account",
        abstract: "Machine accounts whose tokens may live longer than a person's 12 hours.",
        subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Name a subject as a service account, with the longest life its tokens may have.")

        @Option(help: "The account's subject, as tokens will carry it.") var subject: String
        @Option(help: "What the account is for.") var description: String
        @Option(help: "Longest token life in hours (1 to 8760).") var maxHours: Int = 720
        @Option(name: .customLong("operator"), help: "The administrator who names it (recorded).")
        var operatorName: String = ProcessInfo.processInfo.environment["USER"] ?? "operator"

        func validate() throws {
            guard (1...8760).contains(maxHours) else { throw ValidationError("--max-hours: 1 to 8760") }
            guard !subject.isEmpty, !description.isEmpty else { throw ValidationError("--subject and --description: required") }
        }

        func run() async throws {
            let (subject, description, hours, who) = (self.subject, self.description, maxHours, operatorName)
            try await withDatabase { database in
                try await database.transaction(.none) { transaction in
                    try await transaction.execute(
                        """
                        INSERT INTO service_accounts (subject, description, maximum_hours, named_by) VALUES (\(subject), \(description), \(hours), \(who))
                        ON CONFLICT (subject) DO UPDATE SET description = EXCLUDED.description, maximum_hours = EXCLUDED.maximum_hours, named_by = EXCLUDED.named_by
                        """)
                }
            }
            print("service account \(subject): tokens of up to \(hours) hours")
        }
    }
}
