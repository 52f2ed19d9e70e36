import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

/// An entry as sent to `PUT /v1/intake/register/:code`.
struct RegisterEntryInput: Decodable, Sendable {
    var kind: String?
    var name: String?
    var sector: String?
    var specialCommittee: String?
    var studio: String?
    var street: String?
    var active: Bool?
}

/// A free-text receiver of clues received before the register, with the closest entries.
struct UnmatchedReceiver: Codable, Sendable {
    var kind: Receiver.Kind
    var receivedName: String
    var clues: Int
    var closest: [String]
}

/// The answer to a register import: counts, then each refused line with its reason.
struct RegisterImportAnswer: Codable, Sendable {
    struct Refusal: Codable, Sendable {
        /// The line in the file, the header being line 1.
        var line: Int
        var code: String?
        var message: String
    }

    var saved = 0
    var refused: [Refusal] = []
}

/// The register of members and studios (委员、委员工作室) of each district: kept by its
/// administrators, read when a clue names its receiver.
struct RegisterRepository: Sendable {
    let database: Database
    /// Each district's register as crediting reads it: a clue with a receiver would otherwise
    /// cost a transaction more. Changes made through this instance are seen at once; another
    /// instance's within `cacheLifetime`.
    private let cached: Remembered<[RegisterEntry]>
    static let cacheLifetime: Duration = .seconds(2)

    init(database: Database) {
        self.database = database
        cached = Remembered(lifetime: Self.cacheLifetime, capacity: 1_000)
    }

    func entries(of district: DistrictCode) async throws -> [RegisterEntry] {
        try await database.transaction(.district(district)) { try await RegisterEntries.all(in: $0) }
    }

    /// The receiver a clue is credited to (see `RegisterLookup.credit`); refused with a 422 naming `field`.
    func credit(_ receiver: Receiver, in district: DistrictCode, field: String) async throws -> Receiver {
        let register = try await cached.value(for: district.rawValue) { try await entries(of: district) }
        return try Self.credit(receiver, in: register, field: field)
    }

    func changed(_ district: DistrictCode) { cached.forget(district.rawValue) }

    static func credit(_ receiver: Receiver, in register: [RegisterEntry], field: String) throws(APIError) -> Receiver {
        switch RegisterLookup.credit(receiver, in: register) {
        case .success(let credited): return credited
        case .failure(let refusal): throw APIError.invalid(field, refusal.message)
        }
    }

    /// Adds or changes one entry; a member's studio is given by its code or its name.
    func save(_ code: String, _ input: RegisterEntryInput, by claims: StaffClaims) async throws -> RegisterEntry {
        guard let kindText = input.kind, let kind = Receiver.Kind(rawValue: kindText) else {
            throw APIError.invalid("kind", "must be member or studio")
        }
        let name = try FieldText.required(input.name, "name", limit: 100, multiline: false)
        func optional(_ text: String?, _ field: String) throws(APIError) -> String? {
            try FieldText.optional(text, field, limit: 100, multiline: false)
        }
        defer { changed(claims.district) }
        var entry = RegisterEntry(
            code: code, kind: kind, name: name, sector: try optional(input.sector, "sector"),
            specialCommittee: try optional(input.specialCommittee, "specialCommittee"),
            street: try optional(input.street, "street"), active: input.active ?? true)
        return try await database.transaction(.district(claims.district)) { transaction in
            let register = try await RegisterEntries.all(in: transaction)
            if let studio = try optional(input.studio, "studio") { entry.studio = try Self.studio(studio, in: register, field: "studio") }
            if let problem = entry.problems(studios: Set(register.filter { $0.kind == .studio }.map(\.code))).first {
                throw APIError.invalid(problem.field, problem.message)
            }
            let before = register.first { $0.code == code }
            if let before, before.kind != kind, try await Self.isUsed(code, in: transaction) {
                throw APIError.invalid("kind", "“\(before.name)”（\(code)）已有线索记在名下，不能改变类型")
            }
            try await Self.upsert([entry], by: claims.subject, in: transaction)
            try await AuditTrail.record(
                before == nil ? "register-entry-added" : "register-entry-changed", "register-entry", code,
                before: before.flatMap(AuditTrail.json), after: AuditTrail.json(entry), district: claims.district,
                in: transaction)
            return entry
        }
    }

