import Foundation
import Testing

@testable import Models

@Suite struct EventEnvelopeTests {
    let haizhu = DistrictCode(rawValue: "haizhu")!
    let received = ClueReceived(
        clueID: UUID(), trackingNumber: TrackingNumber(rawValue: "HAIZHU-2026-000007"), channel: .wechat,
        sourceCategory: .streetStudio, isAnonymous: false, receivedAt: Date(timeIntervalSince1970: 1_795_000_000.125))

    @Test func roundTripKeepsEveryField() throws {
        let cause = try EventEnvelope(received, district: haizhu, occurredAt: Date(timeIntervalSince1970: 1_795_000_000.5))
        let triaged = ClueTriaged(
            clueID: received.clueID, domain: "public-safety", committee: "social-legal-ethnic-religious", urgency: .urgent,
            jurisdiction: .district, street: "南华西", ruleVersion: 3, rules: ["domain:public-safety", "urgency:danger"],
            groupID: UUID(), groupVoices: 2, startedGroup: false)
        let effect = try EventEnvelope(triaged, district: haizhu, occurredAt: Date(timeIntervalSince1970: 1_795_000_001.25), causedBy: cause)

        let decoded = try EventEnvelope.decode(from: effect.encoded())
        #expect(decoded == effect)
        #expect(decoded.type == "clue.triaged")
        #expect(decoded.schemaVersion == 1)
        #expect(decoded.correlationID == cause.eventID)
        #expect(decoded.causationID == cause.eventID)
        #expect(try decoded.decodePayload(as: ClueTriaged.self) == triaged)

        let original = try EventEnvelope.decode(from: cause.encoded())
        #expect(original.correlationID == original.eventID)
        #expect(original.causationID == nil)
        #expect(try original.decodePayload(as: ClueReceived.self) == received)
    }

    @Test func wireFormatUsesDocumentedNames() throws {
        let envelope = try EventEnvelope(received, district: haizhu, occurredAt: Date(timeIntervalSince1970: 0))
        let object = try #require(try JSONSerialization.jsonObject(with: envelope.encoded()) as? [String: Any])
        #expect(Set(object.keys) == ["eventId", "type", "schemaVersion", "district", "occurredAt", "correlationId", "payload"])
        #expect(object["occurredAt"] as? String == "1970-01-01T00:00:00.000Z")
        let payload = try #require(object["payload"] as? [String: Any])
        #expect(payload["trackingNumber"] as? String == "HAIZHU-2026-000007")
    }

    @Test func payloadCarriesNoPersonalData() throws {
        let envelope = try EventEnvelope(received, district: haizhu, occurredAt: Date())
        let text = String(decoding: try envelope.encoded(), as: UTF8.self)
        for field in ["name", "phone", "address", "contact"] {
            #expect(!text.lowercased().contains("\"\(field)"), "no \(field) field on a topic")
        }
    }

    @Test(arguments: [
        ("not json at all", "malformed JSON"),
        (#"{"type":"clue.received"}"#, "missing field eventId"),
        (
            #"{"eventId":"x","type":"t","schemaVersion":1,"district":"haizhu","occurredAt":"2026-01-01T00:00:00Z","correlationId":"00000000-0000-0000-0000-000000000000","payload":{}}"#,
            "invalid value at eventId"
        ),
        (
            #"{"eventId":"00000000-0000-0000-0000-000000000001","type":"t","schemaVersion":1,"district":"Hai Zhu","occurredAt":"2026-01-01T00:00:00Z","correlationId":"00000000-0000-0000-0000-000000000000","payload":{}}"#,
            "invalid value at district"
        ),
    ])
    func malformedEnvelopesAreRejectedWithAReason(input: String, reason: String) {
        #expect {
            try EventEnvelope.decode(from: Data(input.utf8))
        } throws: { error in
            guard case EnvelopeError.notAnEnvelope(let text) = error else { return false }
            return text.hasPrefix(reason)
        }
    }

