import BenchSupport
import Foundation
import Models

/// A generated district directory of handling units, shaped like Haizhu's: the offices of its 18
/// streets, district departments and their sections, and municipal departments. Each unit owns
/// one to three of triage's ten domains and lists 3–8 keywords of its trade, so that several
/// units compete for most proposals, as they do in a real directory.
struct DistrictDirectory {
    struct UnitEntry {
        var id: UUID
        var code: String
        var name: String
        var kind: HandlingUnit.Kind
        /// Indexes into `Vocabulary.domains`, the unit's main domain first.
        var domains: [Int]
        var keywords: [String]
        /// The street of a street office.
        var street: Int?

        var domainCodes: [String] { domains.map { Vocabulary.domains[$0].code } }
    }

    let units: [UnitEntry]
    /// The units owning each domain, for picking co-units.
    let owners: [[Int]]
    /// How many units list each keyword: proposals name what their responsible unit is known for.
    let keywordOwners: [String: Int]

    /// Street offices first (6 per street), then 40 municipal departments, then district departments.
    init(units count: Int = 500, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var units: [UnitEntry] = []
        let streetOffices = Vocabulary.streets.count * Vocabulary.streetOffices.count
        for number in 0..<count {
            let id = random.uuid()
            var unit: UnitEntry
            if number < streetOffices {
                let street = number / Vocabulary.streetOffices.count
                let office = Vocabulary.streetOffices[number % Vocabulary.streetOffices.count]
                unit = UnitEntry(
                    id: id, code: String(format: "st-%02d-%d", street + 1, number % Vocabulary.streetOffices.count + 1),
                    name: Vocabulary.streets[street] + office.name, kind: .streetOffice,
                    domains: [Vocabulary.domainIndex(office.domain)], keywords: [Vocabulary.streets[street]], street: street)
            } else if number < streetOffices + 40 {
                let serial = number - streetOffices
                let domain = serial % Vocabulary.domains.count, slot = serial / Vocabulary.domains.count
                let organs = Vocabulary.domains[domain].municipalOrgans
                unit = UnitEntry(
                    id: id, code: String(format: "md-%02d", serial + 1),
                    name: organs[slot % organs.count] + (slot / organs.count % 2 == 0 ? "" : "综合处"),
                    kind: .municipalDepartment, domains: [domain], keywords: [], street: nil)
            } else {
                let serial = number - streetOffices - 40
                let domain = serial % Vocabulary.domains.count, slot = serial / Vocabulary.domains.count
                let organs = Vocabulary.domains[domain].districtOrgans
                let section = slot / organs.count
                let serialNumber = section >= Vocabulary.sections.count ? "\(section / Vocabulary.sections.count + 1)" : ""
                let name = "\(organs[slot % organs.count])\(Vocabulary.sections[section % Vocabulary.sections.count])\(serialNumber)"
                unit = UnitEntry(
                    id: id, code: String(format: "dd-%03d", serial + 1), name: name, kind: .districtDepartment,
                    domains: [domain], keywords: [], street: nil)
            }
            // Half the units own one domain, the others two or three.
            let extra = random.unit() < 0.5 ? 0 : (random.unit() < 0.7 ? 1 : 2)
            while unit.domains.count < 1 + extra {
                let domain = random.below(Vocabulary.domains.count)
                if !unit.domains.contains(domain) { unit.domains.append(domain) }
            }
            // Keywords of the main domain's trade, now and then one of another domain it owns.
            let wanted = 3 + random.below(6)
            while unit.keywords.count < wanted {
                let domain = unit.domains.count > 1 && random.unit() < 0.2 ? unit.domains[1 + random.below(unit.domains.count - 1)] : unit.domains[0]
                let keyword = random.pick(Vocabulary.domains[domain].keywords)
                if !unit.keywords.contains(keyword) { unit.keywords.append(keyword) }
            }
            units.append(unit)
        }
        self.units = units
        var owners = [[Int]](repeating: [], count: Vocabulary.domains.count)
        var keywordOwners: [String: Int] = [:]
        for (index, unit) in units.enumerated() {
            for domain in unit.domains { owners[domain].append(index) }
            for keyword in unit.keywords { keywordOwners[keyword, default: 0] += 1 }
        }
        self.owners = owners
        self.keywordOwners = keywordOwners
    }