    /// A member's studio as written, as a studio's code.
    static func studio(_ text: String, in register: [RegisterEntry], field: String) throws(APIError) -> String {
        switch RegisterLookup.resolve(text, kind: .studio, in: register) {
        // A member may stay recorded with a studio that has closed.
        case .found(let studio), .inactive(let studio): return studio.code
        case .ambiguous(let codes): throw APIError.invalid(field, "有多个名为“\(text)”的工作室，请填写编号：\(codes.joined(separator: "、"))")
        case .unknown(let closest):
            throw APIError.invalid(field, "登记册中没有名为“\(text)”的工作室" + (closest.isEmpty ? "" : "；最接近的：" + closest.joined(separator: "、")))
        }
    }

    static func isUsed(_ code: String, in transaction: Transaction) async throws -> Bool {
        for try await _ in try await transaction.query("SELECT 1 FROM clues WHERE receiver_code = \(code) LIMIT 1") { return true }
        return false
    }

    static func upsert(_ entries: [RegisterEntry], by subject: String, in transaction: Transaction) async throws {
        guard !entries.isEmpty else { return }
        try await transaction.execute(
            """
            INSERT INTO register_entries (district, code, kind, name, sector, special_committee, studio_code, street, active, updated_at, updated_by)
            SELECT current_setting('app.district'), e.code, e.kind, e.name, nullif(e.sector, ''), nullif(e.special_committee, ''),
                   nullif(e.studio_code, ''), nullif(e.street, ''), e.active, now(), \(subject)
            FROM unnest(\(entries.map(\.code))::text[], \(entries.map(\.kind.rawValue))::text[], \(entries.map(\.name))::text[],
                        \(entries.map { $0.sector ?? "" })::text[], \(entries.map { $0.specialCommittee ?? "" })::text[],
                        \(entries.map { $0.studio ?? "" })::text[], \(entries.map { $0.street ?? "" })::text[], \(entries.map(\.active))::boolean[])
                 AS e(code, kind, name, sector, special_committee, studio_code, street, active)
            ON CONFLICT (district, code) DO UPDATE SET
                kind = excluded.kind, name = excluded.name, sector = excluded.sector, special_committee = excluded.special_committee,
                studio_code = excluded.studio_code, street = excluded.street, active = excluded.active,
                updated_at = excluded.updated_at, updated_by = excluded.updated_by
            """)
    }

    /// A register as CSV: each line added or changed by its code; a line that cannot be read is
    /// refused with its reason and the others are kept. Entries the file leaves out are kept.
    func importCSV(_ csv: String, by claims: StaffClaims) async throws -> RegisterImportAnswer {
        var reader = CSVRecords(maximumFieldBytes: 1_024)
        let records = reader.feed(Array(csv.utf8)) + reader.finish()
        guard case .success(let header)? = records.first else { throw APIError.invalid("file", "首行须为列名（编号、类型、姓名/名称……）") }
        let layout: [RegisterRows.Column: Int]
        switch RegisterRows.layout(header: header) {
        case .success(let found): layout = found
        case .failure(let refusal): throw APIError.invalid("file", refusal.message)
        }
        guard records.count <= 5_001 else { throw APIError.invalid("file", "一次至多导入 5,000 行") }
        defer { changed(claims.district) }
        return try await database.transaction(.district(claims.district)) { transaction in
            var register = try await RegisterEntries.all(in: transaction)
            var answer = RegisterImportAnswer()
            var saved: [String: RegisterEntry] = [:]
            // Studios first, so a member's line may name a studio further down the file.
            let lines = records.enumerated().dropFirst().map { (line: $0.offset + 1, record: $0.element) }
            var parsed: [(line: Int, entry: RegisterEntry, studio: String?)] = []
            for (line, record) in lines {
                guard case .success(let fields) = record else {
                    answer.refused.append(.init(line: line, message: "这一行无法读取（引号不成对或编码不是 UTF-8）"))
                    continue
                }
                if fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
                switch RegisterRows.entry(fields, layout: layout) {
                case .success(let row): parsed.append((line, row.entry, row.studio))
                case .failure(let refusal): answer.refused.append(.init(line: line, message: refusal.message))
                }
            }
            func merge(_ entry: RegisterEntry) {
                register.removeAll { $0.code == entry.code }
                register.append(entry)
            }
            for row in parsed where row.entry.kind == .studio && row.entry.problems(studios: []).isEmpty { merge(row.entry) }
            for row in parsed {
                var entry = row.entry
                do {
                    if let studio = row.studio, entry.kind == .member { entry.studio = try Self.studio(studio, in: register, field: "studio") }
                    if let problem = entry.problems(studios: Set(register.filter { $0.kind == .studio }.map(\.code))).first {
                        throw APIError.invalid(problem.field, problem.message)
                    }
                    if let earlier = saved[entry.code] { throw APIError.invalid("code", "编号 \(entry.code) 在文件中重复（\(earlier.name)）") }
                    saved[entry.code] = entry
                    merge(entry)
                } catch let error as APIError {
                    answer.refused.append(.init(line: row.line, code: entry.code, message: error.message))
                }
            }
            answer.refused.sort { $0.line < $1.line }
            let accepted = parsed.compactMap { saved[$0.entry.code] }.reduce(into: [RegisterEntry]()) { list, entry in
                if !list.contains(where: { $0.code == entry.code }) { list.append(entry) }
            }
            try await Self.upsert(accepted, by: claims.subject, in: transaction)
            answer.saved = accepted.count
            try await AuditTrail.record(
                "register-imported", "register", claims.district.rawValue,
                after: AuditTrail.json(["saved": accepted.count, "refused": answer.refused.count]),
                district: claims.district, in: transaction)
            return answer
        }
    }

