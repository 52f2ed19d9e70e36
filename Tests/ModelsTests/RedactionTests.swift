import Foundation
import Models
import Testing

/// Redaction on Chinese text: every phone, ID-card number and e-mail address is masked, in the
/// forms residents type them; dates, counts, amounts and years are not.
struct RedactionTests {
    static let masked: [(text: String, expected: String)] = [
        ("我的手机13812345678，请联系", "我的手机\(Redaction.phoneLabel)，请联系"),
        ("电话：138 1234 5678。", "电话：\(Redaction.phoneLabel)。"),
        ("联系138-1234-5678", "联系\(Redaction.phoneLabel)"),
        ("请拨+86 139 0000 1111咨询", "请拨\(Redaction.phoneLabel)咨询"),
        ("号码8613900001111", "号码\(Redaction.phoneLabel)"),
        ("手机号１３８１２３４５６７８（全角）", "手机号\(Redaction.phoneLabel)（全角）"),
        ("座机020-87654321", "座机\(Redaction.phoneLabel)"),
        ("办公电话(020)87654321转分机", "办公电话\(Redaction.phoneLabel)转分机"),
        ("电话0755 2345 6789", "电话\(Redaction.phoneLabel)"),
        ("热线：87654321", "热线：\(Redaction.phoneLabel)"),
        ("身份证号440104199001011234", "身份证号\(Redaction.idCardLabel)"),
        ("证件44010419900101123X已核实", "证件\(Redaction.idCardLabel)已核实"),
        ("身份证 440104 19900101 123x", "身份证 \(Redaction.idCardLabel)"),
        ("旧身份证440104900101123", "旧身份证\(Redaction.idCardLabel)"),
        ("邮箱wang.xm@example.com", "邮箱\(Redaction.emailLabel)"),
        ("发到 li_si+tips@mail.gz.gov.cn.", "发到 \(Redaction.emailLabel)."),
        ("邮件地址：zhang３＠qq.com", "邮件地址：\(Redaction.emailLabel)"),
        ("王先生（13800001111，wang@163.com）反映", "王先生（\(Redaction.phoneLabel)，\(Redaction.emailLabel)）反映"),
    ]

    @Test(arguments: masked.indices)
    func masksPersonalNumbersAndAddresses(_ index: Int) {
        let (text, expected) = Self.masked[index]
        #expect(Redaction.redact(text) == expected, "\(text)")
    }

    static let untouched = [
        "2026年3月15日起，海珠区共收到59条电动自行车安全线索",
        "会议定于2026-03-15召开，预算12345678元",
        "小区有1200户居民，停车位只有300个",
        "建议在2025-2026年度完成改造",
        "投诉热线12345已转办",
        "第14届第5次会议，编号HZ-14-2026-0001",
        "型号A12345678901的设备",
        "请于20260315前答复",
        "增长3.5%，达到100000人次",
        "地铁11号线和广州塔",
    ]

    @Test(arguments: untouched)
    func leavesOrdinaryNumbersAlone(_ text: String) {
        #expect(Redaction.redact(text) == text)
    }

    @Test func masksTheNamesItIsGiven() {
        #expect(Redaction.redact("联系人赵小红，电话 13812345678；赵小红的邻居也反映", names: ["赵小红", "李"]) ==
                "联系人赵*，电话 \(Redaction.phoneLabel)；赵*的邻居也反映")
        #expect(Redaction.redact("欧阳娜娜和欧阳反映", names: ["欧阳娜娜"]) == "欧阳*和欧阳反映")
    }

    @Test func masksNames() {
        #expect(Redaction.maskName("王小明") == "王*")
        #expect(Redaction.maskName("欧阳娜娜") == "欧阳*")
        #expect(Redaction.maskName(" 李 ") == "李*")
        #expect(Redaction.maskName("") == "匿名")
    }

    @Test func showsResidentsOnlyWithConsent() {
        let proposers = [PublicNames.Proposer(name: "王小明", kind: "resident"), PublicNames.Proposer(name: "李委员", kind: "member")]
        #expect(PublicNames.proposers(proposers, residentsConsented: true) == "王*、李委员")
        #expect(PublicNames.proposers(proposers, residentsConsented: false) == "群众（匿名）、李委员")
        #expect(PublicNames.proposers([], residentsConsented: true) == "群众（匿名）")
    }
}

struct PublicStatusTests {
    let day: Double = 86_400
    let start = Date(timeIntervalSince1970: 1_770_000_000)

    @Test func followsTheLeadUnitsStandingReply() {
        #expect(PublicProposalStatus.of(closed: false, parts: []) == .filed)
        #expect(PublicProposalStatus.of(closed: false, parts: [.init(isLead: true)]) == .assigned)
        let replied = PublicProposalStatus.Part(isLead: true, repliedAt: start)
        #expect(PublicProposalStatus.of(closed: false, parts: [replied]) == .replied)
        // A co-unit's reply alone answers nothing.
        #expect(PublicProposalStatus.of(closed: false, parts: [.init(isLead: true), .init(isLead: false, repliedAt: start)]) == .assigned)
        var evaluated = replied
        evaluated.evaluatedAt = start.addingTimeInterval(day)
        #expect(PublicProposalStatus.of(closed: false, parts: [evaluated]) == .evaluated)
        // Sent back for re-handling: handled again until the next reply.
        var reopened = evaluated
        reopened.reopenedAt = start.addingTimeInterval(2 * day)
        #expect(PublicProposalStatus.of(closed: false, parts: [reopened]) == .assigned)
        reopened.repliedAt = start.addingTimeInterval(3 * day)
        #expect(PublicProposalStatus.of(closed: false, parts: [reopened]) == .replied)
        // A superseded round does not count.
        #expect(PublicProposalStatus.of(closed: false, parts: [.init(isLead: true, superseded: true, repliedAt: start)]) == .filed)
        #expect(PublicProposalStatus.of(closed: true, parts: []) == .closed)
    }
}
