import Crypto
import Foundation
import HummingbirdBcrypt
import Models
import NIOPosix
import PostgresNIO
import ServiceKit
import Storage

/// A person's account, as the workbench uses it (never with its password hash).
public struct Account: Sendable, Codable, Hashable {
    public var id: UUID
    public var district: DistrictCode
    public var login: String
    public var displayName: String
    public var role: StaffClaims.Role
    public var unitID: UUID?
    public var phone: String?
    public var email: String?
    public var mustChangePassword: Bool
    public var active: Bool
    public var lockedUntil: Date?
    /// A member's or studio's register entry (`RegisterEntry.code`).
    public var registerCode: String?

    /// What the audit trail keeps of an account: everything but secrets.
    var auditJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// What an administrator fills in for a new account.
public struct NewAccount: Sendable {
    public var district: DistrictCode
    public var login: String
    public var displayName: String
    public var role: StaffClaims.Role
    public var unitID: UUID?
    public var phone: String?
    public var email: String?
    public var registerCode: String?

    public init(
        district: DistrictCode, login: String, displayName: String, role: StaffClaims.Role, unitID: UUID? = nil,
        phone: String? = nil, email: String? = nil, registerCode: String? = nil
    ) {
        self.district = district
        self.login = login
        self.displayName = displayName
        self.role = role
        self.unitID = unitID
        self.phone = phone
        self.email = email
        self.registerCode = registerCode.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Each problem with its field, for the form.
    public var problems: [(field: String, message: String)] {
        var problems: [(field: String, message: String)] = []
        if login.range(of: #"^[a-z0-9][a-z0-9._-]{2,39}$"#, options: .regularExpression) == nil {
            problems.append(("login", "登录名为 3 到 40 个小写字母、数字或 . _ -，以字母或数字开头"))
        }
        let name = displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 60 { problems.append(("displayName", "姓名必填，最多 60 个字")) }
        if role == .handlingUnit && unitID == nil { problems.append(("unitId", "承办单位账号须选择所属单位")) }
        if role != .handlingUnit && unitID != nil { problems.append(("unitId", "只有承办单位账号属于单位")) }
        if let phone, !phone.isEmpty, phone.range(of: #"^[0-9+\- ]{5,20}$"#, options: .regularExpression) == nil {
            problems.append(("phone", "电话只能包含数字、空格、+ 和 -"))
        }
        if let email, !email.isEmpty, email.range(of: #"^[^@\s]+@[^@\s]+\.[^@\s]+$"#, options: .regularExpression) == nil {
            problems.append(("email", "电子邮箱格式不正确"))
        }
        if let problem = AccountRepository.registerProblem(role: role, code: registerCode) { problems.append(("registerCode", problem)) }
        return problems
    }
}

/// Accounts in PostgreSQL, passwords as bcrypt hashes (cost 12). Hashing takes a quarter of a
/// second of CPU by design, so it runs on NIO's thread pool, not on the cooperative threads.
public struct AccountRepository: Sendable {
    public let database: Database
    public static let bcryptCost: UInt8 = 12

    public init(database: Database) {
        self.database = database
    }

    static let columnNames = [
        "id", "district", "login", "display_name", "role", "unit_id", "phone", "email", "must_change_password", "active", "locked_until",
        "register_code",
    ]
    static let columns = columnNames.joined(separator: ", ")
    static func columns(of table: String) -> String { columnNames.map { table + "." + $0 }.joined(separator: ", ") }

    static func account(_ row: PostgresRow) throws -> Account? {
        try account(columns: row.makeRandomAccess(), from: 0)
    }

    /// The account in `columns` from position `first` on, in `columnNames`' order.
    static func account(columns c: PostgresRandomAccessRow, from first: Int) throws -> Account? {
        guard let district = DistrictCode(rawValue: try c[first + 1].decode(String.self)),
            let role = StaffClaims.Role(rawValue: try c[first + 4].decode(String.self))
        else { return nil }
        return Account(
            id: try c[first].decode(UUID.self), district: district, login: try c[first + 2].decode(String.self),
            displayName: try c[first + 3].decode(String.self), role: role, unitID: try c[first + 5].decode(UUID?.self),
            phone: try c[first + 6].decode(String?.self), email: try c[first + 7].decode(String?.self),
            mustChangePassword: try c[first + 8].decode(Bool.self), active: try c[first + 9].decode(Bool.self),
            lockedUntil: try c[first + 10].decode(Date?.self), registerCode: try c[first + 11].decode(String?.self))
    }

