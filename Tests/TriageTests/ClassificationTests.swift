import Foundation
import Models
import Testing

@testable import ClassificationRules
@testable import TriageService

@Suite struct ClassificationTests {
    let rules: CompiledRuleSet

    init() throws {
        rules = try RuleSet.builtIn.compile()
    }

    // MARK: Classifying clues with the built-in rules

    @Test func eBikeChargingInAStairwellIsAnUrgentPublicSafetyMatter() throws {
        let result = rules.classify(
            ClueText(
                title: "电动自行车楼道充电存在火灾隐患",
                situation: "老旧小区居民在楼道内为电动自行车充电，飞线充电现象普遍，存在火灾隐患。",
                suggestions: "建议在小区内建设集中充电桩，加强消防巡查。"))
        #expect(result.domain == "public-safety")
        #expect(result.committee == "social-legal-ethnic-religious")
        #expect(result.urgency == .urgent)
        #expect(result.jurisdiction == .district)

        let urgency = try #require(result.hits.first { $0.kind == .urgency })
        #expect(urgency.rule == "danger-fire")
        #expect(urgency.phrases == ["火灾"])
        #expect(urgency.fields == ["title", "situation"])

        // Every matching domain is listed, the winner first, so staff see the alternative.
        #expect(result.hits.map(\.kind) == [.domain, .domain, .urgency, .jurisdiction])
        #expect(result.hits.filter { $0.kind == .domain }.map(\.rule) == ["public-safety", "urban-renewal"])
        let safety = try #require(result.hits.first)
        #expect(safety.phrases == ["消防", "火灾", "飞线充电", "充电", "电动自行车", "楼道"], "rule order, each once")
        #expect(safety.fields == ["title", "situation", "suggestions"])
    }

    @Test func aMetroStationExitIsTheMetroCompanysBusiness() throws {
        let result = rules.classify(
            ClueText(
                title: "昌岗地铁站B出口缺少无障碍通道",
                situation: "小区居民反映地铁站B出口只有楼梯，推婴儿车和坐轮椅的居民进出不便。",
                suggestions: "建议在出口加装无障碍电梯。"))
        #expect(result.jurisdiction == .municipal)
        #expect(result.department == "广州地铁集团")
        let jurisdiction = try #require(result.hits.first { $0.kind == .jurisdiction })
        #expect(jurisdiction.rule == "metro", "the metro rule comes before the rule keeping 小区 matters local")
        #expect(jurisdiction.phrases == ["地铁", "地铁站"])
        #expect(result.domain == "transport")
        #expect(result.street == "昌岗")
    }

    @Test func anEldersCanteenGoesToElderlyCareAndItsCommittee() throws {
        let result = rules.classify(
            ClueText(
                title: "社区长者饭堂排队时间长",
                situation: "港海社区长者饭堂午餐时段排队超过半小时，不少老人站着等候。",
                suggestions: "建议增加供餐窗口，推行线上预约。"))
        #expect(result.domain == "elderly-care")
        let committee = try #require(result.committee)
        #expect(committee == "social-legal-ethnic-religious")
        #expect(rules.committee(forDomain: "elderly-care") == committee)
        #expect(rules.committeeName(code: committee) == "社会法制民族宗教委")
        #expect(result.hits.first?.phrases == ["长者", "老人", "长者饭堂"])
        #expect(!result.hits.contains { $0.rule == "government-services" }, "a serving window is not a service window")
        #expect(result.urgency == .important)
        #expect(result.jurisdiction == .district)
        #expect(result.hits.first { $0.kind == .jurisdiction }?.rule == "local-community")
    }

    @Test func theStreetComesFromTheAddressThenTheReceivingStudio() {
        // 赤岗 is the first street rule; the address still wins over a mention in the text.
        let fromAddress = rules.classify(
            ClueText(
                title: "洪德路大排档油烟扰民",
                situation: "夜间油烟和噪音影响居民休息，赤岗一带也有类似情况。",
                suggestions: "建议加强油烟治理。",
                address: "广州市海珠区南华西街洪德路12号"))
        #expect(fromAddress.street == "南华西")
        #expect(fromAddress.hits.last == RuleHit(kind: .street, rule: "南华西", phrases: ["南华西街", "南华西"], fields: ["address"]))
        #expect(fromAddress.domain == "environment")

        let fromStudio = rules.classify(
            ClueText(
                title: "小区门口路灯不亮",
                situation: "晚上出入很不方便，昌岗那边也一样。",
                suggestions: "建议尽快维修。",
                receiver: "龙凤街委员工作室"))
        #expect(fromStudio.street == "龙凤")
        #expect(fromStudio.hits.last?.fields == ["receiver"])

        let fromText = rules.classify(ClueText(title: "昌岗路人行道破损", situation: "", suggestions: ""))
        #expect(fromText.street == "昌岗")
        #expect(fromText.hits.last?.fields == ["title"])
    }

