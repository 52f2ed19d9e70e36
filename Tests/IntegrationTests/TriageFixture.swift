import Foundation
import IntakeService
import Messaging
import Models
import PostgresNIO
import ServiceKit
import Storage
import TestSupport
import TriageService

/// Intake and one or more triage instances on a database and topics of their own: clues enter
/// through intake's HTTP API and reach triage through the broker, as in production.
/// Districts: haizhu and tianhe, both members of the municipal tenant guangzhou.
final class TriageFixture: Sendable {
    let store: TestDatabase
    let kafka: KafkaConfiguration
    let apps: [ServiceApp]
    let tasks: [Task<Void, any Error>]
    let intake: String
    /// One base URL per triage instance.
    let triage: [String]
    let signer = StaffTokenSigner(secret: String(repeating: "s", count: 32))

    init(triageInstances: Int = 1) async throws {
        let store = try await TestDatabase(districts: ["haizhu": "海珠区", "tianhe": "天河区", "guangzhou": "广州市"])
        self.store = store
        try await store.execute(
            """
            UPDATE districts SET public_submission = true,
                tracking_prefix = CASE code WHEN 'haizhu' THEN 'HZ' WHEN 'tianhe' THEN 'TH' ELSE 'GZ' END,
                parent = CASE WHEN code = 'guangzhou' THEN NULL ELSE 'guangzhou' END,
                public_submissions_per_hour = 100000, current_session = 14
            """)
        let kafka = try TestEnvironment.kafka()
        self.kafka = kafka
        try TestEnvironment.createTopics(kafka)
        func configuration(_ service: ServiceName, _ instance: Int) -> ServiceConfiguration {
            ServiceConfiguration(
                service: service, instanceID: "\(service.rawValue)-\(instance)", httpPort: 0, database: store.configuration, kafka: kafka,
                logLevel: .warning, tokenSecret: String(repeating: "s", count: 32))
        }
        var apps = [try ServiceApp(IntakeService.definition, configuration: configuration(.intake, 0), handleSignals: false)]
        for instance in 0..<triageInstances {
            apps.append(try ServiceApp(TriageService.definition, configuration: configuration(.triage, instance), handleSignals: false))
        }
        self.apps = apps
        tasks = apps.map { app in Task { try await app.run() } }
        var bases: [String] = []
        for app in apps { bases.append("http://127.0.0.1:\(await app.listeningPort() ?? 0)") }
        intake = bases[0]
        triage = Array(bases.dropFirst())
    }

    func stop() async throws {
        for app in apps { await app.shutdown() }
        for task in tasks { try await task.value }
    }

    func token(_ role: StaffClaims.Role = .clueHandler, district: String = "haizhu", subject: String? = nil) throws -> String {
        try signer.token(
            for: StaffClaims(
                subject: subject ?? "\(role.rawValue)-1", role: role, district: DistrictCode(rawValue: district)!,
                expiresAt: Date().addingTimeInterval(3600)))
    }

    /// Submits a resident's clue through intake; returns its id.
    func submit(title: String, situation: String, suggestions: String, district: String = "haizhu", address: String? = nil) async throws -> UUID {
        var clue: [String: Any] = [
            "district": district, "title": title, "situationAnalysis": situation, "specificSuggestions": suggestions,
            "channel": "web", "sourceCategory": "online-platform", "consentToPublish": true,
        ]
        if let address {
            clue["contact"] = ["name": "王小明", "phone": "13800000000", "address": address]
        } else {
            clue["anonymous"] = true
        }
        let answer = try await sendHTTP(
            "POST", intake + "/v1/clues", body: try JSONSerialization.data(withJSONObject: clue), contentType: "application/json")
        guard answer.status == 201, let id = (answer.json["clueId"] as? String).flatMap(UUID.init(uuidString:)) else {
            throw FixtureError("submitting failed: \(answer.status) \(answer.text)")
        }
        return id
    }

    /// Waits until triage registered every clue.
    func awaitTriaged(_ ids: [UUID]) async throws {
        let registered = try await eventually(timeout: .seconds(60)) {
            try await store.integer("SELECT count(*)::int FROM triage_clues WHERE clue_id = ANY(\(ids))") == ids.count
        }
        guard registered else { throw FixtureError("triage did not register \(ids.count) clues in time") }
    }

    func call(_ method: String, _ path: String, json: Any? = nil, token: String, instance: Int = 0) async throws -> HTTPAnswer {
        try await sendHTTP(
            method, triage[instance] + path, body: try json.map { try JSONSerialization.data(withJSONObject: $0) },
            contentType: json == nil ? nil : "application/json", headers: ["Authorization": "Bearer \(token)"])
    }

    func string(_ query: PostgresQuery) async throws -> String? {
        try await store.database.transaction(.allDistricts) { transaction in
            for try await value in try await transaction.query(query).decode(String?.self) { return value }
            return nil
        }
    }

    /// The events of triage-events, decoded, once at least `count` arrived.
    func triageEvents(atLeast count: Int) async throws -> [EventEnvelope] {
        try await readTopic(kafka.topicName(TopicCatalogue.triageEvents.name), kafka: kafka, atLeast: count, settle: .milliseconds(500))
            .map { try EventEnvelope.decode(from: $0.value) }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Clues of the Haizhu pilot, and paraphrases of them.
enum PilotClues {
    static let ebike = (
        title: "电动自行车楼道充电安全隐患",
        situation: "老旧小区居民在楼道内为电动自行车充电，存在火灾隐患，夜间尤其危险。",
        suggestions: "建议在小区内建设集中充电桩，加强物业巡查，劝导居民不在楼道充电。"
    )
    static let ebikeParaphrase = (
        title: "老旧小区电动自行车楼道充电有安全隐患",
        situation: "居民在楼道内给电动自行车充电，存在火灾隐患，夜间尤其危险。",
        suggestions: "建议小区建设集中充电桩，加强物业巡查，劝导居民不要在楼道充电。"
    )
    static let canteen = (
        title: "社区长者饭堂排队时间长",
        situation: "港海社区长者饭堂午餐时段排队超过半小时，老人站立等候很辛苦。",
        suggestions: "建议增加供餐窗口，推行线上预约，设置老人休息座椅。"
    )
    static let metro = (
        title: "地铁站出口无障碍设施不足",
        situation: "地铁8号线某站出口没有无障碍电梯，轮椅使用者和推婴儿车的家长出行不便。",
        suggestions: "建议地铁集团在该出口加装无障碍电梯。"
    )
    static let noise = (
        title: "夜间施工噪音扰民",
        situation: "某工地夜间施工到凌晨，噪音严重影响周边居民休息。",
        suggestions: "建议加强夜间施工审批和噪音执法。"
    )
}
