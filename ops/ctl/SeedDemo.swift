import ArgumentParser
import AsyncHTTPClient
import Foundation
import Models
import NIOCore
import NIOHTTP1
import Operations
import ServiceKit
import Storage

struct SeedDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-demo",
        abstract: "Load a realistic demo district: Haizhu's streets, committees, handling units, the six pilot topics and a few hundred clues.",
        discussion: """
            Writes the districts (guangzhou, haizhu) to the database, then goes through the running \\
            services' APIs like their users do: themed calls and clues to intake (clues through a \\
            demo integration key on the government-service app, WeChat and QR-code channels, and \\
            by staff), handling units and the 2026 calendar to assignment. Safe to run again: \\
            units and calls that exist are kept, and clues carry idempotency keys. The five special \\
            committees are the built-in classification rules' (经济委, 农业和农村委, 教科文卫体委, \\
            社会法制民族宗教委, 港澳台侨外事委). Needs DATABASE_URL and TOKEN_SECRET.
            """)

    @Option(help: "Intake's base URL.") var intakeURL = "http://127.0.0.1:8081"
    @Option(help: "Assignment's base URL.") var assignmentURL = "http://127.0.0.1:8083"
    @Option(help: "How many residents' clues to submit (beyond the featured ones).") var clues = 300
    @Option(help: "Clue submissions in flight at once.") var concurrency = 8

    func validate() throws {
        guard (0...100_000).contains(clues) else { throw ValidationError("--clues: 0 to 100000") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency: 1 to 64") }
        for (name, url) in [("--intake-url", intakeURL), ("--assignment-url", assignmentURL)] {
            guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https", parsed.host != nil else {
                throw ValidationError("\(name): an http(s) URL such as http://127.0.0.1:8081")
            }
        }
    }

    func run() async throws {
        let reader = EnvironmentReader()
        let secret = reader.string("TOKEN_SECRET", help: "at least 32 characters; the services' own")
        try reader.validate()
        let signer = StaffTokenSigner(secret: secret)
        func token(_ role: StaffClaims.Role, _ subject: String) throws -> String {
            try signer.token(
                for: StaffClaims(subject: subject, role: role, district: Self.district, unitID: nil, expiresAt: Date().addingTimeInterval(3600)))
        }
        let api = DemoAPI(intake: intakeURL.trimmingSuffix("/"), assignment: assignmentURL.trimmingSuffix("/"))
        let (clerk, committee) = (try token(.clueHandler, "seed-demo-clue-handler"), try token(.proposalsCommittee, "seed-demo-committee"))

        let key = try await withDatabase { database in try await Self.prepareDistricts(database) }
        print("districts: guangzhou 广州市 (municipal), haizhu 海珠区 (through train to guangzhou); integration key \(key.id)")

        let existingCalls = try await api.themedCalls()
        var calls: [Int: String] = [:]
        for (index, title) in HaizhuDemo.pilotTopics.enumerated() {
            if let id = existingCalls[title] {
                calls[index] = id
            } else {
                calls[index] = try await api.createThemedCall(title, token: clerk)
            }
        }
        print("themed calls (选题征集): the six pilot topics of 附件2")

        let administrator = try token(.administrator, "seed-demo-administrator")
        let registered = try await api.importRegister(HaizhuDemo.registerCSV, token: administrator)
        print("register: \(registered) members and street studios (委员、委员工作室)")

        var created = 0
        for unit in HaizhuDemo.units where try await api.createUnit(unit, token: committee) { created += 1 }
        try await api.saveCalendar(HaizhuDemo.calendar2026, token: committee)
        print("handling units: \(HaizhuDemo.units.count) (\(created) new); 2026 holiday calendar")

        let submissions = Self.submissions(count: clues, calls: calls)
        let bar = ProgressBar("submitting clues", total: submissions.count)
        var accepted = 0
        var refused: [String] = []
        try await withThrowingTaskGroup(of: String?.self) { group in
            var next = submissions.makeIterator()
            func submitNext() {
                guard let submission = next.next() else { return }
                group.addTask {
                    try await api.submit(submission, staffToken: clerk, key: key)
                }
            }
            for _ in 0..<concurrency { submitNext() }
            while let result = try await group.next() {
                if let problem = result { refused.append(problem) } else { accepted += 1 }
                bar.update(accepted + refused.count)
                submitNext()
            }
        }
        bar.finish()
        print("clues: \(accepted) accepted across \(HaizhuDemo.streets.count) streets" + (refused.isEmpty ? "" : ", \(refused.count) refused"))
        for problem in refused.prefix(5) { print("  refused: \(problem)") }
        if !refused.isEmpty { throw ExitCode.failure }
    }

    static let district = DistrictCode(rawValue: "haizhu")!

    /// The municipal tenant and Haizhu, and the demo's integration key (its secret is new on every run).
    static func prepareDistricts(_ database: Database) async throws -> (id: String, secret: String) {
        let secret = (0..<2).map { _ in UUID().uuidString.replacingOccurrences(of: "-", with: "") }.joined()
        try await database.transaction(.none) { transaction in
            for (code, name, prefix, open, parent) in [("guangzhou", "广州市", "GZ", false, nil), ("haizhu", "海珠区", "HZ", true, "guangzhou" as String?)]
            {
                try await transaction.execute(
                    """
                    INSERT INTO districts (code, name, tracking_prefix, public_submission, parent, current_session)
                    VALUES (\(code), \(name), \(prefix), \(open), \(parent), 14)
                    ON CONFLICT (code) DO NOTHING
                    """)
            }
            try await transaction.execute(
                """
                INSERT INTO integration_keys (key_id, districts, channels, requests_per_minute, secret, description)
                VALUES ('seed-demo', \(["haizhu"]), \(["government-service-app", "wechat", "qr-code"]), 100000, \(secret), 'proposals-ctl seed-demo')
                ON CONFLICT (key_id) DO UPDATE SET secret = excluded.secret
                """)
        }
        return ("seed-demo", secret)
    }

    struct Submission: Sendable {
        var index: Int
        var body: [String: JSONValue]
        /// Staff enter some clues (staff-entry); the platform sends the rest, signed.
        var byStaff: Bool
    }

    /// The featured clues, then `count` concerns spread over the streets, channels and months.
    static func submissions(count: Int, calls: [Int: String]) -> [Submission] {
        let channels = ["government-service-app", "wechat", "qr-code", "government-service-app", "wechat"]
        let surnames = ["王", "李", "张", "陈", "黄", "林", "何", "郭", "梁", "罗"]
        let staffSources = ["street-studio", "community", "committee-member", "direct-report-point", "consultation-activity"]
        var result = HaizhuDemo.featuredClues.enumerated().map { index, clue in
            Submission(
                index: index,
                body: [
                    "district": "haizhu", "title": .string(clue.title), "situationAnalysis": .string(clue.situation),
                    "specificSuggestions": .string(clue.suggestion), "channel": "government-service-app",
                    "anonymous": true, "consentToPublish": true,
                ], byStaff: false)
        }
        for number in 0..<count {
            let street = HaizhuDemo.streets[number % HaizhuDemo.streets.count]
            // Co-prime strides, so every street raises every concern sooner or later.
            let concern = HaizhuDemo.concerns[(number * 7 + number / HaizhuDemo.streets.count) % HaizhuDemo.concerns.count]
            func fill(_ text: String) -> String { text.replacingOccurrences(of: "{街}", with: street) }
            var body: [String: JSONValue] = [
                "district": "haizhu", "title": .string(fill(concern.title)), "situationAnalysis": .string(fill(concern.situation)),
                "specificSuggestions": .string(fill(concern.suggestion)), "consentToPublish": .bool(number % 4 != 0),
            ]
            if number % 3 == 0 {
                body["anonymous"] = true
            } else {
                body["anonymous"] = false
                body["contact"] = .object([
                    "name": .string(surnames[number % surnames.count] + (number % 2 == 0 ? "先生" : "女士")),
                    "phone": .string(String(format: "139%08d", 10_000_000 + number * 7919 % 89_999_999)),
                ])
            }
            if let pilot = concern.pilot, let call = calls[pilot] { body["themedCallId"] = .string(call) }
            let byStaff = number % 5 == 4
            if byStaff {
                // Staff enter what reached them in person: say where it came from.
                body["channel"] = "staff-entry"
                body["sourceCategory"] = .string(staffSources[number / 5 % staffSources.count])
                body["receiver"] = ["kind": "studio", "name": .string("\(street)街委员工作室")]
            } else {
                body["channel"] = .string(channels[number % channels.count])
            }
            result.append(Submission(index: HaizhuDemo.featuredClues.count + number, body: body, byStaff: byStaff))
        }
        return result
    }
}

