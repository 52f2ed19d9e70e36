import Foundation
import Models
import ServiceKit
import Testing

@testable import IntakeService

@Suite struct ClueFormTests {
    let settings = IntakeSettings()

    func form(
        title: String? = "楼道充电隐患", situation: String? = "老旧小区楼道内充电", suggestions: String? = "建设集中充电桩",
        channel: String? = "web", category: String? = nil, anonymous: Bool? = nil,
        contact: ClueSubmission.ContactInput? = .init(name: "王小明", phone: "13800138000", address: "海珠区沙园街"),
        receiver: ClueSubmission.ReceiverInput? = nil, call: String? = nil, attachments: [ClueSubmission.AttachmentInput]? = nil
    ) -> ClueSubmission {
        ClueSubmission(
            district: "haizhu", title: title, situationAnalysis: situation, specificSuggestions: suggestions, sourceCategory: category,
            channel: channel, receiver: receiver, anonymous: anonymous, contact: contact, consentToPublish: true, themedCallID: call,
            attachments: attachments)
    }

    func field(_ submission: ClueSubmission) -> String? {
        do {
            _ = try submission.validated(settings: settings)
            return nil
        } catch {
            return error.field ?? "(no field)"
        }
    }

    @Test func aCompleteFormIsValid() throws {
        let clue = try form().validated(settings: settings)
        #expect(clue.channel == .web)
        #expect(clue.sourceCategory == .onlinePlatform, "residents' channels imply the online platform")
        #expect(clue.submitter == .named(Contact(name: "王小明", phone: "13800138000", address: "海珠区沙园街")))
        #expect(clue.consentToPublish)
    }

    @Test func requiredFieldsAreNamed() {
        #expect(field(form(title: nil)) == "title")
        #expect(field(form(title: "   ")) == "title")
        #expect(field(form(suggestions: nil)) == "specificSuggestions")
        #expect(field(form(suggestions: "\n\n")) == "specificSuggestions")
        #expect(field(form(situation: nil)) == nil, "situation analysis may be left out")
        #expect(field(form(contact: nil)) == "contact.name")
        #expect(field(form(contact: .init(name: "", phone: nil, address: nil))) == "contact.name")
        #expect(field(form(anonymous: true, contact: nil)) == nil)
    }

    @Test func overLongFieldsAreRefused() {
        #expect(field(form(title: String(repeating: "字", count: FieldLimits.title))) == nil)
        #expect(field(form(title: String(repeating: "字", count: FieldLimits.title + 1))) == "title")
        #expect(field(form(situation: String(repeating: "a", count: FieldLimits.situationAnalysis + 1))) == "situationAnalysis")
        #expect(field(form(suggestions: String(repeating: "a", count: FieldLimits.specificSuggestions + 1))) == "specificSuggestions")
        #expect(field(form(contact: .init(name: String(repeating: "名", count: 51), phone: nil, address: nil))) == "contact.name")
        #expect(field(form(contact: .init(name: "王", phone: nil, address: String(repeating: "址", count: 201)))) == "contact.address")
    }

    @Test(arguments: ["\u{0}", "\u{7}", "\u{1B}[31m", "\u{7F}", "\u{85}x", "a\u{2028}b"])
    func controlCharactersAreRefused(_ text: String) throws {
        #expect(field(form(title: "标题\(text)尾")) == "title")
        #expect(field(form(suggestions: "建议\(text)尾")) == "specificSuggestions")
    }

    @Test func lineBreaksAreForMultiLineFieldsOnly() {
        #expect(field(form(title: "第一行\n第二行")) == "title")
        #expect(field(form(suggestions: "第一条\n第二条\r\n第三条\t说明")) == nil)
    }

    @Test func htmlAndSQLAreJustText() throws {
        let clue = try form(title: "<script>alert(1)</script>'; DROP TABLE clues; --").validated(settings: settings)
        #expect(clue.title == "<script>alert(1)</script>'; DROP TABLE clues; --")
    }

