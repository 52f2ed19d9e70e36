import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// The documents handling runs on, laid out for paper: the assignment notice to a unit
/// (交办通知书), the supervision notice at the formal step of the escalation (督办通知) and the
/// unit's reply letter (答复函). Printing to PDF from the browser is the way to a file.
struct PrintController: Sendable {
    let desk: DeskController
    var pages: Pages { desk.pages }
    var services: ServiceCalls { desk.services }
    var clock: ServiceClock { desk.workbench.clock }

    static let readers: Set<StaffClaims.Role> = [.proposalsCommittee, .handlingUnit]

    enum Document: String {
        case assignmentNotice = "notice"
        case supervisionNotice = "supervision-notice"
        case replyLetter = "reply"
    }

    func register(on router: Router<AppRequestContext>) {
        router.get("/print/assignments/:id/:document", use: print)
    }

    @Sendable func print(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await desk.signedIn(request, context, roles: Self.readers) { visit in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:))?.uuidString.lowercased(),
                let document = context.parameters.get("document").flatMap(Document.init(rawValue:))
            else { return pages.problem("没有这份文书。", status: .notFound, visit: visit) }
            // A unit prints its own assignments only; the service answers 404 for another's.
            let unit = visit.account.role == .handlingUnit
            let answer = try await services.get(
                .supervision, unit ? "/v1/supervision/my/assignments/\(id)" : "/v1/supervision/assignments/\(id)",
                for: visit)
            guard answer.ok else { return desk.refusal(answer, visit: visit) }
            let back = unit ? "/unit/assignments/\(id)" : "/supervision/assignments/\(id)"
            guard let values = Self.document(document, record: answer.json, today: LocalDate.on(clock.now, in: .chinaTime)) else {
                return pages.problem(Self.notYet(document), status: .conflict, visit: visit)
            }
            var page = values
            page["back"] = back
            return pages.render("print", page, visit: nil)
        }
    }

    static func notYet(_ document: Document) -> String {
        switch document {
        case .assignmentNotice: "这件交办件没有答复期限，还不能出具交办通知书。"
        case .supervisionNotice: "这件交办件还没有升级到督办通知，不出具督办通知。"
        case .replyLetter: "承办单位还没有答复，没有答复函可以打印。"
        }
    }

    /// The page's values from the assignment's record; nil when the document does not exist yet.
    static func document(_ document: Document, record: [String: Any], today: LocalDate) -> [String: Any]? {
        let district = (record["districtName"] as? String) ?? ""
        let committee = "\(district)政协提案委员会"
        let caseNumber = (record["caseNumber"] as? String) ?? ""
        let title = (record["proposalTitle"] as? String) ?? ""
        let unit = (record["unitName"] as? String) ?? ""
        let lead = (record["role"] as? String) == "lead"
        let deadline = (record["deadline"] as? String) ?? ""
        let assignedOn = (record["assignedOn"] as? String) ?? ""
        var values: [String: Any] = ["caseNumber": "案号：\(caseNumber)", "addressee": unit]
        switch document {
        case .assignmentNotice:
            guard !deadline.isEmpty else { return nil }
            values["issuer"] = committee
            values["documentTitle"] = "提案交办通知书"
            values["paragraphs"] = [
                "现将政协提案《\(title)》（案号 \(caseNumber)）交由你单位\(lead ? "主办" : "协办")，请认真研究办理。",
                lead
                    ? "请在办理前、办理中、办理后与提案人见面沟通（“三见面”），收齐协办单位意见后，于 \(deadline) 前书面答复提案人，并抄送区政协提案委员会。"
                    : "请在办理中与主办单位和提案人沟通，于答复期限前将协办意见送主办单位，由主办单位统一答复（答复期限 \(deadline)）。",
                "对交办有异议的，请在规定期限内通过提案工作台提出，并说明理由；需要延期答复的，请在答复期限前申请。",
            ]
            values["signer"] = committee
            values["signedOn"] = chinese(assignedOn)
            values["facts"] = ["承办单位：\(unit)（\(lead ? "主办" : "协办")）", "交办日期：\(assignedOn)", "答复期限：\(deadline)"]
        case .supervisionNotice:
            guard let level = (record["escalationLevel"] as? String).flatMap(EscalationLevel.init(rawValue:)), level != .reminder,
                let day = LocalDate(deadline)
            else { return nil }
            let overdue = max(0, day.days(until: today))
            values["issuer"] = committee
            values["documentTitle"] = "提案督办通知"
            var paragraphs = [
                "你单位承办的政协提案《\(title)》（案号 \(caseNumber)）答复期限为 \(deadline)，截至 \(today) 已超过答复期限 \(overdue) 天，尚未答复提案人。",
                "根据提案督办工作的有关规定，现予\(StaffNoticeRouting.escalationName(level))。请你单位高度重视，抓紧办理，尽快与提案人沟通并书面答复，同时将办理情况报区政协提案委员会。",
            ]
            if level == .supervisingLeader || level == .chairpersonsMeeting, let leader = record["supervisingLeader"] as? String, !leader.isEmpty {
                paragraphs.append("本件由\(leader)领衔督办。")
            }
            values["paragraphs"] = paragraphs
            values["signer"] = committee
            values["signedOn"] = chinese(today.description)
            values["facts"] = ["承办单位：\(unit)", "督办级别：\(StaffNoticeRouting.escalationName(level))", "答复期限：\(deadline)"]
        case .replyLetter:
            guard let reply = (record["replies"] as? [[String: Any]])?.last, let text = reply["text"] as? String else { return nil }
            let category = (reply["reviewedCategory"] as? String) ?? (reply["category"] as? String) ?? ""
            values["issuer"] = unit
            values["documentTitle"] = "关于政协提案《\(title)》的答复"
            values["addressee"] = "尊敬的提案人"
            values["letter"] = text
            values["signer"] = unit
            let repliedOn = (reply["repliedAt"] as? String).flatMap(Labels.parse).map { LocalDate.on($0, in: .chinaTime).description } ?? ""
            values["signedOn"] = chinese(repliedOn)
            var facts = ["答复类别：\(UnitLabels.category(category))", "抄送：\(committee)"]
            if let promised = reply["promisedDate"] as? String { facts.insert("承诺解决日期：\(promised)", at: 1) }
            let files = ((reply["attachments"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
            if !files.isEmpty { facts.append("附件：" + files.joined(separator: "、")) }
            values["facts"] = facts
        }
        return values
    }

    /// `2027-03-05` as a document dates it: 2027年3月5日.
    static func chinese(_ day: String) -> String {
        guard let date = LocalDate(day) else { return day }
        return "\(date.year)年\(date.month)月\(date.day)日"
    }
}
