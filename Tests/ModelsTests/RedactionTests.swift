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
        #expect(Redaction.redact("联系人赵小红，电话 13812345678；赵小红的邻居也反映", names: ["赵小红", "李"]) == "联系人赵*，电话 \(Redaction.phoneLabel)；赵*的邻居也反映")
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

/// The forms personal data took on the running portal, one row each, and as many ordinary numbers
/// and words that must come through as they are.
struct RedactionFormsTests {
    static let phone = Redaction.phoneLabel, idCard = Redaction.idCardLabel, email = Redaction.emailLabel
    static let qq = Redaction.qqLabel, weChat = Redaction.weChatLabel, card = Redaction.bankCardLabel
    static let document = Redaction.documentLabel, plate = Redaction.plateLabel, address = Redaction.addressLabel

    static let forms: [(text: String, expected: String)] =
        [
            // Phones: any separator, two spaces, glued to Tel or wx, Chinese numerals, Hong Kong, Macau, Taiwan.
            ("电话138.1234.5678", "电话\(phone)"),
            ("138_1234_5678找我", "\(phone)找我"),
            ("手机138  1234  5678", "手机\(phone)"),
            ("手机 138/1234/5678", "手机 \(phone)"),
            ("电话：138·1234·5678", "电话：\(phone)"),
            ("１３８－１２３４－５６７８", phone),
            ("１３８．１２３４．５６７８", phone),
            ("138\u{3000}1234\u{3000}5678（全角空格）", "\(phone)（全角空格）"),
            ("手机：138 - 1234 - 5678", "手机：\(phone)"),
            ("TEL13812345678", "TEL\(phone)"),
            ("加wx13812345678", "加wx\(phone)"),
            ("Tel:13812345678", "Tel:\(phone)"),
            ("Ｔｅｌ：１３８ １２３４ ５６７８", "Ｔｅｌ：\(phone)"),
            ("电话一三八一二三四五六七八", "电话\(phone)"),
            ("打幺三九〇〇〇〇幺幺幺幺", "打\(phone)"),
            ("手机一三九零零零零一一一一", "手机\(phone)"),
            ("香港电话+852 9123 4567", "香港电话\(phone)"),
            ("澳门(853) 6612 3456", "澳门\(phone)"),
            ("00852-91234567", phone),
            ("+853 6612 3456", phone),
            ("台湾+886 912 345 678", "台湾\(phone)"),
            ("+1 415 555 0100", phone),
            ("电话9123 4567（香港）", "电话\(phone)（香港）"),
            ("两个号码13812345678 13912345678", "两个号码\(phone) \(phone)"),
            ("座机86-20-87654321", "座机\(phone)"),
            ("(86)20-87654321", phone),
            // QQ and WeChat.
            ("QQ：12345678", "QQ：\(qq)"),
            ("qq 123456", "qq \(qq)"),
            ("ＱＱ号１２３４５６７８９", "ＱＱ号\(qq)"),
            ("扣扣987654321联系", "扣扣\(qq)联系"),
            ("QQ号码: 10001", "QQ号码: \(qq)"),
            ("QQ12345678", "QQ\(qq)"),
            ("微信：zhangsan_88", "微信：\(weChat)"),
            ("微信号 wxid_abc123", "微信号 \(weChat)"),
            ("wx: Li-Si2026", "wx: \(weChat)"),
            ("加V信 abc12345", "加V信 \(weChat)"),
            ("微信：zhangsan", "微信：\(weChat)"),
            ("微信ID:zhangsan", "微信ID:\(weChat)"),
            ("vx：13812345678", "vx：\(phone)"),
            ("微信13812345678同号", "微信\(phone)同号"),
            // Bank cards: with a card word whatever the check digit, without one only when it passes.
            ("银行卡号6222 0212 3456 7890 128", "银行卡号\(card)"),
            ("卡号：1234567890123456", "卡号：\(card)"),
            ("请转至6217001234567890122", "请转至\(card)"),
            ("账号 6222-0212-3456-7890", "账号 \(card)"),
            ("信用卡4111 1111 1111 1111", "信用卡\(card)"),
            ("银行卡号码：6228480012345671", "银行卡号码：\(card)"),
            // ID cards, passports, travel permits.
            ("身份证：440104 1990 0101 123Ｘ", "身份证：\(idCard)"),
            ("身份证号440104-19900101-1234", "身份证号\(idCard)"),
            ("４４０１０４１９９００１０１１２３４", idCard),
            ("证件号码：440104199001011234", "证件号码：\(idCard)"),
            ("护照号E12345678", "护照号\(document)"),
            ("护照：G12345678", "护照：\(document)"),
            ("港澳通行证C12345678", "港澳通行证\(document)"),
            ("回乡证H12345678901", "回乡证\(document)"),
            ("通行证号码：H12345678901", "通行证号码：\(document)"),
            ("证件号EA1234567", "证件号\(document)"),
            // Plates.
            ("车牌粤A12345", "车牌\(plate)"),
            ("粤A·D12345停在消防通道", "\(plate)停在消防通道"),
            ("我的车粤AD12345被刮", "我的车\(plate)被刮"),
            ("车牌号：粤b12345", "车牌号：\(plate)"),
            ("教练车粤B1234学", "教练车\(plate)"),
            // E-mail.
            ("zhang＠qq．com", email),
            ("邮箱zhang@qq。com", "邮箱\(email)"),
            ("邮箱 zhang at qq dot com", "邮箱 \(email)"),
            ("ｚｈａｎｇ＠ｑｑ．ｃｏｍ", email),
            ("wang(at)163.com", email),
            // Homes: the building, unit and room go, the street and community stay.
            ("海珠区江南大道中123号5栋1203房", "海珠区江南大道中123号\(address)"),
            ("某某小区3座2单元501室", "某某小区\(address)"),
            ("8号楼3单元402", address),
            ("家住和平里3-2-501", "家住和平里\(address)"),
            ("住在A座1203室", "住在\(address)"),
            ("锦绣花园12栋二单元1201，漏水", "锦绣花园\(address)，漏水"),
            ("家住锦绣花园1203室", "家住锦绣花园\(address)"),
            ("江南新村5栋2-1203", "江南新村\(address)"),
            ("5栋12楼1203", address),
            ("五栋一二〇三房", address),
            // Names a text introduces.
            ("我是张三", "我是张*"),
            ("我叫王小明，住在附近", "我叫王*，住在附近"),
            ("联系人：李四", "联系人：李*"),
            ("姓名：欧阳娜娜", "姓名：欧阳*"),
            ("联系人赵小红电话13812345678", "联系人赵*电话\(phone)"),
            ("反映人：陈明", "反映人：陈*"),
            ("本人姓王名小明", "本人姓王名*"),
            ("我叫张三的邻居反映", "我叫张*的邻居反映"),
            ("联系人是王小明先生", "联系人是王*先生"),
            ("联系人：李四，电话138-1234-5678，住锦绣花园5栋1203房", "联系人：李*，电话\(phone)，住锦绣花园\(address)"),
        ] + controls.map { ($0, $0) }