    @Test func unknownCodesAreNamed() {
        #expect(field(form(channel: "fax")) == "channel")
        #expect(field(form(category: "rumour")) == "sourceCategory")
        #expect(field(form(call: "not-a-uuid")) == "themedCallId")
        var bad = form()
        bad.district = "Hai Zhu"
        #expect(field(bad) == "district")
    }

    @Test func staffEntryNeedsAReceiverAndACategory() throws {
        #expect(field(form(channel: "staff-entry", category: "street-studio")) == "receiver")
        #expect(field(form(channel: "staff-entry", receiver: .init(kind: "studio", name: "沙园街委员工作室"))) == "sourceCategory")
        #expect(field(form(channel: "staff-entry", category: "street-studio", receiver: .init(kind: "boss", name: "x"))) == "receiver.kind")
        let clue = try form(channel: "staff-entry", category: "street-studio", receiver: .init(kind: "studio", name: "沙园街委员工作室")).validated(
            settings: settings)
        #expect(clue.receiver == Receiver(kind: .studio, name: "沙园街委员工作室"))
    }

    @Test func attachmentsAreCheckedAndHashed() throws {
        let content = Data("照片".utf8)
        let clue = try form(attachments: [.init(name: "现场.png", mediaType: "image/png", content: content.base64EncodedString(), sha256: nil)])
            .validated(settings: settings)
        #expect(clue.attachments.first?.metadata.size == content.count)
        #expect(clue.attachments.first?.metadata.sha256 == "7b50017ae47eca327bf1f92c1afb647811242711589b51de5c6009817d042310")

        var small = IntakeSettings()
        small.maximumAttachmentBytes = 3
        #expect(throws: APIError.self) {
            try form(attachments: [.init(name: "a.png", mediaType: "image/png", content: content.base64EncodedString())]).validated(settings: small)
        }
        #expect(
            field(form(attachments: [.init(name: "a.exe", mediaType: "application/x-msdownload", content: content.base64EncodedString())]))
                == "attachments.0.mediaType")
        #expect(
            field(form(attachments: [.init(name: "../a.png", mediaType: "image/png", content: content.base64EncodedString())]))
                == "attachments.0.name")
        #expect(field(form(attachments: [.init(name: "a.png", mediaType: "image/png", content: "***")])) == "attachments.0.content")
        #expect(
            field(
                form(attachments: [
                    .init(name: "a.png", mediaType: "image/png", content: content.base64EncodedString(), sha256: String(repeating: "0", count: 64))
                ])) == "attachments.0.sha256")
        #expect(
            field(
                form(attachments: Array(repeating: .init(name: "a.png", mediaType: "image/png", content: content.base64EncodedString()), count: 11)))
                == "attachments")
    }

    @Test func tooLargeAttachmentsAre413AndRefusedTypes415() {
        var small = IntakeSettings()
        small.maximumAttachmentBytes = 3
        do {
            _ = try form(attachments: [.init(name: "a.png", mediaType: "image/png", content: Data("1234".utf8).base64EncodedString())]).validated(
                settings: small)
            Issue.record("accepted an attachment over the limit")
        } catch {
            #expect(error.status == .contentTooLarge)
        }
        do {
            _ = try form(attachments: [.init(name: "a.exe", mediaType: "application/x-msdownload", content: "MTIz")]).validated(settings: settings)
            Issue.record("accepted a refused media type")
        } catch {
            #expect(error.status == .unsupportedMediaType)
        }
    }

    @Test func nearExactResubmissionsShareAFingerprint() throws {
        let first = try form(title: "楼道充电隐患", suggestions: "建设集中充电桩。").validated(settings: settings)
        let again = try form(title: " 楼道充电隐患 ", suggestions: "建设集中充电桩").validated(settings: settings)
        let wide = try form(title: "楼道充电隐患", suggestions: "建设集中充电桩，！").validated(settings: settings)
        let other = try form(title: "楼道充电隐患", suggestions: "禁止楼道充电").validated(settings: settings)
        #expect(first.contentFingerprint == again.contentFingerprint)
        #expect(first.contentFingerprint == wide.contentFingerprint)
        #expect(first.contentFingerprint != other.contentFingerprint)
        let samePhone = try form(contact: .init(name: "王先生", phone: "+86 138-0013-8000", address: nil)).validated(settings: settings)
        #expect(first.contactFingerprint == samePhone.contactFingerprint, "the phone number identifies the contact")
        let anonymous = try form(anonymous: true, contact: nil).validated(settings: settings)
        #expect(anonymous.contactFingerprint == nil, "anonymous clues are never merged")
    }
}

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("13800138000", "13800138000"), ("138 0013 8000", "13800138000"), ("+86 138-0013-8000", "13800138000"),
        ("8613800138000", "13800138000"), ("0086 19912345678", "19912345678"),
        ("020-83456789", "020-83456789"), ("02083456789", "020-83456789"), ("(020)83456789", "020-83456789"),
        ("0757-2345678", "0757-2345678"), ("010 87654321", "010-87654321"), ("020-83456789-801", "020-83456789-801"),
        ("020-83456789转801", "020-83456789-801"), ("（020）83456789", "020-83456789"),
    ])
    func validNumbers(_ raw: String, _ normalized: String) {
        #expect(PhoneNumber.normalized(raw) == normalized)
    }

    @Test(arguments: [
        "12345", "12800138000", "1380013800", "138001380001", "+1 415 555 0100", "020-0123456", "020-123456",
        "0200-83456789", "020-13456789", "abc", "13800138000x", "020-83456789-1234567", "110", "+86 020-83456789",
    ])
    func invalidNumbers(_ raw: String) {
        #expect(PhoneNumber.normalized(raw) == nil)
    }
}

