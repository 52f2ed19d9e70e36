import EventPipeline
import Foundation
import Logging
import Models
import PostgresNIO
import Storage
import Synchronization

/// A clue arriving in a district's clue database: from intake, or up the through train.
struct IncomingClue: Sendable {
    var id: UUID
    var trackingNumber: String
    var channel: String
    var receivedAt: Date
    var sourceCategory: String
    var themedCallID: UUID?
    var text: ClueText
    var linkedFromClueID: UUID?
    /// The event that brought it, for the correlation chain.
    var cause: EventEnvelope?
}

/// Each district's rules in force, compiled once per version. Staff saving a new version is
/// seen by the next batch on every instance (the version is read with each batch).
final class RuleBook: Sendable {
    private let compiled = Mutex<[DistrictCode: (version: Int, rules: CompiledRuleSet)]>([:])
    let builtIn: CompiledRuleSet
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
        do {
            builtIn = try RuleSet.builtIn.compile()
        } catch {
            fatalError("the built-in classification rules do not compile: \(error)")
        }
    }

    /// The district's rules of `version` (0: the built-in rules).
    func rules(for district: DistrictCode, version: Int, in transaction: Transaction) async throws -> CompiledRuleSet {
        guard version > 0 else { return builtIn }
        if let cached = compiled.withLock({ $0[district] }), cached.version == version { return cached.rules }
        var definition: String?
        let rows = try await transaction.query("""
            SELECT definition::text FROM classification_rule_sets WHERE district = \(district.rawValue) AND version = \(version)
            """)
        for try await text in rows.decode(String.self) { definition = text }
        let rules: CompiledRuleSet
        do {
            let ruleSet = try JSONDecoder().decode(RuleSet.self, from: Data((definition ?? "").utf8))
            rules = try ruleSet.compile()
        } catch {
            // Rules are validated when saved; a stored set that no longer compiles must not stop triage.
            logger.error("rules v\(version) of \(district) do not compile, using the built-in rules: \(error)")
            rules = builtIn
        }
        compiled.withLock { $0[district] = (version, rules) }
        return rules
    }
}

/// Puts arriving clues into the district's clue database: classifies them with the district's
/// rules, groups them with their near-duplicates, stores them and announces them.
///
/// Grouping decisions of one district are serialised by a transaction-scoped advisory lock,
/// taken after the expensive work (reading, classifying, signing) and before the candidate
/// lookup: two near-identical clues triaged at once on two instances cannot both miss each other,
/// because the second looks up after the first committed its group.
struct ClueRegistrar: Sendable {
    let rules: RuleBook
    let hasher = MinHasher()

    /// The advisory lock of a district's grouping; staff merges and splits take it too.
    static func lockGrouping(of district: DistrictCode, in transaction: Transaction) async throws {
        try await transaction.execute("SELECT pg_advisory_xact_lock(hashtextextended(\("triage-grouping:" + district.rawValue), 0))")
    }

    struct DistrictSettings {
        var threshold: Double
        var ruleVersion: Int
    }

    static func settings(of district: DistrictCode, in transaction: Transaction) async throws -> DistrictSettings {
        let rows = try await transaction.query("""
            SELECT similarity_threshold::float8,
                   coalesce((SELECT max(version) FROM classification_rule_sets WHERE district = \(district.rawValue)), 0)
            FROM districts WHERE code = \(district.rawValue)
            """)
        for try await (threshold, version) in rows.decode((Double, Int).self) {
            return DistrictSettings(threshold: threshold, ruleVersion: version)
        }
        throw EventRejection("district \(district) is not in the store")
    }

