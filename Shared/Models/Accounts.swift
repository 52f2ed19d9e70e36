import Foundation

/// What a password must be to be set: at least `minimumLength` characters, not the login name
/// (nor containing it), not one of the common passwords shipped with the project
/// (Resources/common-passwords.txt), and not one character repeated.
public enum PasswordPolicy {
    public static let minimumLength = 10
    public static let maximumLength = 128

    /// Why the password may not be set, in Chinese for the form; nil when it may.
    public static func problem(with password: String, login: String) -> String? {
        let lowered = password.lowercased()
        if password.count < minimumLength { return "密码至少 \(minimumLength) 个字符" }
        if password.count > maximumLength { return "密码最多 \(maximumLength) 个字符" }
        if !login.isEmpty, lowered.contains(login.lowercased()) { return "密码不能包含登录名" }
        if Set(password).count == 1 { return "密码不能是同一个字符的重复" }
        if common.contains(lowered) { return "这个密码太常见，容易被猜到，请换一个" }
        return nil
    }

    /// The shipped list, lower-cased.
    public static let common: Set<String> = {
        guard let url = Bundle.module.url(forResource: "common-passwords", withExtension: "txt"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return [] }
        return Set(
            text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") })
    }()
}

/// When wrong passwords lock an account, and for how long. A lock is counted per account (what
/// a guesser of one person's password hits) and per client address (what a guesser of many
/// people's passwords hits).
public struct SignInThrottle: Sendable, Hashable {
    /// Wrong passwords in a row an account may have; the next wrong one locks it.
    public var failuresAllowed = 5
    public var lockMinutes = 15
    /// Wrong passwords from one address within `addressWindowMinutes` before it must wait.
    public var addressFailuresAllowed = 20
    public var addressWindowMinutes = 15

    public init() {}

    /// The account's state after one more wrong password: failures counted, and the lock's end
    /// once they pass what is allowed.
    public func afterFailure(failures: Int, now: Date) -> (failures: Int, lockedUntil: Date?) {
        let counted = failures + 1
        guard counted > failuresAllowed else { return (counted, nil) }
        return (0, now.addingTimeInterval(TimeInterval(lockMinutes * 60)))
    }
}