    @Test func payloadOfAnotherTypeIsRefused() throws {
        let envelope = try EventEnvelope(received, district: haizhu, occurredAt: Date())
        #expect(throws: EnvelopeError.typeMismatch(expected: "clue.triaged v1", found: "clue.received v1")) {
            try envelope.decodePayload(as: ClueTriaged.self)
        }
    }

    @Test func catalogueNamesEveryTopicOnce() {
        let names = TopicCatalogue.all.map(\.name)
        #expect(Set(names).count == names.count)
        for service in ServiceName.allCases where service != .workbench {
            #expect(TopicCatalogue.output(of: service)?.producer == service)
        }
        #expect(TopicCatalogue.output(of: .workbench) == nil)
        #expect(TopicCatalogue.intakeEvents.accepts(type: "clue.received", version: 1))
        #expect(!TopicCatalogue.intakeEvents.accepts(type: "clue.received", version: 2))
        #expect(TopicCatalogue.inputs(of: .triage) == [TopicCatalogue.intakeEvents])
        #expect(TopicCatalogue.all.allSatisfy { $0.partitions >= 3 })
    }

    @Test(arguments: ["haizhu", "ab", "yue-xiu", "d2"])
    func validDistrictCodes(_ code: String) {
        #expect(DistrictCode(rawValue: code) != nil)
    }

    @Test(arguments: ["", "a", "Haizhu", "hai zhu", "-hz", "hz-", "海珠", String(repeating: "a", count: 33)])
    func invalidDistrictCodes(_ code: String) {
        #expect(DistrictCode(rawValue: code) == nil)
    }

    @Test func trackingNumbersArePadded() {
        #expect(TrackingNumber(prefix: "HZ", year: 2026, sequence: 42).rawValue == "HZ-2026-000042")
        #expect(TrackingNumber(prefix: "HZ", year: 2026, sequence: 1_234_567).rawValue == "HZ-2026-1234567")
    }
}

@Suite struct ComparableTextTests {
    @Test func theCommonScalarPathAgreesWithFullNormalisation() {
        let samples = [
            "电动自行车楼道充电，存在火灾隐患！建议：建设集中充电桩（ABC）。", "Ｆｕｌｌ－ｗｉｄｔｈ １２３ ＡＢＣ ａｂｃ", "Mixed CASE, ascii; 42!",
            "“引号”‘单引号’……——·、。《书名号》【括号】〔〕", "\t tabs\nand\r\nnewlines ", "", "，，，",
        ]
        for sample in samples {
            #expect(ComparableText.commonScalarsOnly(sample) == ComparableText.normalisedInFull(sample), "\(sample)")
            #expect(ComparableText.scalarValues(of: sample) == ComparableText.normalisedInFull(sample).unicodeScalars.map(\.value))
        }
        // Anything else takes the full path.
        for other in ["㈠ ① ﬁ é Ⅻ 〸", "한국어", "𠀀 rare ideograph"] {
            #expect(ComparableText.commonScalarsOnly(other) == nil)
            #expect(ComparableText.of(other) == ComparableText.normalisedInFull(other))
            #expect(ComparableText.scalarValues(of: other) == ComparableText.normalisedInFull(other).unicodeScalars.map(\.value))
        }
    }
}

@Suite struct WireFormTests {
    @Test func theOnePassWireFormDecodesToTheSameEnvelope() throws {
        let haizhu = DistrictCode(rawValue: "haizhu")!
        let cause = try EventEnvelope(
            ClueReceived(
                clueID: UUID(), trackingNumber: TrackingNumber(rawValue: "HZ-2026-000001"), channel: .web,
                sourceCategory: .community, isAnonymous: true, receivedAt: Date(timeIntervalSince1970: 1_795_000_000.5)),
            district: haizhu, occurredAt: Date(timeIntervalSince1970: 1_795_000_000.5))
        let payload = ClueRouted(clueID: UUID(), decisionID: UUID(), route: .specialCommittee, committee: "economy", purpose: .research)
        let id = UUID()
        let at = Date(timeIntervalSince1970: 1_795_000_100.25)
        let wire = try EventEnvelope.wireForm(payload, district: haizhu, occurredAt: at, eventID: id, causedBy: cause)
        let expected = try EventEnvelope(payload, district: haizhu, occurredAt: at, eventID: id, causedBy: cause)
        #expect(try EventEnvelope.decode(from: wire) == expected)
        #expect(try EventEnvelope.decode(from: wire).decodePayload(as: ClueRouted.self) == payload)
    }
}
