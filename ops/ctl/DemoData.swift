// What `proposals-ctl seed-demo` loads: a realistic Haizhu district (海珠区), after the pilot
// described in ../shared/seeds/002_*.txt. Kept apart from the command so the data reads as data.

struct DemoUnit {
    var code: String
    var name: String
    var kind: String
    var domains: [String]
    var keywords: [String]
}

enum HaizhuDemo {
    /// Haizhu's eighteen streets (街道).
    static let streets = [
        "赤岗", "新港", "昌岗", "江南中", "滨江", "素社", "海幢", "南华西", "龙凤",
        "沙园", "南石头", "凤阳", "瑞宝", "江海", "琶洲", "南洲", "华洲", "官洲",
    ]

    /// The streets' names as register codes (`studio-shayuan`).
    static let streetCodes = [
        "赤岗": "chigang", "新港": "xingang", "昌岗": "changgang", "江南中": "jiangnanzhong", "滨江": "binjiang", "素社": "sushe",
        "海幢": "haichuang", "南华西": "nanhuaxi", "龙凤": "longfeng", "沙园": "shayuan", "南石头": "nanshitou", "凤阳": "fengyang",
        "瑞宝": "ruibao", "江海": "jianghai", "琶洲": "pazhou", "南洲": "nanzhou", "华洲": "huazhou", "官洲": "guanzhou",
    ]

