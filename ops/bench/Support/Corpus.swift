import Foundation

/// A generated stream of clues shaped like a district's: many issues, each voiced by one or a
/// few residents and some by dozens (the Haizhu pilot had 59 clues on e-bike safety), each clue
/// 80–160 characters of title, situation and suggestions in the words residents use. Voices of
/// one issue differ as residents' do: clauses dropped, reordered, a remark of their own added.
/// Unrelated issues share stock phrases (小区, 居民, 建议, 加强) without being the same issue.
public struct Corpus: Sequence {
    public let count: Int
    public let seed: UInt64
    /// The chance that a clue raises a new issue rather than voicing an earlier one.
    public let newIssueRate: Double

    public init(count: Int, seed: UInt64, newIssueRate: Double = 0.4) {
        self.count = count
        self.seed = seed
        self.newIssueRate = newIssueRate
    }

    public struct Clue: Sendable {
        public var issue: Int
        public var title: String
        public var situation: String
        public var suggestions: String
        public var text: String { title + "\n" + situation + "\n" + suggestions }
    }

    public func makeIterator() -> Iterator { Iterator(corpus: self) }

    public struct Iterator: IteratorProtocol {
        let corpus: Corpus
        var produced = 0
        var random: SplitMix64
        /// Issues raised so far, as the indexes of their parts; voices pick from earlier clues'
        /// issues, so popular issues get more popular (as in the pilot).
        var issues: [Issue] = []
        var issueOfClue: [Int32] = []

        init(corpus: Corpus) {
            self.corpus = corpus
            random = SplitMix64(seed: corpus.seed)
        }

        public mutating func next() -> Clue? {
            guard produced < corpus.count else { return nil }
            produced += 1
            let issueIndex: Int
            if issues.isEmpty || random.unit() < corpus.newIssueRate {
                issues.append(Issue(random: &random))
                issueIndex = issues.count - 1
            } else {
                issueIndex = Int(issueOfClue[random.below(issueOfClue.count)])
            }
            issueOfClue.append(Int32(issueIndex))
            return issues[issueIndex].voice(issue: issueIndex, random: &random)
        }
    }

    struct Issue {
        var place: Int, community: Int, facility: Int, aspect: Int, road: Int, roadKind: Int, building: Int
        var problems: [Int], consequence: Int, suggestions: [Int]
        /// What this resident saw: who, doing what, when (a clause of the issue's own).
        var actor: Int, action: Int, time: Int

        init(random: inout SplitMix64) {
            actor = random.below(Vocabulary.actors.count)
            action = random.below(Vocabulary.actions.count)
            time = random.below(Vocabulary.times.count)
            place = random.below(Vocabulary.places.count)
            community = random.below(Vocabulary.communities.count)
            facility = random.below(Vocabulary.facilities.count)
            aspect = random.below(Vocabulary.aspects.count)
            road = random.below(Vocabulary.roadNames.count)
            roadKind = random.below(Vocabulary.roadKinds.count)
            building = 1 + random.below(120)
            problems = random.distinct(3, below: Vocabulary.problems.count)
            consequence = random.below(Vocabulary.consequences.count)
            suggestions = random.distinct(3, below: Vocabulary.suggestions.count)
        }

        func voice(issue: Int, random: inout SplitMix64) -> Clue {
            let subject = Vocabulary.facilities[facility] + Vocabulary.aspects[aspect]
            let road = Vocabulary.roadNames[self.road] + Vocabulary.roadKinds[roadKind]
            let where_ = Vocabulary.places[place] + "街" + Vocabulary.communities[community] + "社区"
            var problems = self.problems.map { Vocabulary.problems[$0] }
            var suggestions = self.suggestions.map { Vocabulary.suggestions[$0] }
            // A resident leaves out a clause or tells it in another order.
            if random.below(3) == 0 { problems.remove(at: random.below(problems.count)) }
            if random.below(3) == 0 { suggestions.remove(at: random.below(suggestions.count)) }
            if random.below(2) == 0 { problems.reverse() }
            let seen = Vocabulary.times[time] + Vocabulary.actors[actor] + Vocabulary.actions[action]
            var situation =
                where_ + road + "\(building)号附近" + subject + "，" + seen + "，" + problems.joined(separator: "，") + "，"
                + Vocabulary.consequences[consequence] + "。"
            if random.below(2) == 0 { situation += Vocabulary.remarks[random.below(Vocabulary.remarks.count)] + "。" }
            let title = random.below(2) == 0 ? "关于" + road + subject + "的建议" : where_ + subject + "问题"
            return Clue(issue: issue, title: title, situation: situation, suggestions: "建议" + suggestions.joined(separator: "，") + "。")
        }
    }
}

