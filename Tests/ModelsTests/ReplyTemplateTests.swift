import Testing

@testable import Models

@Suite struct ReplyTemplateTests {
    let letter = "关于{标题}（案号 {案号}）的答复\n{承办单位}于{交办日期}收到交办，现于{今天}答复（期限 {答复期限}）。{签发人}"

    @Test func aTemplateIsFilledFromTheCaseAndUnknownPlaceholdersStay() {
        let filled = ReplyTemplate.fill(
            letter,
            with: [
                .title: "推进加装电梯", .caseNumber: "HZ-14-2027-0003", .unit: "区住建局", .assignedOn: "2027-03-01", .today: "2027-03-20",
                .deadline: "2027-05-30",
            ])
        #expect(filled == "关于推进加装电梯（案号 HZ-14-2027-0003）的答复\n区住建局于2027-03-01收到交办，现于2027-03-20答复（期限 2027-05-30）。{签发人}")
        #expect(ReplyTemplate.fill("{案号}", with: [:]) == "{案号}", "a value not known is left to fill in by hand")
        #expect(ReplyTemplate.fill("未闭合 {案号", with: [.caseNumber: "X"]) == "未闭合 {案号")
    }

    @Test func unknownPlaceholdersAreNamedOnce() {
        #expect(ReplyTemplate.unknownPlaceholders(in: letter) == ["签发人"])
        #expect(ReplyTemplate.unknownPlaceholders(in: "{按号}{按号}{案号}") == ["按号"])
        #expect(ReplyTemplate.unknownPlaceholders(in: "{这是一段很长的用花括号括起来的说明文字}") == [], "prose in braces is not a placeholder")
    }
}