    var summary: String {
        let kinds = Dictionary(grouping: units, by: \.kind).mapValues(\.count)
        let keywords = units.reduce(0) { $0 + $1.keywords.count }
        return String(
            format:
                "directory: %d units (%d street offices, %d district departments, %d municipal departments), %.1f keywords and %.1f domains per unit",
            units.count, kinds[.streetOffice] ?? 0, kinds[.districtDepartment] ?? 0, kinds[.municipalDepartment] ?? 0,
            Double(keywords) / Double(max(units.count, 1)),
            Double(units.reduce(0) { $0 + $1.domains.count }) / Double(max(units.count, 1)))
    }
}

/// A generated proposal: its four texts as stored, its domain, and the unit that should lead it
/// (and the co-unit that should help, if any): the right answer of the suggestion.
struct GeneratedProposal {
    var title: String
    var caseSummary: String
    var reasons: String
    var suggestions: String
    var domain: String
    var responsible: Int
    var coUnit: Int?
    /// Whether it restates an earlier proposal's issue (similar past proposals exist for it).
    var restates: Bool

    /// The text suggestions read, joined as the assignment service joins it.
    var text: String { [title, caseSummary, reasons, suggestions].joined(separator: "\n") }
    var characters: Int { title.count + caseSummary.count + reasons.count + suggestions.count }
}

/// A deterministic stream of proposals, 150–400 characters each, about issues of the directory's
/// units: the responsible unit's distinctive keywords, its domain's wording, places, and common
/// filler. About 30 % restate an earlier proposal's issue in other words (clauses dropped or
/// reordered, another opening, filler of their own), as proposals on one issue do year after year.
struct ProposalStream: Sequence {
    let directory: DistrictDirectory
    let count: Int
    let seed: UInt64
    var restateRate = 0.3

    func makeIterator() -> Iterator { Iterator(stream: self) }

    /// An issue is its unit, domain, co-unit and a seed from which every voice draws the same
    /// content; only the variations come from the stream.
    struct Issue {
        var seed: UInt64
        var responsible: Int
        var coUnit: Int?
        var domain: Int
    }

    struct Iterator: IteratorProtocol {
        let stream: ProposalStream
        var random: SplitMix64
        var produced = 0
        var issues: [Issue] = []
        var issueOfProposal: [Int32] = []

        init(stream: ProposalStream) {
            self.stream = stream
            random = SplitMix64(seed: stream.seed)
        }

        mutating func next() -> GeneratedProposal? {
            guard produced < stream.count else { return nil }
            produced += 1
            let restates = !issueOfProposal.isEmpty && random.unit() < stream.restateRate
            let issue: Int
            if restates {
                issue = Int(issueOfProposal[random.below(issueOfProposal.count)])
            } else {
                issues.append(newIssue())
                issue = issues.count - 1
            }
            issueOfProposal.append(Int32(issue))
            return voice(issues[issue], restates: restates)
        }

        mutating func newIssue() -> Issue {
            let units = stream.directory.units
            let responsible = random.below(units.count)
            let unit = units[responsible]
            let domain = random.unit() < 0.8 ? unit.domains[0] : random.pick(unit.domains)
            var coUnit: Int?
            if random.unit() < 0.3 {
                let owners = stream.directory.owners[domain]
                let candidate = owners.count > 1 && random.unit() < 0.7 ? random.pick(owners) : random.below(units.count)
                if candidate != responsible { coUnit = candidate }
            }
            return Issue(seed: random.next(), responsible: responsible, coUnit: coUnit, domain: domain)
        }

