import Foundation
import Models
import Testing

@testable import WorkbenchService

/// What each printed document says, from an assignment's record (no server needed).
@Suite struct PrintedDocumentTests {
    let today = LocalDate("2027-06-10")!
    var record: [String: Any] {
        [
            "districtName": "海珠区", "caseNumber": "HZ-14-2027-0012", "proposalTitle": "规范电动自行车充电", "unitName": "区消防救援大队",
            "role": "lead", "assignedOn": "2027-03-01", "deadline": "2027-05-31", "supervisingLeader": "李副主席",
        ]
    }

    @Test(arguments: [
        (EscalationLevel?.none, false), (.reminder, false), (.formalNotice, true), (.supervisingLeader, true),
    ])
    func aSupervisionNoticeExistsFromTheFormalStepOn(_ level: EscalationLevel?, _ exists: Bool) throws {
        var record = self.record
        if let level { record["escalationLevel"] = level.rawValue }
        let notice = PrintController.document(.supervisionNotice, record: record, today: today)
        #expect((notice != nil) == exists)
        guard let notice else { return }
        let text = ((notice["paragraphs"] as? [String]) ?? []).joined()
        #expect(notice["issuer"] as? String == "海珠区政协提案委员会" && notice["documentTitle"] as? String == "提案督办通知")
        #expect(text.contains("规范电动自行车充电") && text.contains("已超过答复期限 10 天") && text.contains(StaffNoticeRouting.escalationName(level!)))
        #expect(text.contains("李副主席领衔督办") == (level == .supervisingLeader))
        #expect(notice["signedOn"] as? String == "2027年6月10日")
    }

    @Test func theAssignmentNoticeTellsALeadAndACoUnitTheirPart() throws {
        let lead = try #require(PrintController.document(.assignmentNotice, record: record, today: today))
        #expect(((lead["paragraphs"] as? [String]) ?? []).joined().contains("交由你单位主办") && lead["signedOn"] as? String == "2027年3月1日")
        var co = record
        co["role"] = "co-handling"
        let coNotice = try #require(PrintController.document(.assignmentNotice, record: co, today: today))
        #expect(((coNotice["paragraphs"] as? [String]) ?? []).joined().contains("协办意见送主办单位"))
        #expect(PrintController.document(.replyLetter, record: record, today: today) == nil, "no reply yet: no letter")
    }
}