/// The services' HTTP APIs as the demo uses them.
struct DemoAPI: Sendable {
    let intake: String
    let assignment: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private func send(_ method: HTTPMethod, _ url: String, body: JSONValue? = nil, headers: [String: String] = [:]) async throws -> (
        status: Int, body: JSONValue?
    ) {
        try await send(method, url, encoded: try body.map { try EventCoding.encoder.encode($0) }, headers: headers)
    }

    /// `encoded` as it goes out: a signed request signs exactly these bytes.
    private func send(
        _ method: HTTPMethod, _ url: String, encoded body: Data?, headers: [String: String],
        contentType: String = "application/json"
    ) async throws -> (status: Int, body: JSONValue?) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 4 << 20)
        let json = try? EventCoding.decoder.decode(JSONValue.self, from: Data(buffer: bytes))
        return (Int(response.status.code), json)
    }

    private func expect(_ result: (status: Int, body: JSONValue?), _ what: String, accepting: Set<Int> = [200, 201]) throws -> JSONValue? {
        guard accepting.contains(result.status) else {
            throw Failure(description: "\(what): HTTP \(result.status) \(result.body.map { "\($0)" } ?? "")")
        }
        return result.body
    }

    /// Haizhu's open themed calls by title.
    func themedCalls() async throws -> [String: String] {
        let body = try expect(await send(.GET, "\(intake)/v1/themed-calls?district=haizhu"), "listing themed calls")
        var calls: [String: String] = [:]
        if case .array(let items)? = body?["themedCalls"] {
            for item in items {
                if case .string(let title)? = item["title"], case .string(let id)? = item["id"] { calls[title] = id }
            }
        }
        return calls
    }

    func createThemedCall(_ title: String, token: String) async throws -> String {
        let body = try expect(
            await send(
                .POST, "\(intake)/v1/themed-calls", body: ["title": .string(title), "description": "海珠区政协“百姓提案”试点议题"],
                headers: ["Authorization": "Bearer \(token)"]), "creating themed call \(title)")
        guard case .string(let id)? = body?["id"] else { throw Failure(description: "creating themed call \(title): no id in the answer") }
        return id
    }

    /// True when created, false when a unit with its code exists.
    func createUnit(_ unit: DemoUnit, token: String) async throws -> Bool {
        let body: JSONValue = [
            "code": .string(unit.code), "name": .string(unit.name), "kind": .string(unit.kind),
            "domains": .array(unit.domains.map(JSONValue.string)), "keywords": .array(unit.keywords.map(JSONValue.string)),
            "contacts": [["name": "提案办理联络员", "phone": "020-00000000"]],
        ]
        let result = try await send(.POST, "\(assignment)/v1/assignment/units", body: body, headers: ["Authorization": "Bearer \(token)"])
        _ = try expect(result, "creating unit \(unit.code)", accepting: [201, 200, 409])
        return result.status != 409
    }

    func saveCalendar(_ days: [(date: String, kind: String, name: String)], token: String) async throws {
        let body: JSONValue = ["days": .array(days.map { ["date": .string($0.date), "kind": .string($0.kind), "name": .string($0.name)] })]
        _ = try expect(
            await send(.PUT, "\(assignment)/v1/assignment/calendar/2026", body: body, headers: ["Authorization": "Bearer \(token)"]),
            "saving the 2026 calendar")
    }

    /// The register of members and studios, as an administrator imports it; answers the count saved.
    func importRegister(_ csv: String, token: String) async throws -> Int {
        let result = try await send(
            .POST, "\(intake)/v1/intake/register/import", encoded: Data(csv.utf8),
            headers: ["Authorization": "Bearer \(token)"], contentType: "text/csv; charset=utf-8")
        let body = try expect(result, "importing the register")
        if case .object(let fields)? = body, case .array(let refused)? = fields["refused"], !refused.isEmpty {
            throw Failure(description: "importing the register: lines refused: \(refused)")
        }
        if case .object(let fields)? = body, case .number(let saved)? = fields["saved"] { return Int(saved) }
        return 0
    }

    /// Nil when accepted; otherwise why not (a 4xx names the field).
    func submit(_ submission: SeedDemo.Submission, staffToken: String, key: (id: String, secret: String)) async throws -> String? {
        let body = try EventCoding.encoder.encode(JSONValue.object(submission.body))
        var headers = ["Idempotency-Key": "seed-demo-haizhu-\(submission.index)"]
        if submission.byStaff {
            headers["Authorization"] = "Bearer \(staffToken)"
        } else {
            headers.merge(RequestSignature.headers(keyID: key.id, secret: key.secret, method: "POST", path: "/v1/clues", body: body)) { _, new in new
            }
        }
        let answer = try await send(.POST, "\(intake)/v1/clues", encoded: body, headers: headers)
        guard answer.status == 201 || answer.status == 200 else {
            return "clue \(submission.index): HTTP \(answer.status) \(answer.body.map { "\($0)" } ?? "")"
        }
        return nil
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