    @Test func noMatchingRuleLeavesAPlainDistrictClue() {
        let result = rules.classify(
            ClueText(
                title: "关于天气预报的建议", situation: "希望天气预报更准确。", suggestions: "建议气象信息发布更及时。"))
        #expect(
            result
                == Classification(
                    domain: nil, committee: nil, urgency: .normal, jurisdiction: .district, department: nil, street: nil, hits: []))
    }

    // MARK: Matching rules

    @Test func punctuationSpacingAndWidthNeverMatter() throws {
        let compiled = try RuleSet(
            committees: [CommitteeDefinition(code: "economy", name: "经济委")],
            domains: [DomainRule(code: "charging", name: "充电设施", committee: "economy", match: "电动车，充电 | ｗｉｆｉ信号")]
        ).compile()
        let spaced = compiled.classify(ClueText(title: "电动车 充电！", situation: "", suggestions: ""))
        #expect(spaced.domain == "charging")
        #expect(spaced.hits.first?.phrases == ["电动车，充电"])

        let wide = compiled.classify(ClueText(title: "小区网络", situation: "小区WiFi 信号差", suggestions: ""))
        #expect(wide.domain == "charging")
        #expect(wide.hits.first?.phrases == ["ｗｉｆｉ信号"])
        #expect(wide.hits.first?.fields == ["situation"])

        #expect(try MatchExpression(parsing: "\"电动车 充电\"").evaluate("电动车，充电。").matched)
    }

    @Test func titlePhrasesOutweighBodyPhrasesAndTiesGoToTheEarlierRule() throws {
        let compiled = try RuleSet(
            committees: [
                CommitteeDefinition(code: "agriculture-rural", name: "农业和农村委"),
                CommitteeDefinition(code: "education-culture-health-sports", name: "教科文卫体委"),
            ],
            domains: [
                DomainRule(code: "environment", name: "生态环境", committee: "agriculture-rural", match: "噪音 | 油烟"),
                DomainRule(code: "culture", name: "文化体育", committee: "education-culture-health-sports", match: "广场舞 | 健身"),
            ]
        ).compile()
        let inTitle = compiled.classify(ClueText(title: "广场舞音响太吵", situation: "晚上十点后仍有噪音。", suggestions: ""))
        #expect(inTitle.domain == "culture")
        #expect(inTitle.committee == "education-culture-health-sports")
        #expect(inTitle.hits.map(\.rule) == ["culture", "environment"])

        let bothInBody = compiled.classify(ClueText(title: "夜间扰民", situation: "广场舞音响晚上十点后仍有噪音。", suggestions: ""))
        #expect(bothInBody.domain == "environment")
        #expect(bothInBody.hits.map(\.rule) == ["environment", "culture"])
    }

    // MARK: Match expressions

    @Test func andBindsTighterThanOrAndNotTighterThanAnd() throws {
        let either = try MatchExpression(parsing: "噪音|广场舞&音响")
        #expect(either.description == "噪音 | (广场舞 & 音响)")
        #expect(either.evaluate("楼下噪音大").matched)
        #expect(!either.evaluate("广场舞很热闹").matched)
        #expect(either.evaluate("广场舞音响") == MatchOutcome(matched: true, phrases: ["广场舞", "音响"]))
        #expect(either.evaluate("噪音和音响") == MatchOutcome(matched: true, phrases: ["噪音"]), "a failed branch explains nothing")

        let grouped = try MatchExpression(parsing: "(噪音 | 广场舞) & 音响")
        #expect(grouped.description == "(噪音 | 广场舞) & 音响")
        #expect(!grouped.evaluate("噪音").matched)
        #expect(grouped.evaluate("噪音和音响").matched)

        let notFirst = try MatchExpression(parsing: "!社区&码头")
        #expect(notFirst.description == "!社区 & 码头")
        #expect(notFirst.evaluate("货运码头") == MatchOutcome(matched: true, phrases: ["码头"]))
        #expect(!notFirst.evaluate("社区旁的旧码头").matched)
    }

    @Test func negationExcludes() throws {
        let port = try MatchExpression(parsing: "(港口 | 码头) & !(渡口 | 社区)")
        #expect(port.evaluate("货运码头扩建").matched)
        #expect(!port.evaluate("社区旁的码头").matched)
        #expect(!port.evaluate("码头渡口").matched)
        #expect(port.phrases == ["港口", "码头", "渡口", "社区"])
    }

    @Test func quotedPhrasesMayHoldSpacesAndOperators() throws {
        let quoted = try MatchExpression(parsing: "\"night market\" | \"A&B\" | 夜市")
        #expect(quoted.phrases == ["night market", "A&B", "夜市"])
        #expect(quoted.description == "\"night market\" | \"A&B\" | 夜市")
        #expect(quoted.evaluate("Night-Market 摊位") == MatchOutcome(matched: true, phrases: ["night market"]))
        #expect(quoted.evaluate("a & b").phrases == ["A&B"])
        #expect(!quoted.evaluate("night").matched)
    }

    @Test func syntaxErrorsPointAtTheCharacter() {
        #expect(syntaxError("电动 车") == MatchSyntaxError(position: 4, message: "expected | or & between phrases"))
        #expect(syntaxError("地铁 (公交)")?.position == 4)

        let unclosed = syntaxError("(地铁|公交")
        #expect(unclosed?.position == 1)
        #expect(unclosed?.message.contains("missing )") == true)

        let unterminated = syntaxError("\"abc")
        #expect(unterminated?.position == 1)
        #expect(unterminated?.message.contains("unterminated quote") == true)
        #expect(syntaxError("地铁 | \"abc")?.position == 6)

        let onlyNegative = syntaxError("!地铁")
        #expect(onlyNegative?.position == 1)
        #expect(onlyNegative?.message.contains("at least one phrase") == true)
        #expect(syntaxError("!(地铁 | 公交)") != nil)
        #expect(syntaxError("公交 | !地铁") != nil, "either side alone must need a phrase")
        #expect(syntaxError("公交 & !地铁") == nil)

        for empty in ["", "   ", "\u{3000}"] {
            #expect(syntaxError(empty) == MatchSyntaxError(position: 1, message: "empty expression: write at least one phrase"))
        }
        let punctuationOnly = syntaxError("地铁 | \"，，\"")
        #expect(punctuationOnly?.position == 6)
        #expect(punctuationOnly?.message.contains("empty once punctuation") == true)
        #expect(syntaxError("地铁|")?.position == 4)
        #expect(syntaxError("|地铁")?.position == 1)
        #expect(syntaxError("地铁)")?.position == 3)
        #expect(syntaxError("()")?.position == 2)

        let deep = String(repeating: "(", count: 40) + "地铁" + String(repeating: ")", count: 40)
        #expect(syntaxError(deep)?.position == 33)
    }

    // MARK: Validation

    @Test func compileCollectsEveryProblemWithItsRuleAndPosition() {
        let ruleSet = RuleSet(
            committees: [CommitteeDefinition(code: "economy", name: "经济委")],
            domains: [
                DomainRule(code: "transport", name: "交通出行", committee: "economy", match: "公交 | 地铁"),
                DomainRule(code: "transport", name: "交通", committee: "transportation", match: "公交 站台"),
                DomainRule(code: "Health", name: " ", committee: "economy", match: "医院"),
            ],
            urgency: [UrgencyRule(id: "calm", level: .normal, match: "平安")],
            jurisdiction: [JurisdictionRule(id: "metro", scope: .municipal, match: "(地铁 | 轨道交通", department: "广州地铁集团")],
            streets: [StreetRule(name: "南华西", match: "南华西街 | 南华西"), StreetRule(name: "南华西", match: "!南华西")])
        let found = problems(ruleSet)
        let summary = found.map { problem in
            problem.position.map { "\(problem.rule).\(problem.field)@\($0)" } ?? "\(problem.rule).\(problem.field)"
        }
        #expect(
            summary == [
                "domains[1].code", "domains[1].committee", "domains[1].match@4",
                "domains[2].code", "domains[2].name",
                "urgency[0].level",
                "jurisdiction[0].match@1",
                "streets[1].name", "streets[1].match@1",
            ])
        #expect(found.first { $0.rule == "domains[1]" && $0.field == "code" }?.message.contains("domains[0]") == true)
        #expect(found.first { $0.rule == "domains[1]" && $0.field == "committee" }?.message.contains("transportation") == true)
        #expect(found.first { $0.field == "match" }?.message == "expected | or & between phrases")
    }

    @Test func aRuleSetNeedsCommitteesAndDomainsAndAtMostFiveHundredRules() {
        #expect(problems(RuleSet(committees: [], domains: [])).map(\.rule) == ["committees", "domains"])

        let streets = (1...501).map { StreetRule(name: "街道\($0)", match: "街道\($0)号") }
        let tooMany = RuleSet(
            committees: [CommitteeDefinition(code: "economy", name: "经济委")],
            domains: [DomainRule(code: "economy", name: "经济发展", committee: "economy", match: "就业")],
            streets: streets)
        #expect(problems(tooMany).map(\.rule) == ["ruleSet"])

        let longMatch = RuleSet(
            committees: [CommitteeDefinition(code: "economy", name: "经济委")],
            domains: [DomainRule(code: "economy", name: "经济发展", committee: "economy", match: String(repeating: "就业|", count: 700) + "创业")])
        #expect(problems(longMatch).map(\.field) == ["match"])
    }

    // MARK: The built-in rules

    @Test func builtInRulesCompileAndRoundTrip() throws {
        let builtIn = RuleSet.builtIn
        #expect(problems(builtIn).isEmpty)
        #expect(builtIn.committees.count == 5)
        #expect(builtIn.domains.count == 10)
        #expect(builtIn.streets.count == 18, "read from default-rules.json, not the minimal fallback")
        #expect(builtIn.urgency.allSatisfy { $0.level != .normal })
        for domain in builtIn.domains {
            let phrases = try MatchExpression(parsing: domain.match).phrases
            #expect((10...25).contains(phrases.count), "\(domain.code) has \(phrases.count) phrases")
        }
        #expect(rules.committee(forDomain: "education") == "education-culture-health-sports")
        #expect(rules.committeeName(code: "economy") == "经济委")

        let decoded = try JSONDecoder().decode(RuleSet.self, from: JSONEncoder().encode(builtIn))
        #expect(decoded == builtIn)

        let minimal = try RuleSet.minimal.compile()
        #expect(minimal.ruleSet.committees.count == 5 && minimal.ruleSet.domains.count == 10)
    }

    @Test func missingOptionalListsDecodeAsEmpty() throws {
        let json =
            #"{"committees":[{"code":"economy","name":"经济委"}],"domains":[{"code":"transport","name":"交通出行","committee":"economy","match":"公交"}]}"#
        let ruleSet = try JSONDecoder().decode(RuleSet.self, from: Data(json.utf8))
        #expect(ruleSet.urgency.isEmpty && ruleSet.jurisdiction.isEmpty && ruleSet.streets.isEmpty)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(RuleSet.self, from: Data(#"{"committees":[]}"#.utf8))
        }
        let rail = try JSONDecoder().decode(JurisdictionRule.self, from: Data(#"{"id":"rail","scope":"municipal","match":"高铁"}"#.utf8))
        #expect(rail.department == nil)
    }

    // MARK: Helpers

    /// The syntax error of `source`, or nil when it parses.
    func syntaxError(_ source: String) -> MatchSyntaxError? {
        do throws(MatchSyntaxError) {
            _ = try MatchExpression(parsing: source)
            return nil
        } catch {
            return error
        }
    }

    /// The problems `compile()` reports, none when the rule set is valid.
    func problems(_ ruleSet: RuleSet) -> [RuleProblem] {
        do throws(RuleSetInvalid) {
            _ = try ruleSet.compile()
            return []
        } catch {
            return error.problems
        }
    }
}

@Suite struct StoredHitsTests {
    @Test func hitsWrittenDirectlyReadBackAsTheirCodableForm() throws {
        let hits = [
            RuleHit(kind: .domain, rule: "public-safety", phrases: ["充电", "火灾\"隐患\""], fields: ["title", "situation"]),
            RuleHit(kind: .street, rule: "南华西\\街", phrases: ["tab\there", "line\nbreak", "\u{1}"], fields: []),
        ]
        let written = RuleHit.json(hits)
        #expect(try JSONDecoder().decode([RuleHit].self, from: Data(written.utf8)) == hits)
        #expect(RuleHit.json([]) == "[]")
    }
}
