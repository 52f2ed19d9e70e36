import Foundation
import Models

extension RuleSet {
    /// The rules a district starts with (version 0): Shared/Models/Resources/default-rules.json,
    /// written for a Guangzhou district like 海珠区. Should the resource be missing, a minimal set
    /// keeps triage running.
    public static let builtIn: RuleSet = {
        if let data = BuiltInClassificationRules.data, let rules = try? JSONDecoder().decode(RuleSet.self, from: data) {
            return rules
        }
        return RuleSet.minimal
    }()

    /// The five special committees and ten domains with their most telling phrases.
    static let minimal = RuleSet(
        committees: [
            CommitteeDefinition(code: "economy", name: "经济委"),
            CommitteeDefinition(code: "agriculture-rural", name: "农业和农村委"),
            CommitteeDefinition(code: "education-culture-health-sports", name: "教科文卫体委"),
            CommitteeDefinition(code: "social-legal-ethnic-religious", name: "社会法制民族宗教委"),
            CommitteeDefinition(code: "hmt-foreign-affairs", name: "港澳台侨外事委"),
        ],
        domains: [
            DomainRule(code: "transport", name: "交通出行", committee: "economy", match: "公交|红绿灯|停车|拥堵|斑马线|非机动车道|共享单车"),
            DomainRule(code: "education", name: "教育", committee: "education-culture-health-sports", match: "学校|幼儿园|学位|课后服务|学生"),
            DomainRule(code: "health", name: "医疗卫生", committee: "education-culture-health-sports", match: "医院|就医|社区卫生服务中心|医保|家庭医生"),
            DomainRule(code: "elderly-care", name: "养老服务", committee: "social-legal-ethnic-religious", match: "养老|长者饭堂|长者|老年人|日间照料"),
            DomainRule(code: "urban-renewal", name: "城市更新", committee: "economy", match: "旧改|老旧小区|加装电梯|违建|城中村"),
            DomainRule(code: "environment", name: "生态环境", committee: "agriculture-rural", match: "垃圾分类|噪音|污水|河涌|油烟"),
            DomainRule(
                code: "public-safety", name: "公共安全", committee: "social-legal-ethnic-religious", match: "消防|火灾|飞线充电|治安|(充电|电瓶)&(电动自行车|电动车|楼道)"),
            DomainRule(code: "economy", name: "经济发展", committee: "economy", match: "营商环境|中小企业|就业|夜间经济|商圈"),
            DomainRule(code: "government-services", name: "政务服务", committee: "social-legal-ethnic-religious", match: "政务服务|办事|一网通办|审批|证照"),
            DomainRule(code: "culture", name: "文化体育", committee: "education-culture-health-sports", match: "图书馆|文化站|健身|非遗|全民健身"),
        ],
        urgency: [
            UrgencyRule(id: "danger", level: .urgent, match: "安全隐患|火灾|坍塌|倒塌|塌陷|漏电|燃气泄漏|爆炸|溺水|危房|险情|触电"),
            UrgencyRule(id: "vulnerable-groups", level: .important, match: "学生|儿童|老人|残疾人|消防通道|大面积|长期"),
        ],
        jurisdiction: [
            JurisdictionRule(id: "metro", scope: .municipal, match: "地铁|轨道交通", department: "广州地铁集团")
        ])
}