@Suite struct SubmissionPolicyTests {
    func clue(district: String = "haizhu", channel: String) throws -> ValidClue {
        try ClueSubmission(
            district: district, title: "t", situationAnalysis: nil, specificSuggestions: "s", sourceCategory: "street-studio",
            channel: channel, receiver: .init(kind: "studio", name: "沙园街委员工作室"), anonymous: true
        ).validated(settings: IntakeSettings())
    }

    let haizhu = DistrictCode(rawValue: "haizhu")!

    @Test func integrationsAreScopedToDistrictsAndChannels() throws {
        let key = Submission.integration(IntegrationCredentials(keyID: "gov", districts: [haizhu], channels: ["wechat"]))
        try SubmissionPolicy.check(try clue(channel: "wechat"), from: key)
        #expect(throws: APIError.self) { try SubmissionPolicy.check(try clue(channel: "web"), from: key) }
        #expect(throws: APIError.self) { try SubmissionPolicy.check(try clue(district: "tianhe", channel: "wechat"), from: key) }
    }

    @Test func staffEnterForTheirOwnDistrictOnly() throws {
        let claims = StaffClaims(subject: "studio", role: .memberStudio, district: haizhu, expiresAt: .distantFuture)
        try SubmissionPolicy.check(try clue(channel: "staff-entry"), from: .staff(claims))
        #expect(throws: APIError.self) { try SubmissionPolicy.check(try clue(district: "tianhe", channel: "staff-entry"), from: .staff(claims)) }
        #expect(throws: APIError.self) { try SubmissionPolicy.check(try clue(channel: "wechat"), from: .staff(claims)) }
        var unit = claims
        unit.role = .handlingUnit
        #expect(throws: APIError.self) { try SubmissionPolicy.check(try clue(channel: "staff-entry"), from: .staff(unit)) }
    }

    @Test func residentsUseThePublicChannels() throws {
        try SubmissionPolicy.check(try clue(channel: "web"), from: .resident(address: "10.0.0.1"))
        try SubmissionPolicy.check(try clue(channel: "qr-code"), from: .resident(address: "10.0.0.1"))
        #expect(throws: APIError.self) { try SubmissionPolicy.check(try clue(channel: "staff-entry"), from: .resident(address: "10.0.0.1")) }
        #expect(throws: APIError.self) { try SubmissionPolicy.check(try clue(channel: "open311"), from: .resident(address: "10.0.0.1")) }
    }
}