    /// Registers `clues` (all of `district`, none registered before) and returns what was announced.
    /// `announce: false` loads an existing clue database (e.g. history) without publishing events.
    @discardableResult
    func register(_ clues: [IncomingClue], in district: DistrictCode, announce: Bool = true, transaction: Transaction) async throws -> [ClueTriaged] {
        guard !clues.isEmpty else { return [] }
        let settings = try await Self.settings(of: district, in: transaction)
        let ruleSet = try await rules.rules(for: district, version: settings.ruleVersion, in: transaction)

        let classifications = clues.map { ruleSet.classify($0.text) }
        let signatures = clues.map { hasher.signature(ofText: $0.text.comparedText) }
        let banding = LSHBands.stored
        let keys = signatures.map { banding.keys(of: $0) }
        let newGroupIDs = clues.map { _ in UUID() }

        try await Self.lockGrouping(of: district, in: transaction)
        let (candidates, voices) = try await Self.candidates(keys: keys, district: district, in: transaction)
        let placements = GroupAssigner(banding: banding, threshold: settings.threshold)
            .assign(signatures: signatures, candidates: candidates, newGroupIDs: newGroupIDs)

        // Voices after this batch, for the events: existing groups from the store, new ones from zero.
        var groupVoices = voices
        var announced: [ClueTriaged] = []
        for (index, placement) in placements.enumerated() {
            groupVoices[placement.groupID, default: 0] += 1
            let classification = classifications[index]
            announced.append(ClueTriaged(
                clueID: clues[index].id, domain: classification.domain, committee: classification.committee,
                urgency: classification.urgency, jurisdiction: classification.jurisdiction, street: classification.street,
                ruleVersion: settings.ruleVersion, rules: classification.hits.map { "\($0.kind.rawValue):\($0.rule)" },
                groupID: placement.groupID, groupVoices: groupVoices[placement.groupID]!, startedGroup: placement.startedGroup,
                linkedFromClueID: clues[index].linkedFromClueID))
        }
        // An event's voices count the clues up to it; the store gets the batch's total.
        try await Self.storeGroups(
            placements: placements, clues: clues, signatures: signatures, keys: keys, voices: groupVoices, district: district,
            in: transaction)
        try await Self.storeClues(clues, classifications: classifications, placements: placements, district: district, ruleVersion: settings.ruleVersion, in: transaction)

        guard announce else { return announced }
        let now = Date()
        var rows: [Outbox.Row] = []
        for (clue, event) in zip(clues, announced) {
            let envelope = try EventEnvelope(event, district: district, occurredAt: now, causedBy: clue.cause)
            rows.append(try Outbox.Row(envelope, to: TopicCatalogue.triageEvents, key: clue.id.uuidString))
        }
        try await Outbox.append(rows, in: transaction)
        return announced
    }

    /// For each clue, the live groups sharing at least two bands with it, and those groups' voices.
    static func candidates(keys: [[Int64]], district: DistrictCode, in transaction: Transaction) async throws -> ([[GroupCandidate]], [UUID: Int]) {
        var flatKeys: [Int64] = []
        var owners: [Int32] = []
        for (index, clueKeys) in keys.enumerated() {
            flatKeys += clueKeys
            owners += Array(repeating: Int32(index), count: clueKeys.count)
        }
        let rows = try await transaction.query("""
            SELECT shared.owner, g.id, g.signature, g.voices
            FROM (SELECT k.owner, b.group_id
                  FROM unnest(\(flatKeys)::bigint[], \(owners)::int[]) AS k(key, owner)
                  JOIN clue_bands b ON b.district = \(district.rawValue) AND b.band_key = k.key
                  GROUP BY k.owner, b.group_id
                  HAVING count(*) >= \(LSHBands.storedMinimumSharedBands)) shared
            JOIN clue_groups g ON g.id = shared.group_id AND g.merged_into IS NULL
            """)
        var candidates = Array(repeating: [GroupCandidate](), count: keys.count)
        var voices: [UUID: Int] = [:]
        for try await (owner, id, signature, count) in rows.decode((Int32, UUID, ByteBuffer, Int).self) {
            candidates[Int(owner)].append(GroupCandidate(id: id, signature: SignatureCoding.signature(from: Array(buffer: signature))))
            voices[id] = count
        }
        return (candidates, voices)
    }