        /// One proposal on `issue`: the issue's content (from its seed) told with this voice's variations.
        mutating func voice(_ issue: Issue, restates: Bool) -> GeneratedProposal {
            let directory = stream.directory
            let unit = directory.units[issue.responsible]
            let vocabulary = Vocabulary.domains[issue.domain]
            var core = SplitMix64(seed: issue.seed)

            // The issue's content: the unit's three most distinctive keywords (sometimes one more),
            // where, what goes wrong, why, and what to do.
            let ranked = unit.keywords.map { ($0, directory.keywordOwners[$0] ?? 0, core.next()) }
                .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.2 < $1.2 }.map { $0.0 }
            var keywords = Array(ranked.prefix(3))
            if ranked.count > 3 && core.unit() < 0.5 { keywords.append(ranked[3 + core.below(ranked.count - 3)]) }
            var coKeywords: [String] = []
            if let coUnit = issue.coUnit {
                let theirs = directory.units[coUnit].keywords.shuffled(using: &core)
                coKeywords = Array(theirs.prefix(1 + core.below(2)))
            }
            let street = unit.street ?? (core.unit() < 0.3 ? core.below(Vocabulary.streets.count) : nil)
            let place = street.map { "\(Vocabulary.streets[$0])街\(core.pick(Vocabulary.communities))社区" } ?? core.pick(Vocabulary.wholeDistrict)
            let keywordClauses = keywords.map { core.pick(Vocabulary.keywordClauses).with($0) }
            var problems = core.distinct(2 + core.below(2), below: vocabulary.phrases.count).map { vocabulary.phrases[$0] }
            var causes = core.distinct(2, below: Vocabulary.causes.count).map { Vocabulary.causes[$0] }
            let remedies = core.distinct(2, below: vocabulary.remedies.count).map { vocabulary.remedies[$0] }
            let keywordRemedies = keywords.prefix(2).map { core.pick(Vocabulary.keywordRemedies).with($0) }
            // Where exactly and what residents see there: places, objects and complaints drawn
            // from pools large enough that unrelated proposals rarely share them.
            let details = (0..<20).map { _ in
                let road = core.pick(Vocabulary.roads), kind = core.pick(Vocabulary.roadKinds), number = 1 + core.below(200)
                return "\(road)\(kind)\(number)号\(core.pick(Vocabulary.objects))，\(core.pick(Vocabulary.complaints))"
            }
            let length = 150 + core.below(251)

            // This voice: its own opening, order, omissions, wording of causes and suggestions, and title.
            var clauses = keywordClauses
            if random.below(2) == 0 { clauses.reverse() }
            if random.below(2) == 0 { causes.reverse() }
            if problems.count > 2 && random.below(3) == 0 { problems.remove(at: random.below(problems.count)) }
            let voiceDetails = details.filter { _ in random.unit() < 0.75 }
            let target = Swift.min(400, Swift.max(150, length + random.below(41) - 20))

            let streetName = street.map { Vocabulary.streets[$0] }
            let subject = keywords.first { $0 != streetName } ?? keywords[0]
            let title = random.pick(Vocabulary.titles).with(streetName.map { "\($0)街" } ?? "", subject)
            var summary = "\(random.pick(Vocabulary.openers))\(place)\(clauses.joined(separator: "，"))，\(problems.joined(separator: "，"))"
            if let first = coKeywords.first { summary += "，\(Vocabulary.coUnitClause.with(first))" }
            summary += "，\(random.pick(Vocabulary.consequences))。"
            var reasons = random.pick(Vocabulary.reasonForms).with(causes[0], causes[1])
            var advice = remedies
            advice.append(contentsOf: keywordRemedies)
            advice.append(contentsOf: coKeywords.map { Vocabulary.coUnitRemedy.with($0) })
            advice.append(random.pick(Vocabulary.generalRemedies))
            var suggestions: String
            switch random.below(3) {
            case 0:
                let numbered = advice.enumerated().map { "\(Vocabulary.ordinals[$0.offset])\($0.element)" }
                suggestions = "建议：\(numbered.joined(separator: "；"))。"
            case 1: suggestions = "建议\(advice.joined(separator: "；"))。"
            default: suggestions = "为此，\(advice.joined(separator: "，"))。"
            }
            if random.below(2) == 0 { suggestions += random.pick(Vocabulary.remarks) }

