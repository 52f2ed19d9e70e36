import Foundation
import Models
import ServiceKit
import Testing

@testable import IntakeService

@Suite struct CSVRecordsTests {
    func read(_ text: String, chunk: Int = 3) -> [CSVRecords.Record] {
        read(Array(text.utf8), chunk: chunk)
    }

    func read(_ bytes: [UInt8], chunk: Int = 3) -> [CSVRecords.Record] {
        var reader = CSVRecords(maximumFieldBytes: 64)
        var records: [CSVRecords.Record] = []
        var index = 0
        while index < bytes.count {
            records += reader.feed(bytes[index..<min(index + chunk, bytes.count)])
            index += chunk
        }
        return records + reader.finish()
    }

    func rows(_ records: [CSVRecords.Record]) -> [[String]] {
        records.map { (try? $0.get()) ?? ["<error>"] }
    }

    @Test func plainQuotedAndMultiLineFields() {
        let text = "标题,具体建议\r\n路灯,\"修好, 尽快\"\n\"说\"\"明\",\"第一行\n第二行\"\n"
        #expect(rows(read(text)) == [["标题", "具体建议"], ["路灯", "修好, 尽快"], ["说\"明", "第一行\n第二行"]])
    }

    @Test(arguments: [1, 2, 3, 7, 1000])
    func chunkBoundariesDoNotMatter(_ chunk: Int) {
        let text = "\u{FEFF}title,specificSuggestions\r\n\"a,b\",c\r\nd,\"e\"\"f\"\r\n"
        #expect(rows(read(text, chunk: chunk)) == [["title", "specificSuggestions"], ["a,b", "c"], ["d", "e\"f"]])
    }

    @Test func byteOrderMarkIsSkippedOnlyAtTheStart() {
        #expect(rows(read("\u{FEFF}a,b\n")) == [["a", "b"]])
        #expect(rows(read("a,\u{FEFF}b\n")) == [["a", "\u{FEFF}b"]])
        #expect(rows(read("a,b")) == [["a", "b"]], "a last line without a line break is read")
    }

    @Test func blankLinesAreRecordsOfOneEmptyField() {
        #expect(rows(read("a\n\n\r\nb\n")) == [["a"], [""], [""], ["b"]])
    }

    @Test func malformedRecordsAreReportedAndReadingGoesOn() {
        let records = read("a,b\"c\nd,\"e\"x\nok,1\n\"never closed\n")
        #expect(records.count == 4)
        #expect(records[0] == .failure(.quoteInUnquotedField))
        #expect(records[1] == .failure(.textAfterClosingQuote))
        #expect(records[2] == .success(["ok", "1"]))
        #expect(records[3] == .failure(.unterminatedQuote))
    }

    @Test func invalidUTF8AndOverlongFieldsAreReportedPerRecord() {
        var bytes = Array("a,".utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array("\nfine,row\n".utf8)
        bytes += Array(String(repeating: "x", count: 100).utf8) + Array("\n".utf8)
        let records = read(bytes)
        #expect(records[0] == .failure(.invalidUTF8(column: 2)))
        #expect(records[1] == .success(["fine", "row"]))
        #expect(records[2] == .failure(.fieldTooLong(column: 1, limit: 64)))
    }
}

@Suite struct BatchLayoutTests {
    let haizhu = DistrictCode(rawValue: "haizhu")!

    @Test func chineseAndEnglishHeadersMapToTheForm() throws {
        let chinese = try BatchLayout(header: ["标题", "情况分析", "具体建议", "来源", "联系人", "联系电话", "联系地址", "接收人", "同意公开", "备注"])
        let english = try BatchLayout(header: [
            "Title", "situation_analysis", "specificSuggestions", "source", "contactName", "phone", "address", "receiver", "consentToPublish",
        ])
        let row = ["路灯不亮", "夜间无照明", "尽快维修", "街道委员工作室", "李四", "020-12345678", "沙园街", "沙园街委员工作室", "是"]
        let fromChinese = try chinese.submission(row + ["无"], district: haizhu, defaults: .init())
        let fromEnglish = try english.submission(row, district: haizhu, defaults: .init())
        #expect(fromChinese == fromEnglish)
        #expect(fromChinese.sourceCategory == "street-studio")
        #expect(fromChinese.receiver == .init(kind: "studio", name: "沙园街委员工作室"))
        #expect(fromChinese.consentToPublish == true)
        #expect(fromChinese.channel == "batch-import")
        #expect(chinese.ignored == ["备注"])
    }

    @Test func missingRequiredColumnsOrDuplicatesRefuseTheFile() {
        #expect(throws: APIError.self) { try BatchLayout(header: ["标题", "情况分析"]) }
        #expect(throws: APIError.self) { try BatchLayout(header: ["标题", "具体建议", "title"]) }
    }

    @Test func rowsWithoutAnyContactAreAnonymous() throws {
        let layout = try BatchLayout(header: ["标题", "具体建议", "联系人", "联系电话"])
        let row = try layout.submission(["t", "s", "", ""], district: haizhu, defaults: .init(sourceCategory: .community))
        #expect(row.anonymous == true)
        #expect(row.sourceCategory == "community")
        let clue = try layout.submission(["t", "s", "", ""], district: haizhu, defaults: .init()).validated(
            settings: IntakeSettings(), defaultChannel: .batchImport)
        #expect(clue.sourceCategory == .streetStudio, "a batch without a source defaults to street studio")
        #expect(clue.submitter == .anonymous)
    }

    @Test func badValuesNameTheirColumn() throws {
        let layout = try BatchLayout(header: ["标题", "具体建议", "来源", "匿名"])
        do {
            _ = try layout.submission(["t", "s", "谣言", ""], district: haizhu, defaults: .init())
            Issue.record("accepted an unknown source")
        } catch {
            #expect(error.field == "sourceCategory")
        }
        do {
            _ = try layout.submission(["t", "s", "", "也许"], district: haizhu, defaults: .init())
            Issue.record("accepted a bad yes/no")
        } catch {
            #expect(error.field == "anonymous")
        }
    }
}