    /// Unchanged: dates, case numbers, amounts, years, articles, percentages, bus routes, public rooms,
    /// times, counts, postal codes, public service numbers (not anybody's personal data), model numbers.
    static let controls = [
        "2026年11月25日召开",
        "会议时间2026-11-25 14:30",
        "2026.11.25公布结果",
        "2026/11/25前答复",
        "联系时间20261125",
        "案件编号BX-2026-000123",
        "提案第2026045号",
        "共200个车位",
        "补贴3000元",
        "投资1,500,000元",
        "预算12.5万元",
        "计划2027年完工",
        "依据第十二条规定",
        "依照第12条第3款",
        "增长3.5%，占比12.5%",
        "公交B12路和12路",
        "区政府3楼301室办理",
        "市民中心B座301室",
        "14:30开会",
        "三个小区，一二年级",
        "每周一三五开放",
        "邮编510000",
        "拨打12345市民热线，或110、120、12315",
        "热线电话12345/110",
        "服务热线400-830-1234",
        "iPhone15和A4纸",
        "统一社会信用代码91440101MA5ABCDE12",
        "订单编号6222021234567890已发货",
        "营业时间9:00-18:00",
        "地铁3号线2号出口",
        "广州市海珠区江南大道中123号门前",
        "5栋电梯坏了，3栋2单元也一样",
        "小区共有5栋楼120户",
        "会议室在3楼",
        "电动车1200辆，充电桩300个",
        "2025-2026学年",
        "版本v1.2.3",
        "粤港澳大湾区建设",
        "新建一座桥",
        "微信公众号“海珠发布”",
        "QQ群和微信群都在讨论",
        "用微信 wechat 扫码",
        "联系人：王先生",
        "联系人为社区网格员",
        "我姓王，住在附近",
        "我是海珠区居民",
        "我是江西人，在这里打工",
        "我是高中生，",
        "我是黄埔区。",
        "发票代码：144031900111",
        "快递单号SF1234567890123",
        "（2026）粤0105民初12345号",
        "ISBN 978-7-111-12345-6",
        "1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
        "区人大常委会302会议室",
        "楼高138米，共42层",
    ]

    @Test(arguments: forms.indices)
    func masksEveryFormAndNothingElse(_ index: Int) {
        let (text, expected) = Self.forms[index]
        #expect(Redaction.redact(text) == expected, "\(text)")
    }

    @Test func tableIsLargeEnough() {
        #expect(Self.forms.count >= 60)
        #expect(Self.controls.count >= 20)
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