            // Details of the issue, in the issue's order, until the voice is as long as it wants.
            var total = title.count + summary.count + reasons.count + suggestions.count
            for (index, detail) in voiceDetails.enumerated() where total + detail.count + 1 <= target {
                if index % 2 == 0 { summary += "\(detail)。" } else { reasons += "\(detail)。" }
                total += detail.count + 1
            }
            return GeneratedProposal(
                title: title, caseSummary: summary, reasons: reasons, suggestions: suggestions, domain: vocabulary.code,
                responsible: issue.responsible, coUnit: issue.coUnit, restates: restates)
        }
    }
}

/// A sentence pattern with slots, filled in order.
struct Pattern: Sendable {
    let parts: [String]
    init(_ parts: String...) { self.parts = parts }

    func with(_ values: String...) -> String {
        var text = parts[0]
        for (index, part) in parts.dropFirst().enumerated() { text += (index < values.count ? values[index] : "") + part }
        return text
    }
}

/// The words of the generated directory and proposals. Unit keywords are trade terms that the
/// domains' wording and the common filler do not contain, so that a keyword found in a proposal
/// was put there for a unit.
enum Vocabulary {
    struct Domain: Sendable {
        var code: String
        var name: String
        /// What units of the domain list as keywords (2–4 characters).
        var keywords: [String]
        /// How proposals of the domain describe what goes wrong (with triage's domain words).
        var phrases: [String]
        var remedies: [String]
        var districtOrgans: [String]
        var municipalOrgans: [String]
    }

