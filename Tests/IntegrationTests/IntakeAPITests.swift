import Foundation
import Messaging
import Models
import ServiceKit
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Intake through HTTP, against the real database and broker.
@Suite(.timeLimit(.minutes(3)))
struct IntakeAPITests {
    @Test func acceptedClueGetsATrackingNumberAReceiptAndOneEvent() async throws {
        let intake = try await IntakeFixture()
        let answer = try await intake.post("/v1/clues", json: residentClue(1))
        #expect(answer.status == 201)
        let number = try #require(answer.json["trackingNumber"] as? String)
        let token = try #require(answer.json["receiptToken"] as? String)
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "Asia/Shanghai")!, from: Date()).year!
        #expect(number == "HZ-\(year)-000001")
        #expect(answer.header("Location") == "/v1/clues/\(number)")

        let status = try await intake.send("GET", "/v1/clues/\(number)", headers: ["X-Receipt-Token": token])
        #expect(status.status == 200)
        #expect(status.json["status"] as? String == "received")
        #expect(status.json["title"] as? String == "电动自行车楼道充电隐患 1")

        // No token, a wrong token and an unknown number look the same.
        let noToken = try await intake.send("GET", "/v1/clues/\(number)")
        let wrongToken = try await intake.send("GET", "/v1/clues/\(number)", headers: ["X-Receipt-Token": token + "x"])
        let unknown = try await intake.send("GET", "/v1/clues/HZ-\(year)-999999", headers: ["X-Receipt-Token": token])
        #expect(noToken.status == 404 && wrongToken.status == 404 && unknown.status == 404)
        #expect(noToken.body == unknown.body && wrongToken.body == unknown.body)

        // The clue-received event reaches the topic exactly once.
        let messages = try await readTopic(
            intake.kafka.topicName(TopicCatalogue.intakeEvents.name), kafka: intake.kafka, atLeast: 1, settle: .seconds(2))
        #expect(messages.count == 1)
        let event = try EventEnvelope.decode(from: try #require(messages.first).value)
        let payload = try event.decodePayload(as: ClueReceived.self)
        #expect(payload.trackingNumber.rawValue == number)
        #expect(payload.consentToPublish)
        try await intake.stop()
    }

    /// What a resident attached is read by the district's office: listed, and downloaded with its
    /// stored media type as an attachment that no browser sniffs; not by members, studios or units,
    /// nor by another district.
    @Test func theOfficeDownloadsAClueAttachment() async throws {
        let intake = try await IntakeFixture()
        let photo = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4])
        let answer = try await intake.post(
            "/v1/clues",
            json: residentClue(
                7,
                extra: [
                    "attachments": [["name": "楼道 照片.png", "mediaType": "image/png", "content": photo.base64EncodedString()]]
                ]))
        #expect(answer.status == 201, "\(answer.text)")
        let number = try #require(answer.json["trackingNumber"] as? String)
        let office = ["Authorization": "Bearer \(try intake.staffToken(.clueHandler))"]
        let listed = try await intake.send("GET", "/v1/clues/\(number)/attachments", headers: office)
        #expect(listed.status == 200 && listed.text.contains("楼道 照片.png") && listed.text.contains("image/png"), "\(listed.text)")
        let file = try await intake.send("GET", "/v1/clues/\(number)/attachments/0", headers: office)
        #expect(file.status == 200 && file.body == photo)
        #expect(file.header("Content-Type") == "image/png" && file.header("X-Content-Type-Options") == "nosniff")
        #expect(file.header("Content-Disposition")?.hasPrefix("attachment; filename*=UTF-8''") == true)
        #expect(try await intake.send("GET", "/v1/clues/\(number)/attachments/1", headers: office).status == 404)
        let studio = ["Authorization": "Bearer \(try intake.staffToken(.memberStudio))"]
        #expect(try await intake.send("GET", "/v1/clues/\(number)/attachments/0", headers: studio).status == 403)
        let elsewhere = ["Authorization": "Bearer \(try intake.staffToken(.clueHandler, district: "tianhe"))"]
        #expect(try await intake.send("GET", "/v1/clues/\(number)/attachments/0", headers: elsewhere).status == 404)
        #expect(try await intake.send("GET", "/v1/clues/\(number)/attachments/0").status == 401)
        try await intake.stop()
    }

    @Test func idempotentRetryReturnsTheFirstAnswerAndAnotherBodyIs422() async throws {
        let intake = try await IntakeFixture()
        let token = try intake.staffToken()
        let clue = residentClue(
            2, extra: ["channel": "staff-entry", "sourceCategory": "street-studio", "receiver": ["kind": "studio", "name": "沙园街委员工作室"]])
        let headers = ["Authorization": "Bearer \(token)", "Idempotency-Key": "studio-2026-11-001"]
        let body = try JSONSerialization.data(withJSONObject: clue, options: .sortedKeys)
        let first = try await intake.send("POST", "/v1/clues", body: body, contentType: "application/json", headers: headers)
        let again = try await intake.send("POST", "/v1/clues", body: body, contentType: "application/json", headers: headers)
        #expect(first.status == 201)
        #expect(again.status == 201)
        #expect(first.body == again.body, "the retry gets the first answer, receipt token included")
        let receiptToken = try #require(first.json["receiptToken"] as? String)
        #expect(
            try await intake.store.integer(
                """
                SELECT count(*)::int FROM idempotency_keys WHERE position(convert_to(\(receiptToken), 'UTF8') in response_body) > 0
                """) == 0, "the stored answer keeps no receipt token")
        let number = try #require(first.json["trackingNumber"] as? String)
        #expect(try await intake.send("GET", "/v1/clues/\(number)", headers: ["X-Receipt-Token": receiptToken]).status == 200)

        var changed = clue
        changed["title"] = "另一个标题"
        let other = try await intake.send(
            "POST", "/v1/clues", body: try JSONSerialization.data(withJSONObject: changed), contentType: "application/json", headers: headers)
        #expect(other.status == 422)
        #expect(other.errorField == "Idempotency-Key")
        #expect(try await intake.count("clues") == 1)

        // Concurrent retries of one key: still one clue.
        let concurrentKey = ["Authorization": "Bearer \(token)", "Idempotency-Key": "studio-2026-11-002"]
        let concurrentBody = try JSONSerialization.data(
            withJSONObject: residentClue(
                3, extra: ["channel": "staff-entry", "sourceCategory": "street-studio", "receiver": ["kind": "member", "name": "张委员"]]))
        let answers = try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    try await intake.send("POST", "/v1/clues", body: concurrentBody, contentType: "application/json", headers: concurrentKey)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(answers.map(\.status)) == [201])
        #expect(Set(answers.map(\.body)).count == 1)
        #expect(try await intake.count("clues") == 2)
        let messages = try await readTopic(
            intake.kafka.topicName(TopicCatalogue.intakeEvents.name), kafka: intake.kafka, atLeast: 2, settle: .seconds(2))
        #expect(messages.count == 2, "one event per clue, however often it was retried")
        try await intake.stop()
    }

    @Test func aRequestCutOffMidBodyStoresNothingAndAClientGoneBeforeTheAnswerGetsItOnRetry() async throws {
        let intake = try await IntakeFixture()
        let body = try JSONSerialization.data(withJSONObject: residentClue(7))

        // Cut off: half the body of what the headers announce, then the connection closes.
        try HangingUpClient.send(HangingUpClient.clueRequest(body, key: "cut-1", cutOff: true), to: intake.base)
        try await Task.sleep(for: .seconds(1))
        #expect(try await intake.count("clues") == 0, "nothing is stored of a request that never arrived whole")

        // Whole, but the client hangs up before the answer: the clue is stored once, and the retry
        // with the same key gets the first answer rather than a second clue.
        try HangingUpClient.send(HangingUpClient.clueRequest(body, key: "gone-1"), to: intake.base)
        #expect(try await eventually(timeout: .seconds(10)) { try await intake.count("clues") == 1 }, "the request that arrived whole is stored")
        let retried = try await intake.send("POST", "/v1/clues", body: body, contentType: "application/json", headers: ["Idempotency-Key": "gone-1"])
        #expect(retried.status == 201, "the first answer, replayed: \(retried.text)")
        let stored = try #require(try await intake.store.string("SELECT tracking_number FROM clues", scope: .allDistricts))
        #expect(retried.json["trackingNumber"] as? String == stored)
        #expect(try await intake.count("clues") == 1, "stored once")
        // The cut-off key was never used: sending it whole now stores its clue.
        #expect(try await intake.post("/v1/clues", json: residentClue(8), headers: ["Idempotency-Key": "cut-1"]).status == 201)
        #expect(try await intake.count("clues") == 2)
        try await intake.stop()
    }

    @Test func theSameContactSendingTheSameTextAgainGetsTheFirstNumber() async throws {
        let intake = try await IntakeFixture()
        let contact: [String: Any] = ["anonymous": false, "contact": ["name": "李女士", "phone": "13912345678", "address": "海珠区琶洲街"]]
        let first = try await intake.post("/v1/clues", json: residentClue(4, extra: contact))
        var punctuated = residentClue(4, extra: contact)
        punctuated["specificSuggestions"] = "建设集中充电桩，并加强巡查（第4条）！"
        var otherPhoneFormat = contact
        otherPhoneFormat["contact"] = ["name": "李女士", "phone": "+86 139-1234-5678"]
        let again = try await intake.post("/v1/clues", json: residentClue(4, extra: otherPhoneFormat))
        let near = try await intake.post("/v1/clues", json: punctuated)
        #expect(first.status == 201)
        #expect(again.status == 200 && near.status == 200)
        #expect(again.json["resubmission"] as? Bool == true)
        #expect(again.json["trackingNumber"] as? String == first.json["trackingNumber"] as? String)
        #expect(near.json["trackingNumber"] as? String == first.json["trackingNumber"] as? String)
        #expect(again.json["receiptToken"] as? String != first.json["receiptToken"] as? String)
        // Both receipts open the clue.
        for answer in [first, again] {
            let number = answer.json["trackingNumber"] as? String ?? "none"
            let status = try await intake.send(
                "GET", "/v1/clues/\(number)", headers: ["X-Receipt-Token": answer.json["receiptToken"] as? String ?? ""])
            #expect(status.status == 200)
        }
        let different = try await intake.post("/v1/clues", json: residentClue(5, extra: contact))
        #expect(different.status == 201)
        #expect(try await intake.count("clues") == 2)

        // Two identical submissions at the same moment still make one clue.
        let body = try JSONSerialization.data(withJSONObject: residentClue(6, extra: contact))
        async let one = intake.send("POST", "/v1/clues", body: body, contentType: "application/json")
        async let two = intake.send("POST", "/v1/clues", body: body, contentType: "application/json")
        let both = try await [one, two]
        #expect(both.map(\.status).sorted() == [200, 201])
        #expect(try await intake.count("clues") == 3)
        try await intake.stop()
    }

    @Test func trackingNumbersAreUniqueUnderConcurrentWriters() async throws {
        let intake = try await IntakeFixture()
        let token = try intake.staffToken()
        // 1,600 clues from eight writers at once: enough collisions on the sequence, and done well
        // inside the time limit while the heavy suites run beside it on two cores (4,000 took 179 s).
        let writers = 8, perWriter = 200
        let numbers = try await withThrowingTaskGroup(of: [String].self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var numbers: [String] = []
                    for index in 0..<perWriter {
                        let clue = residentClue(
                            writer * perWriter + index,
                            extra: [
                                "channel": "staff-entry", "sourceCategory": "committee-member",
                                "receiver": ["kind": "member", "name": "委员\(writer)"],
                            ])
                        let answer = try await intake.post("/v1/clues", json: clue, headers: ["Authorization": "Bearer \(token)"])
                        guard answer.status == 201, let number = answer.json["trackingNumber"] as? String else {
                            Issue.record("writer \(writer) got \(answer.status): \(answer.text)")
                            continue
                        }
                        numbers.append(number)
                    }
                    return numbers
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(numbers.count == writers * perWriter)
        #expect(Set(numbers).count == numbers.count, "no number is given twice")
        // Each year numbers from 1 (a run over New Year has two series): consecutive in each.
        let byYear = Dictionary(grouping: numbers) { $0.split(separator: "-")[1] }
        for (year, inYear) in byYear {
            let sequences = inYear.compactMap { Int($0.split(separator: "-").last!) }.sorted()
            #expect(sequences == Array(1...inYear.count), "numbers of \(year) are consecutive: none skipped, none reused")
        }
        #expect(try await intake.count("clues") == writers * perWriter)
        try await intake.stop()
    }
}
