import Foundation
import Models
import Testing

@Suite struct AccountRulesTests {
    @Test(arguments: [
        ("short", "至少 10 个字符"),
        ("wang.fang-2026!", "登录名"),
        ("WANG.FANG2026x", "登录名"),
        ("QwertyUIOP123", "常见"),
        ("woaini1314", "常见"),
        ("zzzzzzzzzzzz", "重复"),
        (String(repeating: "长", count: 129), "最多"),
    ])
    func refusedPasswordsSayWhy(_ password: String, _ reason: String) throws {
        let problem = try #require(PasswordPolicy.problem(with: password, login: "wang.fang"))
        #expect(problem.contains(reason), "\(password): \(problem)")
    }

    @Test func goodPasswordsPass() {
        for password in ["Haizhu-Pilot-2026!", "沙园街道充电桩建设计划", "correct horse battery"] {
            #expect(PasswordPolicy.problem(with: password, login: "wang.fang") == nil, "\(password)")
        }
        #expect(PasswordPolicy.common.count >= 100, "the shipped list loads")
    }

    @Test func theSixthWrongPasswordLocksForAQuarterOfAnHour() {
        let throttle = SignInThrottle()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var failures = 0
        for attempt in 1...5 {
            let (counted, lock) = throttle.afterFailure(failures: failures, now: now)
            #expect(lock == nil && counted == attempt)
            failures = counted
        }
        let (counted, lock) = throttle.afterFailure(failures: failures, now: now)
        #expect(lock == now.addingTimeInterval(15 * 60) && counted == 0, "locked, and the count starts again after the lock")
    }
}