    /// Triage's ten domains (Shared/Models/Resources/default-rules.json).
    static let domains: [Domain] = [
        Domain(
            code: "transport", name: "交通出行",
            keywords: [
                "公交站台", "公交专线", "信号配时", "停车泊位", "立体车库", "共享单车", "网约车", "接驳巴士", "过街天桥",
                "人行横道", "掉头车道", "限速标志", "慢行系统", "交通标线", "路侧停车", "非机动车",
            ],
            phrases: [
                "早晚高峰车辆排队很长", "路口通行效率不高", "行人过马路要绕很远", "违停车辆把道路堵住", "乘客候车时间过长",
                "电动自行车逆行现象多", "车辆进出小区困难", "地铁出口附近秩序混乱",
            ],
            remedies: ["优化路口渠化设计", "增加高峰时段班次", "规范电动自行车停放", "加强违停执法", "完善步行和骑行环境"],
            districtOrgans: ["区交通运输局", "区交警大队"], municipalOrgans: ["市交通运输局", "广州地铁集团"]),
        Domain(
            code: "education", name: "教育",
            keywords: [
                "学位供给", "课后托管", "校车接送", "午休课桌", "托育机构", "普惠园", "学区划分", "校门口", "家长接送",
                "职业教育", "教师编制", "双减政策", "劳动教育", "科创教育", "入学登记", "营养午餐",
            ],
            phrases: [
                "适龄儿童越来越多", "孩子放学后无人照看", "学校周边秩序需要改善", "家长反映负担较重", "办学条件跟不上需求",
                "优质教育资源分布不均", "学生在校时间安排不合理", "新建小区配套学校滞后",
            ],
            remedies: ["新建和扩建公办学校", "丰富课后服务内容", "加强学校周边管理", "推动教育资源均衡", "减轻学生课业负担"],
            districtOrgans: ["区教育局", "区教育发展研究院"], municipalOrgans: ["市教育局", "市教育研究院"]),
        Domain(
            code: "health", name: "医疗卫生",
            keywords: [
                "家庭医生", "社康中心", "预约挂号", "慢病管理", "疫苗接种", "急救站", "医保报销", "专科门诊", "心理咨询",
                "健康体检", "中医馆", "发热门诊", "药品配送", "康复治疗", "母婴室", "病床周转",
            ],
            phrases: [
                "看病排队时间太长", "附近缺少就医的地方", "居民就医负担较重", "医疗资源分布不均衡", "老年患者行动不便",
                "基层医疗服务能力不足", "夜间就医很不方便", "群众健康意识有待提高",
            ],
            remedies: ["增加基层医生数量", "延长诊疗服务时间", "推进分级诊疗", "优化就医流程", "开展健康宣传教育"],
            districtOrgans: ["区卫生健康局", "区疾病预防控制中心"], municipalOrgans: ["市卫生健康委员会", "市医疗保障局"]),
        Domain(
            code: "elderly-care", name: "养老服务",
            keywords: [
                "长者饭堂", "助餐点", "居家养老", "日间照料", "颐康中心", "适老化", "助浴服务", "护理床位", "独居老人",
                "老年大学", "养老驿站", "失能照护", "紧急呼叫", "上门服务", "银发志愿", "喘息服务",
            ],
            phrases: [
                "辖区老年人口比例逐年上升", "不少长者行动不便", "子女白天上班无人照顾老人", "现有养老设施不够用",
                "长者吃饭成了难题", "养老服务收费偏高", "护理人员流动性大", "空巢家庭越来越多",
            ],
            remedies: ["扩大养老服务覆盖面", "对困难长者给予补贴", "培养专业护理队伍", "引入社会力量参与养老", "推动医养结合"],
            districtOrgans: ["区民政局", "区老龄工作委员会办公室"], municipalOrgans: ["市民政局", "市老龄工作委员会"]),
        Domain(
            code: "urban-renewal", name: "城市更新",
            keywords: [
                "加装电梯", "微改造", "城中村", "老旧小区", "三线下地", "外立面", "危旧房", "违章建筑", "骑楼修缮",
                "排水管网", "物业管理", "雨污分流", "历史建筑", "楼道照明", "屋面防水", "旧厂房",
            ],
            phrases: [
                "房屋年久失修", "居民盼望改善居住条件", "楼房没有电梯上下楼很困难", "下雨天路面经常水浸", "空中线缆杂乱无章",
                "墙面脱落存在隐患", "改造进度比较缓慢", "小区基础设施老化",
            ],
            remedies: ["加快推进改造工程", "统筹安排改造资金", "充分听取居民意见", "明确改造后的管养责任", "保留街区历史风貌"],
            districtOrgans: ["区住房和城乡建设局", "区城市更新局"], municipalOrgans: ["市住房和城乡建设局", "市规划和自然资源局"]),
        Domain(
            code: "environment", name: "生态环境",
            keywords: [
                "垃圾分类", "压缩站", "河涌整治", "黑臭水体", "餐饮油烟", "施工扬尘", "噪声扰民", "绿化带", "口袋公园",
                "湿地公园", "蚊虫滋生", "污水直排", "光污染", "生态岸线", "废品回收", "古树名木",
            ],
            phrases: [
                "周边空气质量明显下降", "异味很大影响居民休息", "夏天气味更加难闻", "居民环保意识有待提高", "环境卫生状况较差",
                "晚上声音吵得睡不着", "树木长期没有修剪", "河水颜色发黑",
            ],
            remedies: ["加强环境执法检查", "开展专项整治", "增加绿化面积", "完善环卫设施配置", "建立长效管护机制"],
            districtOrgans: ["区生态环境分局", "区城市管理和综合执法局"], municipalOrgans: ["市生态环境局", "市水务局"]),
        Domain(
            code: "public-safety", name: "公共安全",
            keywords: [
                "消防通道", "飞线充电", "充电桩", "治安巡逻", "视频监控", "高空抛物", "燃气安全", "防溺水", "防汛",
                "应急避难", "反诈宣传", "食品安全", "灭火器", "群防群治", "电瓶入户", "微型消防站",
            ],
            phrases: [
                "存在较大风险", "一旦发生事故后果严重", "夜间出行让人担心", "居民安全感不强", "曾经发生过险情",
                "隐患排查不够彻底", "群众自我防范意识薄弱", "台风季节更加危险",
            ],
            remedies: ["开展隐患排查整治", "加强日常巡查检查", "完善应急处置预案", "加大宣传教育力度", "落实安全管理责任"],
            districtOrgans: ["区应急管理局", "区公安分局"], municipalOrgans: ["市公安局", "市消防救援支队"]),
        Domain(
            code: "economy", name: "经济发展",
            keywords: [
                "营商环境", "中小企业", "个体户", "夜间经济", "商圈", "创业孵化", "人才公寓", "就业招聘", "老字号",
                "步行街", "农贸市场", "数字经济", "会展经济", "融资担保", "直播电商", "专业市场",
            ],
            phrases: [
                "经营成本持续上升", "不少商户生意难做", "年轻人找工作不容易", "企业反映办事门槛高", "消费活力有待激发",
                "产业配套不够完善", "租金压力比较大", "市场主体信心不足",
            ],
            remedies: ["出台扶持政策", "降低经营成本", "搭建供需对接平台", "优化产业布局", "加大招商引资力度"],
            districtOrgans: ["区商务局", "区工业和信息化局"], municipalOrgans: ["市商务局", "市市场监督管理局"]),
        Domain(
            code: "government-services", name: "政务服务",
            keywords: [
                "一网通办", "政务大厅", "自助终端", "证照办理", "社保业务", "户籍办理", "居住证", "公积金", "不动产",
                "穗好办", "粤省事", "热线工单", "帮办代办", "电子证照", "跨城通办", "容缺受理",
            ],
            phrases: [
                "办事要跑好几趟", "材料要求反复变化", "网上系统操作复杂", "窗口排队时间过长", "群众对办事流程不熟悉",
                "部门之间信息不互通", "老年人不会使用手机办理", "咨询电话经常占线",
            ],
            remedies: ["精简办事材料", "推行就近办理", "设置帮办专员", "打通部门数据壁垒", "优化线上办事体验"],
            districtOrgans: ["区政务服务数据管理局", "区人力资源和社会保障局"], municipalOrgans: ["市政务服务和数据管理局", "市人力资源和社会保障局"]),
        Domain(
            code: "culture", name: "文化体育",
            keywords: [
                "图书馆", "文化站", "非遗传承", "粤剧", "龙舟", "全民健身", "健身步道", "篮球场", "游泳池", "广场舞",
                "社区书屋", "文艺演出", "博物馆", "岭南文化", "体育公园", "醒狮",
            ],
            phrases: [
                "周末想运动找不到场地", "文化活动形式比较单一", "年轻人参与热情不高", "场馆开放时间较短", "传统技艺后继乏人",
                "活动经费比较紧张", "居民精神文化需求增长", "设施使用率不高",
            ],
            remedies: ["增加公共文体设施", "延长场馆开放时间", "举办特色文化活动", "扶持群众文艺团队", "推动体教融合"],
            districtOrgans: ["区文化广电旅游体育局", "区文化馆"], municipalOrgans: ["市文化广电旅游局", "市体育局"]),
    ]