enum Vocabulary {
    static let places = ["赤岗", "新港", "昌岗", "江南中", "滨江", "素社", "海幢", "南华西", "龙凤", "沙园", "南石头", "凤阳", "瑞宝", "江海", "琶洲", "南洲", "华洲", "官洲"]
    static let communities = [
        "港海", "联星", "敦和", "石岗", "泰宁", "晓港", "怡乐", "紫来", "宝岗", "新风", "红卫", "鹭江", "杨湾", "金沙", "东风", "前进",
        "万松", "龙潭", "土华", "赤沙", "北山", "黄埔", "大干围", "瑞宝南", "礼和", "侨港", "草芳", "荔福", "工业", "同福",
    ]
    static let facilities = [
        "楼道", "电梯", "地下停车场", "菜市场", "湿地公园", "学校门口", "地铁口", "公交站台", "河涌", "小区广场", "长者饭堂",
        "社区卫生服务站", "街道图书馆", "文化站", "健身路径", "农贸市场", "垃圾压缩站", "快递驿站", "电动车充电桩", "人行道",
        "骑楼", "城中村巷道", "江边步道", "儿童游乐场", "公共厕所", "社区养老驿站", "幼儿园周边", "农贸市场门口", "过街天桥",
        "绿化带", "排水渠", "老旧小区外墙", "二次供水设施", "燃气管道", "消防通道", "自行车道", "篮球场", "社区食堂",
        "政务服务中心", "出租屋", "便民服务点", "井盖", "路灯", "斑马线", "红绿灯", "停车咪表", "夜市", "骑楼商铺", "旧厂房", "码头",
    ]
    static let aspects = [
        "照明不足", "噪音扰民", "卫生脏乱", "设施损坏", "排队时间长", "收费不合理", "乱停乱放", "存在安全隐患", "开放时间短",
        "缺少无障碍设施", "雨后积水", "占道经营", "管理缺位", "数量不足", "异味严重", "高峰拥堵",
    ]
    static let roadNames = [
        "江南大道", "工业大道", "宝岗大道", "昌岗中", "新港西", "新港中", "滨江东", "滨江中", "南洲", "东晓", "石榴岗", "赤岗北",
        "艺苑", "晓港西", "前进", "南田", "同福中", "同福东", "洪德", "南华中", "瑞康", "革新", "广纸", "沙园", "敦和", "客村",
        "琶洲大道", "新滘中", "龙潭", "土华", "官洲", "仑头", "黄埔村", "叠景", "华洲", "逸景", "燕子岗", "泉塘", "怡乐", "紫龙",
    ]
    static let roadKinds = ["路", "街", "大街", "西路", "东路", "一巷", "二巷", "三巷", "直街", "横街"]
    static let problems = [
        "居民多次反映没有解决", "晚上尤其严重", "老人和小孩受影响最大", "已经持续两年多", "周末人流大时更明显", "物业推说不归他们管",
        "设施老化损坏无人维修", "相关标识不清楚", "早晚高峰拥堵严重", "下雨天情况更糟", "管理人员经常不在岗", "收费标准不公开",
        "附近居民意见很大", "存在明显安全隐患", "曾经发生过险情", "排队时间超过半小时", "距离太远走路不方便", "开放时间太短",
        "数量远远不够", "位置设置不合理", "投诉电话打不通", "维修申请迟迟没有回复", "有些住户不配合", "资金来源没有着落",
        "审批流程复杂耗时长", "信息公开不及时", "缺少专人负责", "外来车辆随意停放", "夜里灯光昏暗", "地面坑洼不平",
        "气味难闻影响生活", "噪音超过深夜十点", "旁边就是学校", "残疾人出行困难", "年轻人上班时间用不上", "线上预约系统难用",
    ]
    static let consequences = [
        "给居民生活带来很大不便", "存在较大的安全风险", "影响社区形象", "引发邻里矛盾", "群众满意度不高", "影响附近商户经营",
        "耽误上班上学", "容易引发火灾", "老年人摔倒受伤", "造成资源浪费", "影响身体健康", "多次被媒体报道",
    ]
    static let suggestions = [
        "加强日常巡查", "增设相关设施", "明确管理责任单位", "公开收费和服务标准", "简化审批流程", "引入社会资本参与",
        "延长开放时间", "推行线上预约", "设置临时停放区域", "加大财政补贴力度", "建立街道协调机制", "定期清理维护",
        "增加工作人员", "组织居民议事协商", "开展专项整治行动", "完善监督投诉渠道", "改造升级现有设施", "纳入年度民生实事",
        "与相邻社区共享资源", "安装监控和照明", "设置醒目提示标识", "错峰安排使用时间", "委托专业机构管理", "加强宣传引导",
    ]
    static let actors = [
        "外卖骑手", "早餐店老板", "物业保安", "环卫工人", "送货司机", "装修工人", "网约车司机", "摆摊小贩", "晨练的老人", "放学的学生",
        "遛狗的住户", "施工队", "快递员", "出租车", "共享单车运维人员", "隔壁烧烤店", "广场舞队伍", "收废品的三轮车", "搬家公司", "补习班家长",
    ]
    static let actions = [
        "把电动车停在盲道上", "把桌椅摆到人行道", "在路口掉头", "把垃圾堆在墙角", "占用消防通道卸货", "深夜开着音响", "随意倾倒泥浆",
        "在树下晾晒被子", "把车停在斑马线上", "堵住单元门口", "在绿化带里种菜", "把纸箱堆满楼梯间", "拉电线飞线充电", "逆行抢道",
        "在河边钓鱼乱扔垃圾", "用高压水枪冲洗路面", "把建筑废料倒进排水渠", "长时间鸣笛", "在楼下聚集喧哗", "把共享单车推进小区",
    ]
    static let times = ["每天早上七点多", "傍晚下班时", "凌晨一两点", "周末上午", "中午饭点", "下雨天", "节假日", "晚上九点以后", "学校开学后", "最近半年"]
    static let remarks = ["希望尽快解决", "居民反映强烈", "请有关部门重视", "盼早日落实", "我们愿意配合", "谢谢政协委员"]
}