    private static func storeGroups(
        placements: [GroupAssigner.Placement], clues: [IncomingClue], signatures: [[UInt32]], keys: [[Int64]],
        voices: [UUID: Int], district: DistrictCode, in transaction: Transaction
    ) async throws {
        var newIDs: [UUID] = [], representatives: [UUID] = [], signatureHex: [String] = []
        var bandKeys: [Int64] = [], bandGroups: [UUID] = []
        var joined: Set<UUID> = []
        for (index, placement) in placements.enumerated() {
            if placement.startedGroup {
                newIDs.append(placement.groupID)
                representatives.append(clues[index].id)
                signatureHex.append(SignatureCoding.hex(signatures[index]))
                bandKeys += keys[index]
                bandGroups += Array(repeating: placement.groupID, count: keys[index].count)
            } else {
                joined.insert(placement.groupID)
            }
        }
        if !newIDs.isEmpty {
            let newVoices = newIDs.map { voices[$0] ?? 1 }
            try await transaction.execute("""
                INSERT INTO clue_groups (id, district, representative, signature, voices)
                SELECT id, \(district.rawValue), representative, decode(signature, 'hex'), voices
                FROM unnest(\(newIDs)::uuid[], \(representatives)::uuid[], \(signatureHex)::text[], \(newVoices)::int[])
                     AS n(id, representative, signature, voices)
                """)
            try await transaction.execute("""
                INSERT INTO clue_bands (district, band_key, group_id)
                SELECT \(district.rawValue), key, group_id FROM unnest(\(bandKeys)::bigint[], \(bandGroups)::uuid[]) AS b(key, group_id)
                ON CONFLICT DO NOTHING
                """)
        }
        let existing = joined.subtracting(newIDs)
        if !existing.isEmpty {
            let ids = Array(existing)
            let totals = ids.map { voices[$0]! }
            try await transaction.execute("""
                UPDATE clue_groups g SET voices = t.voices, updated_at = now()
                FROM unnest(\(ids)::uuid[], \(totals)::int[]) AS t(id, voices) WHERE g.id = t.id
                """)
        }
    }

    private static func storeClues(
        _ clues: [IncomingClue], classifications: [Classification], placements: [GroupAssigner.Placement],
        district: DistrictCode, ruleVersion: Int, in transaction: Transaction
    ) async throws {
        var sql = PostgresQuery.StringInterpolation(literalCapacity: 512 + 64 * clues.count, interpolationCount: 18 * clues.count)
        sql.appendLiteral("""
            INSERT INTO triage_clues (clue_id, district, tracking_number, channel, received_at, domain, committee, urgency,
                                      jurisdiction, department, street, classification, rule_version, group_id, source_category,
                                      themed_call_id, linked_from_clue_id)
            VALUES
            """)
        for (index, clue) in clues.enumerated() {
            let classification = classifications[index]
            let hits = String(decoding: try JSONEncoder().encode(classification.hits), as: UTF8.self)
            try sql.appendRow(first: index == 0, [
                .value(clue.id), .value(district.rawValue), .value(clue.trackingNumber), .value(clue.channel), .value(clue.receivedAt),
                .optional(classification.domain), .optional(classification.committee), .value(classification.urgency.rawValue),
                .value(classification.jurisdiction.rawValue), .optional(classification.department), .optional(classification.street),
                .json(hits), .value(ruleVersion), .value(placements[index].groupID), .value(clue.sourceCategory),
                .optional(clue.themedCallID), .optional(clue.linkedFromClueID),
            ])
        }
        try await transaction.execute(PostgresQuery(stringInterpolation: sql))
    }
}

extension ClueText {
    /// What near-duplicates are compared on: title, situation and suggestions.
    var comparedText: String { title + "\n" + situation + "\n" + suggestions }
}

extension ClueRegistrar {
    /// The district's rules in force and their version.
    func rulesInForce(of district: DistrictCode, in transaction: Transaction) async throws -> (version: Int, rules: CompiledRuleSet) {
        let settings = try await Self.settings(of: district, in: transaction)
        return (settings.ruleVersion, try await rules.rules(for: district, version: settings.ruleVersion, in: transaction))
    }

    /// The codes of the district's special committees, from its rules in force.
    func committees(of district: DistrictCode, database: Database) async throws -> Set<String> {
        try await database.transaction(.district(district)) { transaction in
            Set(try await rulesInForce(of: district, in: transaction).rules.ruleSet.committees.map(\.code))
        }
    }
}