    /// Receivers of clues that no entry is credited with (received before the register), by
    /// name, with the closest entries: for a person to map, never guessed.
    func unmatched(in district: DistrictCode) async throws -> [UnmatchedReceiver] {
        try await database.transaction(.district(district)) { transaction in
            let register = try await RegisterEntries.all(in: transaction)
            var unmatched: [UnmatchedReceiver] = []
            for try await (kind, name, count) in try await transaction.query(
                """
                SELECT receiver_kind, receiver_name, count(*)::int FROM clues
                WHERE receiver_code IS NULL AND receiver_kind IS NOT NULL AND receiver_name IS NOT NULL
                GROUP BY 1, 2 ORDER BY 3 DESC, 2
                """
            ).decode((String, String, Int).self) {
                guard let kind = Receiver.Kind(rawValue: kind) else { continue }
                let closest: [String] =
                    switch RegisterLookup.resolve(name, kind: kind, in: register) {
                    case .found(let entry), .inactive(let entry): [entry.name]
                    case .unknown(let names): names
                    case .ambiguous: [name]
                    }
                unmatched.append(UnmatchedReceiver(kind: kind, receivedName: name, clues: count, closest: closest))
            }
            return unmatched
        }
    }

    /// Maps a free-text receiver to an entry, reviewed by the person asking: its past clues are
    /// credited to the entry from now on. Answers how many clues were credited.
    func map(kind: Receiver.Kind, receivedName: String, to code: String, by claims: StaffClaims) async throws -> Int {
        defer { changed(claims.district) }
        return try await database.transaction(.district(claims.district)) { transaction in
            guard let entry = try await RegisterEntries.all(in: transaction).first(where: { $0.code == code }) else {
                throw APIError.invalid("code", "登记册中没有编号 \(code)")
            }
            guard entry.kind == kind else { throw APIError.invalid("code", "\(entry.name)（\(code)）不是\(kind == .studio ? "工作室" : "委员")") }
            try await transaction.execute(
                """
                INSERT INTO receiver_mappings (district, kind, received_name, code, reviewed_by)
                VALUES (current_setting('app.district'), \(kind.rawValue), \(receivedName), \(code), \(claims.subject))
                ON CONFLICT (district, kind, received_name) DO UPDATE SET code = excluded.code, reviewed_by = excluded.reviewed_by, reviewed_at = now()
                """)
            var credited = 0
            // A member's studio at the time is not known for these clues; a studio's own clue is its own.
            for try await count in try await transaction.query(
                """
                WITH credited AS (
                    UPDATE clues SET receiver_code = \(code), receiver_studio_code = \(entry.kind == .studio ? code : nil)
                    WHERE receiver_code IS NULL AND receiver_kind = \(kind.rawValue) AND receiver_name = \(receivedName)
                    RETURNING 1)
                SELECT count(*)::int FROM credited
                """
            ).decode(Int.self) { credited = count }
            try await AuditTrail.record(
                "receiver-mapped", "register-entry", code,
                after: AuditTrail.json(["receivedName": receivedName, "kind": kind.rawValue, "clues": String(credited)]),
                district: claims.district, in: transaction)
            return credited
        }
    }
}
