@testable import Models
import Testing

/// Which register entry a receiver names: code or exact name, otherwise refused with the
/// closest names (the issue's example: "沙园街委员工作室" and "沙园街工作室" must not be two studios).
@Suite struct RegisterLookupTests {
    let register = [
        RegisterEntry(code: "studio-shayuan", kind: .studio, name: "沙园街委员工作室", street: "沙园街"),
        RegisterEntry(code: "studio-nanhuaxi", kind: .studio, name: "南华西街委员工作室", street: "南华西街"),
        RegisterEntry(code: "studio-closed", kind: .studio, name: "旧工作室", active: false),
        RegisterEntry(code: "m-0001", kind: .member, name: "王小明", sector: "经济界", studio: "studio-shayuan"),
        RegisterEntry(code: "m-0002", kind: .member, name: "王晓明", sector: "教育界"),
    ]

    @Test(arguments: [
        ("studio-shayuan", "studio-shayuan"), ("STUDIO-SHAYUAN", "studio-shayuan"), ("沙园街委员工作室", "studio-shayuan"),
        (" 沙园街 委员工作室 ", "studio-shayuan"), ("ｓｔｕｄｉｏ－ｓｈａｙｕａｎ", "studio-shayuan"),
    ])
    func aCodeOrTheExactNameFindsTheEntry(_ text: String, _ code: String) {
        guard case .found(let entry) = RegisterLookup.resolve(text, kind: .studio, in: register) else {
            Issue.record("\(text) was not found")
            return
        }
        #expect(entry.code == code)
    }

    @Test func aNearNameIsRefusedWithTheClosestNamesNotGuessed() {
        #expect(RegisterLookup.resolve("沙园街工作室", kind: .studio, in: register) == .unknown(closest: ["沙园街委员工作室", "南华西街委员工作室"]))
        // A typo in a member's name: both near names offered, the nearer first, neither taken.
        #expect(RegisterLookup.resolve("王小名", kind: .member, in: register) == .unknown(closest: ["王小明", "王晓明"]))
        #expect(RegisterLookup.resolve("李四", kind: .member, in: register) == .unknown(closest: []), "nothing in common: no suggestion")
    }

    @Test func kindsAreKeptApartAndInactiveEntriesAreSaidSo() {
        #expect(RegisterLookup.resolve("王小明", kind: .studio, in: register) == .unknown(closest: []))
        #expect(RegisterLookup.resolve("旧工作室", kind: .studio, in: register) == .inactive(register[2]))
        #expect(RegisterLookup.resolve("旧工作室", kind: nil, in: register) == .inactive(register[2]))
    }

    @Test func twoMembersOfOneNameAreToldApartByCode() {
        let twins = register + [RegisterEntry(code: "m-0003", kind: .member, name: "王小明", sector: "医卫界")]
        #expect(RegisterLookup.resolve("王小明", kind: .member, in: twins) == .ambiguous(codes: ["m-0001", "m-0003"]))
        #expect(RegisterLookup.resolve("m-0003", kind: .member, in: twins) == .found(twins[5]))
    }

    @Test(arguments: [("", "", 0), ("沙园", "沙园街", 1), ("王小明", "王晓明", 1), ("abc", "", 3), ("kitten", "sitting", 3)])
    func distanceCountsCharacters(_ a: String, _ b: String, _ expected: Int) {
        #expect(RegisterLookup.distance(a, b) == expected)
        #expect(RegisterLookup.distance(b, a) == expected)
    }
}
