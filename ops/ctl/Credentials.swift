import ArgumentParser
import Foundation
import Logging
import Messaging
import Models
import ServiceKit
import Storage

struct IntegrationKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "integration-key", abstract: "Credentials of machine integrations (also `token issue integration`).", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an integration key scoped to districts and channels; print its secret once.")

        @OptionGroup var key: IntegrationKeyOptions

        func run() async throws { try await key.create() }
    }
}

/// What an integration key is scoped to; `integration-key add` and `token issue integration` share it.
struct IntegrationKeyOptions: ParsableArguments {
    @Option(name: .customLong("district"), help: "A district the integration submits for (repeatable).") var districts: [String]
    @Option(name: .customLong("channel"), help: "A channel the integration submits through (repeatable; default: government-service-app, wechat, web, qr-code, open311).")
    var channels: [String] = []
    @Option(help: "Key id the integration sends in X-Key-Id (letters, digits, - and _).") var keyID: String
    @Option(help: "Requests per minute before 429.") var requestsPerMinute = 600
    @Option(help: "What the integration is.") var description: String = ""

    func validate() throws {
        guard !districts.isEmpty, districts.allSatisfy({ DistrictCode(rawValue: $0) != nil }) else { throw ValidationError("--district: give one or more district codes") }
        guard channels.allSatisfy({ Channel(rawValue: $0) != nil }) else {
            throw ValidationError("--channel: one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard keyID.range(of: "^[A-Za-z0-9_-]{2,64}$", options: .regularExpression) != nil else { throw ValidationError("--key-id: 2-64 letters, digits, - or _") }
        guard requestsPerMinute > 0 else { throw ValidationError("--requests-per-minute: must be positive") }
    }

    func create() async throws {
        let secret = (0..<4).map { _ in UUID().uuidString.replacingOccurrences(of: "-", with: "") }.joined()
        let channels = self.channels.isEmpty ? ["government-service-app", "wechat", "web", "qr-code", "open311"] : self.channels
        let (keyID, description, districts, perMinute) = (self.keyID, self.description, self.districts, requestsPerMinute)
        try await withDatabase { database in
            try await database.transaction(.none) { transaction in
                try await transaction.execute("""
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
        @Option(help: "Validity in hours (1 to 8760).") var hours: Int = 12

        func validate() throws {
            guard StaffClaims.Role(rawValue: role) != nil else {
                throw ValidationError("--role: one of \(StaffClaims.Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard DistrictCode(rawValue: district) != nil else { throw ValidationError("--district: not a district code") }
            if let unit, UUID(uuidString: unit) == nil { throw ValidationError("--unit: not a UUID") }
            if role == StaffClaims.Role.handlingUnit.rawValue && unit == nil { throw ValidationError("--unit: required for the handling-unit role") }
            guard (1...8760).contains(hours) else { throw ValidationError("--hours: 1 to 8760") }
        }

        func run() async throws {
            print(try Token.sign(subject: subject, role: StaffClaims.Role(rawValue: role)!, district: district, unit: unit.flatMap { UUID(uuidString: $0) }, hours: hours))
        }
    }

    struct Unit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A signed bearer token for a handling unit (承办单位); it sees only its own assignments.")

        @Option(help: "The unit's id (from GET /v1/assignment/units).") var unit: String
        @Option(help: "District code.") var district: String
        @Option(help: "Who holds it (default: unit-<id>).") var subject: String?
        @Option(help: "Validity in hours (1 to 8760).") var hours: Int = 720

        func validate() throws {
            guard UUID(uuidString: unit) != nil else { throw ValidationError("--unit: not a UUID") }
            guard DistrictCode(rawValue: district) != nil else { throw ValidationError("--district: not a district code") }
            guard (1...8760).contains(hours) else { throw ValidationError("--hours: 1 to 8760") }
        }

        func run() async throws {
            let id = UUID(uuidString: unit)!
            print(try Token.sign(subject: subject ?? "unit-\(id.uuidString.lowercased())", role: .handlingUnit, district: district, unit: id, hours: hours))
        }
    }

    struct Integration: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An integration key for a machine client (the government-service platform): key id and secret, printed once.")

        @OptionGroup var key: IntegrationKeyOptions

        func run() async throws { try await key.create() }
    }

    static func sign(subject: String, role: StaffClaims.Role, district: String, unit: UUID?, hours: Int) throws -> String {
        let reader = EnvironmentReader()
        let secret = reader.string("TOKEN_SECRET", help: "at least 32 characters")
        try reader.validate()
        let claims = StaffClaims(
            subject: subject, role: role, district: DistrictCode(rawValue: district)!, unitID: unit,
            expiresAt: Date().addingTimeInterval(Double(hours) * 3600))
        return try StaffTokenSigner(secret: secret).token(for: claims)
    }
}
