import Foundation
import IntakeService
import Messaging
import Models
import PostgresNIO
import ServiceKit
import Storage
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// An HTTP answer as the tests look at it.
struct HTTPAnswer {
    var status: Int
    var body: Data
    var headers: [String: String]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (or the first element of a JSON array).
    var json: [String: Any] {
        let value = try? JSONSerialization.jsonObject(with: body)
        return (value as? [String: Any]) ?? ((value as? [Any])?.first as? [String: Any]) ?? [:]
    }

    /// `error.field` and `error.code` of a JSON error body.
    var errorField: String? { (json["error"] as? [String: Any])?["field"] as? String }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }

    func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }
}

/// The intake service running on its own database and topics, with credentials to call it.
final class IntakeFixture: Sendable {
    let store: TestDatabase
    let kafka: KafkaConfiguration
    let app: ServiceApp
    let task: Task<Void, any Error>
    let base: String
    let signer = StaffTokenSigner(secret: String(repeating: "s", count: 32))

    /// `environment`: intake's own settings, e.g. `INTAKE_MAX_BODY_BYTES`.
    init(environment: [String: String] = [:]) async throws {
        store = try await TestDatabase(districts: ["haizhu": "海珠区", "tianhe": "天河区", "yuexiu": "越秀区"])
        try await store.execute(
            """
            UPDATE districts SET tracking_prefix = upper(left(code, 1)) || upper(substr(code, 4, 1)),
                public_submission = code <> 'tianhe', public_submissions_per_hour = CASE code WHEN 'yuexiu' THEN 2 ELSE 100000 END
            """)
        kafka = try TestEnvironment.kafka()
        try TestEnvironment.createTopics(kafka)
        let configuration = ServiceConfiguration(
            service: .intake, instanceID: "intake-test", httpPort: 0, database: store.configuration, kafka: kafka,
            logLevel: .warning, tokenSecret: String(repeating: "s", count: 32), environment: environment)
        let app = try ServiceApp(IntakeService.definition, configuration: configuration, handleSignals: false)
        self.app = app
        task = Task { try await app.run() }
        base = "http://127.0.0.1:\(await app.listeningPort() ?? 0)"
    }

    func stop() async throws {
        await app.shutdown()
        try await task.value
    }

    func staffToken(_ role: StaffClaims.Role = .memberStudio, district: String = "haizhu") throws -> String {
        try signer.token(
            for: StaffClaims(
                subject: "\(role.rawValue)-1", role: role, district: DistrictCode(rawValue: district)!, expiresAt: Date().addingTimeInterval(3600)))
    }

    /// Creates an integration key and returns its secret.
    func integrationKey(
        _ keyID: String, districts: [String] = ["haizhu"], channels: [String] = ["wechat", "government-service-app", "open311"], perMinute: Int = 600
    ) async throws -> String {
        let secret = "secret-\(keyID)-0123456789abcdef"
        try await store.execute(
            """
            INSERT INTO integration_keys (key_id, districts, channels, requests_per_minute, secret)
            VALUES (\(keyID), \(districts), \(channels), \(perMinute), \(secret))
            """)
        return secret
    }

    func send(_ method: String, _ path: String, body: Data? = nil, contentType: String? = nil, headers: [String: String] = [:]) async throws
        -> HTTPAnswer
    {
        try await sendHTTP(method, base + path, body: body, contentType: contentType, headers: headers)
    }

    func post(_ path: String, json: Any, headers: [String: String] = [:]) async throws -> HTTPAnswer {
        try await send("POST", path, body: try JSONSerialization.data(withJSONObject: json), contentType: "application/json", headers: headers)
    }

    /// A signed integration request.
    func signed(_ method: String, _ path: String, keyID: String, secret: String, json: Any) async throws -> HTTPAnswer {
        let body = try JSONSerialization.data(withJSONObject: json)
        let headers = RequestSignature.headers(keyID: keyID, secret: secret, method: method, path: path, body: body)
        return try await send(method, path, body: body, contentType: "application/json", headers: headers)
    }

    func count(_ table: String) async throws -> Int {
        try await store.integer(PostgresQueryText.count(table))
    }
}

/// One HTTP exchange with a service under test.
func sendHTTP(_ method: String, _ url: String, body: Data? = nil, contentType: String? = nil, headers: [String: String] = [:]) async throws
    -> HTTPAnswer
{
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    request.httpBody = body
    if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as! HTTPURLResponse
    var fields: [String: String] = [:]
    for (name, value) in http.allHeaderFields { fields["\(name)"] = "\(value)" }
    return HTTPAnswer(status: http.statusCode, body: data, headers: fields)
}

/// A resident's clue as JSON, different text for each `index`.
func residentClue(_ index: Int = 0, district: String = "haizhu", extra: [String: Any] = [:]) -> [String: Any] {
    var clue: [String: Any] = [
        "district": district, "title": "电动自行车楼道充电隐患 \(index)", "situationAnalysis": "老旧小区居民在楼道内充电，存在火灾隐患。",
        "specificSuggestions": "建设集中充电桩并加强巡查（第\(index)条）", "anonymous": true, "consentToPublish": true,
    ]
    for (key, value) in extra { clue[key] = value }
    return clue
}

enum PostgresQueryText {
    static func count(_ table: String) -> PostgresQuery { PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)") }
}