    /// The register: a studio for every street, and members (the demo's 陈委员 is `m-chen`, of 沙园街's studio).
    static var registerCSV: String {
        var lines = ["编号,类型,姓名/名称,界别,专委会,所属工作室,街道,状态"]
        for street in streets { lines.append("studio-\(streetCodes[street] ?? street),工作室,\(street)街委员工作室,,,,\(street)街,在册") }
        let members = [
            ("m-chen", "陈委员", "经济界", "经济委", "shayuan"), ("m-0002", "李晓红", "教育界", "教科文卫体委", "nanhuaxi"),
            ("m-0003", "王建国", "医药卫生界", "教科文卫体委", "binjiang"), ("m-0004", "张丽华", "社会福利和社会保障界", "社会法制民族宗教委", "changgang"),
            ("m-0005", "刘志强", "工商联界", "经济委", "pazhou"), ("m-0006", "黄美玲", "妇联界", "社会法制民族宗教委", "sushe"),
            ("m-0007", "周文斌", "农业和农村界", "农业和农村委", "guanzhou"), ("m-0008", "吴海燕", "港澳台侨界", "港澳台侨外事委", "haichuang"),
        ]
        for (code, name, sector, committee, studio) in members { lines.append("\(code),委员,\(name),\(sector),\(committee),studio-\(studio),,在册") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The six pilot topics of the Haizhu opinions (附件2), opened as themed calls (选题征集).
    static let pilotTopics = [
        "推动沙园七街“三线”下地",
        "持续推进“一网通办”，提升政务服务全流程网上办理率",
        "尽快开通琶洲港澳客运口岸",
        "历史建筑活化利用",
        "以“一号工程”推动广州塔琶洲商圈建成国际消费中心城市",
        "推动珠江沿岸高质量发展",
    ]

    /// Handling units (承办单位) with the domains and keywords their suggestions match on.
    static let units = [
        DemoUnit(
            code: "emergency", name: "海珠区应急管理局", kind: "district-department", domains: ["public-safety"], keywords: ["消防", "火灾", "电动自行车", "充电"]),
        DemoUnit(
            code: "civil-affairs", name: "海珠区民政局", kind: "district-department", domains: ["elderly-care"], keywords: ["长者饭堂", "养老", "长者", "助餐"]),
        DemoUnit(
            code: "housing", name: "海珠区住房和城乡建设局", kind: "district-department", domains: ["urban-renewal"], keywords: ["加装电梯", "老旧小区", "三线下地", "架空线"]),
        DemoUnit(code: "transport", name: "海珠区交通运输局", kind: "district-department", domains: ["transport"], keywords: ["公交", "交通", "停车", "道路"]),
        DemoUnit(code: "education", name: "海珠区教育局", kind: "district-department", domains: ["education"], keywords: ["学校", "校门", "学位"]),
        DemoUnit(code: "health", name: "海珠区卫生健康局", kind: "district-department", domains: ["health"], keywords: ["医院", "社区卫生", "诊所"]),
        DemoUnit(code: "environment", name: "广州市生态环境局海珠分局", kind: "district-department", domains: ["environment"], keywords: ["噪音", "污水", "垃圾分类"]),
        DemoUnit(
            code: "government-services", name: "海珠区政务服务数据管理局", kind: "district-department", domains: ["government-services"],
            keywords: ["一网通办", "政务服务", "办事"]),
        DemoUnit(code: "culture", name: "海珠区文化广电旅游体育局", kind: "district-department", domains: ["culture"], keywords: ["历史建筑", "图书馆", "文化"]),
        DemoUnit(code: "commerce", name: "海珠区商务局", kind: "district-department", domains: ["economy"], keywords: ["商圈", "消费", "人才公寓"]),
        DemoUnit(code: "shayuan", name: "海珠区沙园街道办事处", kind: "street-office", domains: [], keywords: ["沙园"]),
        DemoUnit(code: "nanhuaxi", name: "海珠区南华西街道办事处", kind: "street-office", domains: [], keywords: ["南华西"]),
        DemoUnit(code: "metro", name: "广州地铁集团有限公司", kind: "municipal-department", domains: ["transport"], keywords: ["地铁", "无障碍电梯", "地铁站"]),
    ]

    /// The 2026 calendar as the State Council's General Office announced it in 2025 (部分节假日安排);
    /// offices check it against the notice before relying on it.
    static let calendar2026: [(date: String, kind: String, name: String)] = [
        ("2026-01-01", "holiday", "元旦"),
        ("2026-01-02", "holiday", "元旦"),
        ("2026-01-03", "holiday", "元旦"),
        ("2026-01-04", "working-day", "元旦调休"),
        ("2026-02-14", "working-day", "春节调休"),
        ("2026-02-15", "holiday", "春节"),
        ("2026-02-16", "holiday", "春节"),
        ("2026-02-17", "holiday", "春节"),
        ("2026-02-18", "holiday", "春节"),
        ("2026-02-19", "holiday", "春节"),
        ("2026-02-20", "holiday", "春节"),
        ("2026-02-21", "holiday", "春节"),
        ("2026-02-22", "holiday", "春节"),
        ("2026-02-23", "holiday", "春节"),
        ("2026-02-28", "working-day", "春节调休"),
        ("2026-04-04", "holiday", "清明节"),
        ("2026-04-05", "holiday", "清明节"),
        ("2026-04-06", "holiday", "清明节"),
        ("2026-05-01", "holiday", "劳动节"),
        ("2026-05-02", "holiday", "劳动节"),
        ("2026-05-03", "holiday", "劳动节"),
        ("2026-05-04", "holiday", "劳动节"),
        ("2026-05-05", "holiday", "劳动节"),
        ("2026-05-09", "working-day", "劳动节调休"),
        ("2026-06-19", "holiday", "端午节"),
        ("2026-06-20", "holiday", "端午节"),
        ("2026-06-21", "holiday", "端午节"),
        ("2026-09-20", "working-day", "国庆节调休"),
        ("2026-09-25", "holiday", "中秋节"),
        ("2026-09-26", "holiday", "中秋节"),
        ("2026-09-27", "holiday", "中秋节"),
        ("2026-10-01", "holiday", "国庆节"),
        ("2026-10-02", "holiday", "国庆节"),
        ("2026-10-03", "holiday", "国庆节"),
        ("2026-10-04", "holiday", "国庆节"),
        ("2026-10-05", "holiday", "国庆节"),
        ("2026-10-06", "holiday", "国庆节"),
        ("2026-10-07", "holiday", "国庆节"),
        ("2026-10-10", "working-day", "国庆节调休"),
    ]

    /// Residents' clues the local demo's walk-through refers to (the two e-bike clues group).
    static let featuredClues: [(title: String, situation: String, suggestion: String)] = [
        ("电动自行车楼道充电安全隐患", "老旧小区居民在楼道内为电动自行车充电，存在火灾隐患", "在小区内建设集中充电桩并加强巡查"),
        ("电动自行车楼道充电隐患", "老旧小区居民在楼道里为电动自行车充电，有火灾隐患", "建议在小区内建设集中充电桩，加强巡查"),
        ("地铁站出口无障碍设施不足", "地铁8号线沙园站出口没有无障碍电梯，轮椅使用者出行不便", "建议地铁集团加装无障碍电梯"),
        ("琶洲人才公寓配套不足", "琶洲人工智能与数字经济试验区人才公寓周边缺少商业和交通配套", "增加公交线路并引入便民商业"),
        ("老旧小区加装电梯协调难", "部分老旧小区加装电梯因低层住户意见不一而停滞", "建立街道协调机制并公开补贴标准"),
    ]

    /// Concerns residents raise street by street; `{街}` is the street. `pilot` names the themed
    /// call (an index into `pilotTopics`) a clue answers.
    static let concerns: [(title: String, situation: String, suggestion: String, pilot: Int?)] = [
        ("{街}街电动自行车充电难", "{街}街老旧小区缺少集中充电点，居民只能在楼道飞线充电，存在火灾隐患", "在小区空地建设集中充电桩，加强消防巡查", nil),
        ("{街}街长者饭堂就餐排队时间长", "{街}街社区长者饭堂午餐时段排队超过半小时，行动不便的老人等候辛苦", "增加供餐窗口和送餐上门服务，推行线上预约", nil),
        ("{街}街老旧小区加装电梯推进慢", "{街}街多个老旧小区加装电梯因低层住户意见不一而停滞", "建立街道协调机制，公开补贴标准和成功案例", nil),
        ("{街}街架空线杂乱", "{街}街电力、通信线路私拉乱接，雨天有安全隐患，影响街容", "推动三线下地，统一规划管线", 0),
        ("{街}街政务服务网上办理不便", "{街}街居民反映部分事项仍需多次跑窗口，网上办理入口不清楚", "梳理高频事项实现全流程网上办理，在社区设置帮办点", 1),
        ("{街}街历史建筑闲置", "{街}街辖内有历史建筑长期闲置，缺乏维护，存在破损", "引入社会力量活化利用，设立公共文化空间", 3),
        ("{街}街珠江沿岸步道不连通", "{街}街段珠江沿岸步道中断，市民散步需绕行车道", "打通沿江步道，增设照明和休息设施", 5),
        ("{街}街学校门口上下学拥堵", "{街}街小学门口上下学时段车辆乱停，学生过马路不安全", "设置临时停车接送区，高峰期安排交警和志愿者疏导", nil),
        ("{街}街夜间施工噪音扰民", "{街}街工地夜间施工噪音大，附近居民休息受影响", "严格夜间施工审批，加强噪音监测和执法", nil),
        ("{街}街垃圾分类投放点设置不合理", "{街}街部分小区垃圾分类投放点离住户远，定时投放时间不便上班族", "优化投放点布局，延长投放时段并增设误时投放点", nil),
        ("{街}街社区卫生服务中心预约难", "{街}街社区卫生服务中心家庭医生号源紧张，老人预约困难", "增加家庭医生团队，开通电话预约和上门服务", nil),
        ("{街}街公交线路覆盖不足", "{街}街新建小区周边公交线路少，居民到地铁站不便", "开通社区微循环公交接驳地铁站", nil),
        ("{街}街商圈停车难", "{街}街商圈周边停车位不足，车辆占道停放影响通行", "挖潜错时共享停车位，建设立体停车场", 4),
        ("{街}街背街小巷路灯损坏", "{街}街多条背街小巷路灯损坏，夜间出行不安全", "排查维修路灯，建立报修快速响应机制", nil),
        ("{街}街雨季道路积水", "{街}街部分路段每逢暴雨积水严重，影响出行", "改造排水管网，增设积水点警示和抽排设备", nil),
    ]
}