    static func domainIndex(_ code: String) -> Int { domains.firstIndex { $0.code == code }! }

    /// Haizhu's 18 streets (default-rules.json).
    static let streets = [
        "赤岗", "新港", "昌岗", "江南中", "滨江", "素社", "海幢", "南华西", "龙凤", "沙园", "南石头", "凤阳", "瑞宝", "江海",
        "琶洲", "南洲", "华洲", "官洲",
    ]
    /// The offices of every street and the domain each owns first.
    static let streetOffices: [(name: String, domain: String)] = [
        ("街道办事处", "government-services"), ("街城市管理办公室", "urban-renewal"), ("街社区卫生服务中心", "health"),
        ("街综治中心", "public-safety"), ("街家庭综合服务中心", "elderly-care"), ("街文化体育站", "culture"),
    ]
    static let sections = [
        "办公室", "综合科", "规划科", "政策法规科", "监督检查科", "项目管理科", "服务中心", "执法大队", "第一所", "第二所",
        "第三所", "管理站", "指导中心", "事务中心", "信息中心", "计划财务科", "宣传科", "审批科",
    ]
    static let communities = [
        "港海", "联星", "敦和", "石岗", "泰宁", "晓港", "怡乐", "紫来", "宝岗", "红卫", "鹭江", "金沙", "东风", "前进",
        "万松", "土华", "赤沙", "北山", "礼和", "草芳", "荔福", "同福",
    ]
    static let wholeDistrict = ["辖区内", "我区", "区内部分片区", "全区范围内", "中心城区"]
    static let roads = [
        "宝岗大道", "工业大道", "江南西", "敦和", "东晓", "石榴岗", "艺苑", "晓港西", "南田", "同福中", "洪德", "南华中",
        "瑞康", "革新", "广纸", "客村", "新滘中", "仑头", "黄埔村", "叠景", "逸景", "燕子岗", "泉塘", "紫龙", "宝业",
        "江燕", "怡乐", "前进", "海珠涌", "马涌", "宝华", "石溪", "大塘", "上涌", "细岗", "南箕", "基立", "下渡", "新洲",
        "龙潭",
    ]
    static let roadKinds = ["路", "街", "西路", "东路", "一巷", "二巷", "直街", "横街"]
    /// What residents point at (none contains a unit keyword).
    static let objects = [
        "楼道", "电梯", "地下停车场", "菜市场", "小区广场", "人行道", "江边步道", "儿童游乐场", "公共厕所", "绿地", "排水渠",
        "二次供水设施", "燃气管道", "自行车道", "社区食堂", "便民服务点", "井盖", "路灯", "红绿灯", "夜市", "骑楼商铺", "码头",
        "出租屋", "快递驿站", "树池", "宣传栏", "休闲座椅", "垃圾桶", "消防栓", "化粪池", "围墙", "临时摊档", "停车场出入口",
        "河涌护栏", "健身器材", "凉亭", "单车停放点", "地下通道", "报刊亭", "变电箱", "楼梯扶手", "小区大门", "消防楼梯", "地下室",
        "天台", "自行车棚", "雨水篦子", "配电房", "门卫室", "水表房", "信报箱", "晾衣架", "花基", "台阶", "无障碍坡道", "公共走廊",
        "岗亭", "隔离栏", "灯杆", "防护网",
    ]
    static let complaints = [
        "居民多次反映没有解决", "晚上尤其严重", "老人和小孩受影响最大", "已经持续两年多", "周末人流大时更明显", "物业推说不归他们管",
        "设施老化损坏无人维修", "相关标识不清楚", "早晚高峰拥堵严重", "下雨天情况更糟", "管理人员经常不在岗", "收费标准不公开",
        "附近居民意见很大", "存在明显安全隐患", "排队时间超过半小时", "距离太远走路不方便", "开放时间太短", "数量远远不够",
        "位置设置不合理", "投诉电话打不通", "维修申请迟迟没有回复", "有些住户不配合", "资金来源没有着落", "审批流程复杂耗时长",
        "信息公开不及时", "缺少专人负责", "外来车辆随意停放", "夜里灯光昏暗", "地面坑洼不平", "气味难闻影响生活", "噪音超过深夜十点",
        "旁边就是学校", "残疾人出行困难", "年轻人上班时间用不上", "线上预约系统难用", "多次整改后又反弹", "清晨五点就开始施工",
        "经常有人在此聚集", "连续三年被列为整改对象", "路面裂缝越来越宽", "台阶太高推车上不去", "指示牌被树枝挡住", "扶手松动摇晃",
        "排队的人挤到马路上", "墙角长满青苔", "有人私自加装铁门", "周边商户把货物堆在门口", "夜间照明只开一半", "维修费用分摊谈不拢",
        "业主群里天天有人抱怨", "租户频繁更换无人管", "孩子们只能在车道上玩", "外卖车辆横冲直撞", "污水顺着墙根流下来",
        "雨棚破了一直没换", "门禁坏了半年", "车辆乱按喇叭", "旧家具堆了好几个月", "电线裸露在外面", "地砖松动一踩就溅水",
        "坡道太陡轮椅上不去", "只有一个出入口", "上下班时段挤得水泄不通", "广告牌摇摇欲坠", "铁皮围挡占了半条路", "管道锈蚀漏水",
        "窗户玻璃碎了没人补", "白天也看不清路", "摊贩收摊后满地狼藉",
    ]
    static let keywordClauses = [
        Pattern("", "方面的问题比较突出"), Pattern("", "建设明显滞后"), Pattern("", "管理不到位"), Pattern("", "存在不少短板"),
        Pattern("", "长期得不到改善"), Pattern("", "不能满足需求"), Pattern("围绕", "的投诉逐年增多"), Pattern("", "的责任边界不清"),
    ]
    static let keywordRemedies = [
        Pattern("加快完善", ""), Pattern("把", "纳入年度民生实事"), Pattern("对", "开展专项调研"), Pattern("明确", "的牵头单位"),
        Pattern("增加", "方面的投入"), Pattern("定期评估", "的实施效果"),
    ]
    static let coUnitClause = Pattern("同时", "也需要配合解决")
    static let coUnitRemedy = Pattern("会同有关单位统筹推进", "")
    /// Filled with the street (with 街, or nothing) and the first keyword.
    static let titles = [
        Pattern("关于加强", "", "管理的建议"), Pattern("关于解决", "", "问题的提案"), Pattern("", "", "问题亟待解决"),
        Pattern("关于改善", "", "的建议"), Pattern("推动", "", "提质增效的建议"),
    ]
    static let openers = ["近年来，", "据居民反映，", "经实地走访发现，", "在调研中了解到，", "随着城市发展，", "不少群众来信反映，"]
    /// Filled with the two causes.
    static let reasonForms = [
        Pattern("主要原因：一是", "；二是", "。"), Pattern("究其原因，", "，", "。"), Pattern("原因在于", "，加上", "。"),
        Pattern("", "，", "，是问题长期存在的根源。"),
    ]
    static let causes = [
        "部门之间协调不够", "资金投入相对不足", "日常管理存在空白", "居民参与的渠道有限", "规划时没有充分考虑实际需求",
        "政策落地存在最后一公里问题", "基层人手紧张", "历史遗留问题较多",
    ]
    static let consequences = ["给群众生活带来不便", "群众意见较大", "影响辖区形象", "问题反映多年仍未解决", "居民满意度不高", "与群众期待还有差距"]
    static let generalRemedies = ["高度重视并尽快研究解决", "加强部门协调联动", "建立长效工作机制", "定期向社会公开工作进展", "广泛听取群众意见"]
    static let ordinals = ["一是", "二是", "三是", "四是", "五是", "六是", "七是", "八是"]
    static let remarks = ["恳请予以重视。", "望早日落实。", "以上建议供参考。", "希望尽快回应群众关切。"]
}