    public static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: bcryptCost) }
    }

    static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// A random first password: 16 letters and digits without look-alikes, for an administrator
    /// to hand over; the person must change it at first sign-in.
    public static func oneTimePassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    /// Creates the account with a one-time password (or `password`, for demo data); returns it
    /// and the password to hand over. Either way it must be changed at first sign-in.
    public func create(
        _ new: NewAccount, by actor: String, address: String?, now: Date, password chosen: String? = nil, mustChangePassword: Bool = true
    ) async throws -> (Account, String) {
        let password = chosen ?? Self.oneTimePassword()
        let hash = try await Self.hash(password)
        let account = try await database.transaction(.district(new.district)) { transaction -> Account in
            for try await _ in try await transaction.query("SELECT 1 FROM accounts WHERE login = \(new.login)") {
                throw APIError(.conflict, code: "login-taken", message: "登录名 \(new.login) 已被使用", field: "login")
            }
            try await Self.checkRegisterEntry(new.registerCode, role: new.role, in: transaction)
            let id = UUID()
            try await transaction.execute(
                """
                INSERT INTO accounts (id, district, login, display_name, role, unit_id, phone, email, password_hash, must_change_password,
                                      created_at, updated_at, register_code)
                VALUES (\(id), \(new.district.rawValue), \(new.login), \(new.displayName.trimmingCharacters(in: .whitespacesAndNewlines)),
                        \(new.role.rawValue), \(new.unitID), \(new.phone.flatMap { $0.isEmpty ? nil : $0 }),
                        \(new.email.flatMap { $0.isEmpty ? nil : $0 }), \(hash), \(mustChangePassword), \(now), \(now), \(new.registerCode))
                """)
            guard let account = try await Self.load(id, in: transaction) else { throw APIError.notFound }
            try await AuditTrail.record(
                AuditEntry(
                    actor: actor, address: address, action: "account-created", objectType: "account", objectID: account.login,
                    after: account.auditJSON),
                service: "workbench", district: new.district, at: now, in: transaction)
            return account
        }
        return (account, password)
    }

    /// Only members' and studios' accounts are linked to the register.
    static func registerProblem(role: StaffClaims.Role, code: String?) -> String? {
        guard code != nil else { return nil }
        return role == .member || role == .memberStudio ? nil : "只有委员和委员工作室账号关联登记册"
    }

    /// The entry must be in the district's register and of the account's kind: a member's
    /// account is linked to a member, a studio's to a studio.
    static func checkRegisterEntry(_ code: String?, role: StaffClaims.Role, in transaction: Transaction) async throws {
        guard let code else { return }
        if let problem = registerProblem(role: role, code: code) { throw APIError.invalid("registerCode", problem) }
        let wanted: Receiver.Kind = role == .memberStudio ? .studio : .member
        guard let entry = try await RegisterEntries.all(in: transaction).first(where: { $0.code == code }) else {
            throw APIError.invalid("registerCode", "登记册中没有编号 \(code)")
        }
        guard entry.kind == wanted else {
            throw APIError.invalid("registerCode", "\(entry.name)（\(code)）是\(entry.kind == .studio ? "工作室" : "委员")，与账号角色不符")
        }
    }

    static func load(_ id: UUID, in transaction: Transaction) async throws -> Account? {
        for try await row in try await transaction.query("SELECT \(unescaped: columns) FROM accounts WHERE id = \(id)") {
            return try account(row)
        }
        return nil
    }

    /// The account signing in with `login`, with its hash and failures (any district: the sign-in
    /// form asks for the login only).
    func forSignIn(_ login: String) async throws -> (account: Account, hash: String, failures: Int)? {
        try await database.transaction(.allDistricts) { transaction in
            for try await row in try await transaction.query(
                """
                SELECT \(unescaped: Self.columns), password_hash, failed_sign_ins FROM accounts WHERE login = \(login)
                """)
            {
                let columns = row.makeRandomAccess()
                guard let account = try Self.account(row) else { return nil }
                return (account, try columns[12].decode(String.self), try columns[13].decode(Int.self))
            }
            return nil
        }
    }

    /// The district's accounts by role, then login.
    public func list(in district: DistrictCode) async throws -> [Account] {
        try await database.transaction(.district(district)) { transaction in
            var accounts: [Account] = []
            for try await row in try await transaction.query("SELECT \(unescaped: Self.columns) FROM accounts ORDER BY role, login") {
                if let account = try Self.account(row) { accounts.append(account) }
            }
            return accounts
        }
    }

    public func find(_ id: UUID, in district: DistrictCode) async throws -> Account? {
        try await database.transaction(.district(district)) { transaction in try await Self.load(id, in: transaction) }
    }

    /// Sets the person's own new password (after the policy and the current one were checked).
    func changePassword(_ account: Account, to password: String, address: String?, now: Date) async throws {
        let hash = try await Self.hash(password)
        try await database.transaction(.district(account.district)) { transaction in
            try await transaction.execute(
                """
                UPDATE accounts SET password_hash = \(hash), must_change_password = false, updated_at = \(now) WHERE id = \(account.id)
                """)
            try await AuditTrail.record(
                AuditEntry(actor: account.login, address: address, action: "password-changed", objectType: "account", objectID: account.login),
                service: "workbench", district: account.district, at: now, in: transaction)
        }
    }

    /// An administrator's changes: role (and unit), active or not, a new one-time password.
    /// Returns the one-time password when one was set. Ends the person's sessions when they
    /// lose access or their password is reset.
    /// `registerCode`: nil keeps the link, an empty string removes it.
    func update(
        _ id: UUID, in district: DistrictCode, role: StaffClaims.Role?, unitID: UUID?, registerCode: String? = nil, active: Bool?,
        resetPassword: Bool, by actor: String, address: String?, now: Date
    ) async throws -> (Account, String?) {
        let password = resetPassword ? Self.oneTimePassword() : nil
        let hash = try await password.asyncMap { try await Self.hash($0) }
        return try await database.transaction(.district(district)) { transaction in
            for try await _ in try await transaction.query("SELECT 1 FROM accounts WHERE id = \(id) FOR UPDATE") {}
            guard let before = try await Self.load(id, in: transaction) else { throw APIError.notFound }
            let newRole = role ?? before.role
            let newUnit = role == nil ? before.unitID : unitID
            if (newRole == .handlingUnit) != (newUnit != nil) {
                throw APIError.invalid("unitId", newRole == .handlingUnit ? "承办单位账号须选择所属单位" : "只有承办单位账号属于单位")
            }
            let newRegister = registerCode.map { $0.isEmpty ? nil : $0 } ?? before.registerCode
            // A role without a register entry drops the link rather than refusing the change.
            let linked = newRole == .member || newRole == .memberStudio ? newRegister : nil
            if linked != before.registerCode { try await Self.checkRegisterEntry(linked, role: newRole, in: transaction) }
            try await transaction.execute(
                """
                UPDATE accounts SET role = \(newRole.rawValue), unit_id = \(newUnit), register_code = \(linked),
                       active = coalesce(\(active)::boolean, active),
                       password_hash = coalesce(\(hash), password_hash),
                       must_change_password = must_change_password OR \(hash != nil),
                       failed_sign_ins = CASE WHEN \(hash != nil) THEN 0 ELSE failed_sign_ins END,
                       locked_until = CASE WHEN \(hash != nil) THEN NULL ELSE locked_until END,
                       updated_at = \(now)
                WHERE id = \(id)
                """)
            guard let after = try await Self.load(id, in: transaction) else { throw APIError.notFound }
            if !after.active || hash != nil || after.role != before.role || after.unitID != before.unitID || after.registerCode != before.registerCode
            {
                try await SessionRepository.endAll(of: id, reason: "account-changed", now: now, in: transaction)
            }
            let action =
                hash != nil
                ? "password-reset" : (before.active != after.active ? (after.active ? "account-enabled" : "account-disabled") : "account-changed")
            try await AuditTrail.record(
                AuditEntry(
                    actor: actor, address: address, action: action, objectType: "account", objectID: after.login,
                    before: before.auditJSON, after: after.auditJSON),
                service: "workbench", district: district, at: now, in: transaction)
            return (after, password)
        }
    }

    /// A wrong password: counted, and the account locked once too many came in a row.
    func recordFailure(_ account: Account, failures: Int, throttle: SignInThrottle, address: String?, now: Date) async throws -> Date? {
        let (counted, lockedUntil) = throttle.afterFailure(failures: failures, now: now)
        try await database.transaction(.district(account.district)) { transaction in
            try await transaction.execute(
                """
                UPDATE accounts SET failed_sign_ins = \(counted), locked_until = coalesce(\(lockedUntil), locked_until) WHERE id = \(account.id)
                """)
            try await AuditTrail.record(
                AuditEntry(
                    actor: account.login, address: address, action: lockedUntil == nil ? "sign-in-failed" : "account-locked",
                    objectType: "account", objectID: account.login),
                service: "workbench", district: account.district, at: now, in: transaction)
        }
        return lockedUntil
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let value): try await transform(value)
        case .none: nil
        }
    }
}
