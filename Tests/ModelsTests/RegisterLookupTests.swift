import Testing

@testable import Models

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

/// Crediting a form's receiver: the register's entry with its studio, or a refusal that says why.
@Suite struct ReceiverCreditTests {
    let register = RegisterLookupTests().register

    @Test func aFoundReceiverCarriesItsCodeAndTheStudioItCollectsFor() throws {
        let member = try RegisterLookup.credit(Receiver(kind: .member, name: "王小明"), in: register).get()
        #expect(member == Receiver(kind: .member, name: "王小明", code: "m-0001", studio: "studio-shayuan"))
        let studio = try RegisterLookup.credit(Receiver(kind: .studio, name: " 沙园街委员工作室"), in: register).get()
        #expect(studio == Receiver(kind: .studio, name: "沙园街委员工作室", code: "studio-shayuan", studio: "studio-shayuan"))
        // A code names its entry even where the form guessed the other kind from the wording.
        let byCode = try RegisterLookup.credit(Receiver(kind: .studio, name: "m-0002"), in: register).get()
        #expect(byCode.kind == .member && byCode.code == "m-0002" && byCode.studio == nil)
    }

    @Test func refusalsNameTheClosestEntriesTheCodesOrTheInactiveEntry() {
        func refusal(_ receiver: Receiver, in entries: [RegisterEntry]) -> String? {
            if case .failure(let refusal) = RegisterLookup.credit(receiver, in: entries) { return refusal.message }
            return nil
        }
        #expect(
            refusal(Receiver(kind: .studio, name: "沙园街工作室"), in: register)
                == "登记册中没有名为“沙园街工作室”的工作室；最接近的：沙园街委员工作室、南华西街委员工作室")
        #expect(refusal(Receiver(kind: .member, name: "李四"), in: register) == "登记册中没有名为“李四”的委员；请先在登记册中登记")
        #expect(refusal(Receiver(kind: .studio, name: "旧工作室"), in: register) == "“旧工作室”（studio-closed）在登记册中已停用")
        let twins = register + [RegisterEntry(code: "m-0003", kind: .member, name: "王小明")]
        #expect(refusal(Receiver(kind: .member, name: "王小明"), in: twins) == "登记册中有多位名为“王小明”的委员，请填写编号：m-0001、m-0003")
    }

    @Test func aDistrictWithoutARegisterOfTheKindKeepsTheNameAsGiven() throws {
        let studiosOnly = register.filter { $0.kind == .studio }
        let free = Receiver(kind: .member, name: "张三")
        #expect(try RegisterLookup.credit(free, in: studiosOnly).get() == free)
        #expect(try RegisterLookup.credit(free, in: []).get() == free)
    }
}
