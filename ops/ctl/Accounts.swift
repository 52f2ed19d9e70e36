import ArgumentParser
import Foundation
import Models
import ServiceKit
import Storage
import WorkbenchService

/// People's workbench accounts: the first administrator of a district comes from here; the
/// administrator adds everyone else in the workbench.
struct Accounts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Workbench accounts (the first administrator of a district; everyone else is added in the workbench).",
        subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account and print its one-time password (changed at first sign-in).")

        @Option(help: "District code (or the municipal tenant's).") var district: String
        @Option(help: "Role: \(StaffClaims.Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String
        @Option(help: "Login name: 3 to 40 lower-case letters, digits, '.', '_' or '-'.") var login: String
        @Option(help: "The person's name as pages show it (defaults to the login).") var name: String?
        @Option(help: "Handling unit id, for the handling-unit role.") var unit: String?
        @Option(help: "The register entry (its code) of a member's or studio's account.") var register: String?
        @Option(help: "Phone for notifications.") var phone: String?
        @Option(help: "E-mail for notifications.") var email: String?
        @Option(help: "A password to set instead of a generated one (demo data only; still changed at first sign-in).")
        var password: String?
        @Flag(help: "No password change at first sign-in (demo data only).") var ready = false
        @Option(name: .customLong("operator"), help: "Who creates it (recorded in the audit trail).")
        var operatorName: String = ProcessInfo.processInfo.environment["USER"] ?? "operator"

        func validate() throws {
            guard let district = DistrictCode(rawValue: district) else { throw ValidationError("--district: not a district code") }
            guard let role = StaffClaims.Role(rawValue: role) else {
                throw ValidationError("--role: one of \(StaffClaims.Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let unit, UUID(uuidString: unit) == nil { throw ValidationError("--unit: a unit id (UUID)") }
            let new = NewAccount(
                district: district, login: login, displayName: name ?? login, role: role,
                unitID: unit.flatMap(UUID.init(uuidString:)), phone: phone, email: email, registerCode: register)
            if let problem = new.problems.first {
                throw ValidationError(
                    "--\(problem.field == "displayName" ? "name" : problem.field == "unitId" ? "unit" : problem.field == "registerCode" ? "register" : problem.field): \(problem.message)"
                )
            }
            if let password, let problem = PasswordPolicy.problem(with: password, login: login) { throw ValidationError("--password: \(problem)") }
        }

        func run() async throws {
            let new = NewAccount(
                district: DistrictCode(rawValue: district)!, login: login, displayName: name ?? login, role: StaffClaims.Role(rawValue: role)!,
                unitID: unit.flatMap(UUID.init(uuidString:)), phone: phone, email: email, registerCode: register)
            let (who, chosen, mustChange) = (operatorName, password, !ready)
            let (account, oneTime) = try await withDatabase { database in
                do {
                    return try await AccountRepository(database: database).create(
                        new, by: who, address: nil, now: Date(), password: chosen,
                        mustChangePassword: mustChange)
                } catch let error as APIError {
                    throw CommandFailure(error.message)
                }
            }
            print("account \(account.login) (\(account.role.rawValue), \(account.district.rawValue))")
            if chosen == nil { print("one-time password: \(oneTime)") }
            print(mustChange ? "sign in at the workbench; the password must be changed at first sign-in" : "sign in at the workbench")
        }
    }
}
