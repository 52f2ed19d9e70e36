/// The words `Redaction` looks for, apart from its code. All are in folded form: Latin letters lower
/// case, full-width forms as ASCII (see `Redaction.fold`).
extension Redaction {
    /// A set of scalars that is cheap to test, sorted values and a binary search: `Set<Unicode.Scalar>`
    /// hashes on each test, and some of these are tested for every character of every public text.
    struct ScalarSet: Sendable, ExpressibleByArrayLiteral {
        let values: [UInt32]
        /// One bit for each value's low six bits: most scalars fail this test and go no further.
        let filter: UInt64

        init(_ scalars: some Sequence<Unicode.Scalar>) {
            values = Set(scalars.map(\.value)).sorted()
            filter = values.reduce(0) { $0 | (1 << ($1 & 63)) }
        }

        init(arrayLiteral scalars: Unicode.Scalar...) {
            self.init(scalars)
        }

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            let value = scalar.value
            guard filter & (1 << (value & 63)) != 0 else { return false }
            var low = 0
            var high = values.count
            while low < high {
                let middle = (low + high) / 2
                if values[middle] < value { low = middle + 1 } else { high = middle }
            }
            return low < values.count && values[low] == value
        }
    }

    static func scalars(_ words: [String]) -> [[Unicode.Scalar]] {
        words.map { Array($0.unicodeScalars) }
    }

    // MARK: numbers

    /// Words after which a short (7–8 digit) number is a phone number.
    static let phoneWords = scalars(["电话", "手机", "热线", "座机", "联系", "号码", "致电", "拨打", "tel", "call", "phone", "mobile"])
    /// Words after which a long number is a bank card or account, whatever its check digit says.
    static let cardWords = scalars(["卡号", "卡号码", "银行卡", "信用卡", "储蓄卡", "借记卡", "账号", "帐号", "账户", "帐户", "存折"])
    static let idCardWords = scalars(["身份证", "证件", "证号"])
    /// Latin words a phone number is often glued to (TEL13812345678, wx13812345678); any other letters
    /// make a code of the number (型号A12345678901, HZ-14-2026-0001).
    static let contactWords: Set<String> = ["tel", "phone", "mobile", "mob", "cell", "call", "wx", "vx", "wechat", "weixin"]

    // MARK: accounts and documents

    static let qqWords = scalars(["qq", "扣扣"])
    static let weChatWords = scalars(["微信", "威信", "薇信", "v信", "wechat", "weixin", "wx", "vx"])
    static let documentWords = scalars(["护照", "通行证", "回乡证", "台胞证", "旅行证", "passport"])
    static let documentInitials = ScalarSet((documentWords + letteredDocumentWords).map { $0[0] })
    /// "证件" alone is followed by ID-card numbers as often as by passports: only a lettered number is taken here.
    static let letteredDocumentWords = scalars(["证件"])

    // MARK: plates

    static let provinces: ScalarSet = [
        "京", "津", "沪", "渝", "冀", "豫", "云", "辽", "黑", "湘", "皖", "鲁", "新", "苏", "浙", "赣", "鄂", "桂", "甘", "晋", "蒙", "陕",
        "吉", "闽", "贵", "粤", "青", "藏", "川", "宁", "琼",
    ]
    /// Learner, police, trailer, Hong Kong/Macau cross-border and consular plates end with one of these.
    static let plateSuffixes: ScalarSet = ["学", "警", "挂", "港", "澳", "领", "使", "试", "超"]

    // MARK: addresses

    /// Right before a room number, these make it a public office's room (区政府3楼301室), which stays.
    static let publicBuildingWords = scalars([
        "政府", "局", "委", "办", "中心", "医院", "法院", "检察院", "学院", "卫生院", "研究院", "学校", "所", "站", "馆", "厅", "处", "队", "公司", "银行",
    ])
    /// Before a room number without building or unit, these make it a home (家住锦绣花园1203室).
    static let residenceWords = scalars(["住", "地址", "我家"])
    static let residenceSuffixes = scalars([
        "小区", "花园", "苑", "公寓", "宿舍", "新村", "村", "里", "府", "湾", "城", "阁", "居", "庭", "园", "邸", "轩", "坊", "庄", "大厦",
    ])
    /// After 房, a word rather than a room: 房东, 房屋, 房租.
    static let notRoomAfterFang: ScalarSet = ["屋", "东", "产", "子", "租", "价", "主", "贷", "源", "间", "型", "龄", "本", "管", "地", "客", "车", "改"]
    /// After a bare number, a measure word: the number counts something (5栋120户, 3栋2026年) and is no room.
    static let measureWords: ScalarSet = [
        "年", "月", "日", "时", "分", "秒", "个", "元", "块", "户", "人", "米", "平", "万", "千", "百", "多", "余", "次", "辆", "位", "间", "套", "家", "级",
        "名", "岁", "度", "条", "件", "份", "张", "台", "吨", "斤", "天", "周", "期", "届", "路", "线", "%",
    ]

    // MARK: names

    /// Words after which a name follows; weak ones (我是, 本人) are followed by many other things too.
    static let nameTriggers: [(word: [Unicode.Scalar], weak: Bool)] =
        scalars(["我叫", "名叫", "联系人", "姓名", "反映人", "投诉人", "举报人", "来信人", "来电人", "建议人", "申请人", "当事人"]).map { (word: $0, weak: false) }
        + scalars(["我是", "本人"]).map { (word: $0, weak: true) }
    /// The first characters of the triggers, and 姓 (姓王名小明): a cheap test before the word list.
    static let nameInitials = ScalarSet(nameTriggers.map { $0.word[0] } + ["姓"])
    /// Titles: 王先生 or 李老师 alone is a family name, not a person, and stays.
    static let nameTitles = scalars([
        "先生", "女士", "小姐", "老师", "师傅", "同志", "阿姨", "大爷", "大妈", "大姐", "大哥", "主任", "书记", "经理", "医生", "律师", "科长", "处长",
        "局长", "委员", "代表", "老板", "总",
    ])
    /// Words that end a name: 张三的邻居, 王小明电话…
    static let nameStops = scalars([
        "的", "在", "住", "家住", "是", "电话", "手机", "联系", "微信", "邮箱", "身份", "地址", "今年", "现年", "男", "女", "反映", "和", "与", "及",
        "等", "同", "也", "来自", "向", "对", "就", "想", "要", "希望", "建议", "请", "因", "从", "于", "已", "曾", "岁", "现", "系", "说", "都",
        "还", "又", "将", "会", "能", "把", "被", "给", "让", "到", "去", "为",
    ])
    /// After a weak trigger only these may follow a name inside the text (我是张三，… or 我是张三电话…).
    static let weakNameStops = scalars(["电话", "手机", "联系", "今年", "现年", "家住", "住在", "微信"])
    /// Said after 我是 or 本人 and starting with a family name, but not names.
    static let notNames: Set<String> = [
        "高中生", "高三生", "高龄", "高层", "党员", "万元户", "文明", "方便", "白领", "龙头", "武警", "田园", "石油", "马路", "黄牛", "金牌", "江湖",
        "周边", "周围", "关于", "林业", "冯某", "何时", "曾经", "于是", "余下", "叶子", "程序", "苏醒", "任务", "沈阳", "姚明", "孟子", "秦朝",
    ]
    /// Said after 我是 or 本人: a name does not end with these (我是江西人, 我是租户, 我是黄埔区。).
    static let notNameEndings: ScalarSet = ["人", "员", "民", "户", "主", "族", "者", "家", "方", "代", "氏", "区", "市", "县", "省", "镇", "乡", "村", "街"]
    /// The most common family names (about nine in ten people), without those that are also everyday words'
    /// first characters (和, 时, 成, 安, 明…). A rarer name after 我叫 stays: the names the store knows are
    /// masked anyway.
    static let familyNames = ScalarSet(
        """
        王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫阎段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔汤康易乔赖文施洪辛柯庄欧冼邝麦关伍甘霍梅温简岑凌蓝翁骆聂颜倪殷郁萧邢葛樊蒲兰
        """.unicodeScalars.filter { !$0.properties.isWhitespace })
    static let compoundFamilyNames: Set<String> = [
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐", "端木", "西门", "南宫",
    ]

    // MARK: e-mail

    /// For an address written out (zhang at qq dot com, qq。com) only a real top-level domain ends it.
    static let topLevelDomains: Set<String> = [
        "com", "cn", "net", "org", "edu", "gov", "hk", "mo", "tw", "io", "me", "top", "info", "biz", "cc", "co",
    ]
    static let spelledAtSigns = scalars([" (at) ", " [at] ", "(at)", "[at]", "{at}", " at "])
    static let spelledDots = scalars([" (dot) ", " [dot] ", "(dot)", "[dot]", "{dot}", " dot "])
}
