import ClassificationRules
import EventPipeline
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit
import Similarity
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
        let rows = try await transaction.query(
            """
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
/// lookup, which catches up on the groups other instances made: two near-identical clues
/// triaged at once on two instances cannot both miss each other, because the second looks up
/// after the first committed its group.
struct ClueRegistrar: Sendable {
    let rules: RuleBook
    let groups = GroupIndexes()
    let hasher = MinHasher()

    /// The advisory lock of a district's grouping; staff merges and splits take it too.
    static func lockGrouping(of district: DistrictCode, in transaction: Transaction) async throws {
        try await transaction.lock("triage-grouping:" + district.rawValue)
    }

    struct DistrictSettings {
        var threshold: Double
        var ruleVersion: Int
    }

    static func settings(of district: DistrictCode, in transaction: Transaction) async throws -> DistrictSettings {
        let rows = try await transaction.query(
            """
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
        let newGroupIDs = clues.map { _ in UUID() }

        // Most of the catching up happens before the lock, so the lock is held briefly.
        try await groups.catchUp(district, in: transaction)
        try await Self.lockGrouping(of: district, in: transaction)
        try await groups.catchUp(district, in: transaction)
        let candidates = groups.candidates(for: signatures, in: district, minimumSharedBands: LSHBands.storedMinimumSharedBands)
        let placements = GroupAssigner(banding: .stored, threshold: settings.threshold)
            .assign(signatures: signatures, candidates: candidates, newGroupIDs: newGroupIDs)
        let voices = try await Self.storeGroups(placements: placements, clues: clues, signatures: signatures, district: district, in: transaction)

        // Each event counts the group's voices up to its clue; the store has the batch's total.
        var remaining: [UUID: Int] = [:]
        for placement in placements { remaining[placement.groupID, default: 0] += 1 }
        var announced: [ClueTriaged] = []
        for (index, placement) in placements.enumerated() {
            remaining[placement.groupID]! -= 1
            let classification = classifications[index]
            announced.append(
                ClueTriaged(
                    clueID: clues[index].id, domain: classification.domain, committee: classification.committee,
                    urgency: classification.urgency, jurisdiction: classification.jurisdiction, street: classification.street,
                    ruleVersion: settings.ruleVersion, rules: classification.hits.map { "\($0.kind.rawValue):\($0.rule)" },
                    groupID: placement.groupID, groupVoices: voices[placement.groupID]! - remaining[placement.groupID]!,
                    startedGroup: placement.startedGroup, linkedFromClueID: clues[index].linkedFromClueID))
        }
        try await Self.storeClues(
            clues, classifications: classifications, placements: placements, district: district, ruleVersion: settings.ruleVersion, in: transaction)

        guard announce else { return announced }
        let now = Date()
        var rows: [Outbox.Row] = []
        for (clue, event) in zip(clues, announced) {
            rows.append(
                try Outbox.Row(
                    event, district: district, occurredAt: now, causedBy: clue.cause, to: TopicCatalogue.triageEvents, key: clue.id.uuidString))
        }
        try await Outbox.append(rows, in: transaction)
        return announced
    }

    /// Writes the batch's new groups and the new voices of the groups clues joined; returns
    /// every placed group's voices after the batch.
    private static func storeGroups(
        placements: [GroupAssigner.Placement], clues: [IncomingClue], signatures: [[UInt32]], district: DistrictCode,
        in transaction: Transaction
    ) async throws -> [UUID: Int] {
        var joins: [UUID: Int] = [:]
        var newIDs: [UUID] = [], representatives: [UUID] = [], signatureHex: [String] = []
        for (index, placement) in placements.enumerated() {
            joins[placement.groupID, default: 0] += 1
            if placement.startedGroup {
                newIDs.append(placement.groupID)
                representatives.append(clues[index].id)
                signatureHex.append(SignatureCoding.hex(signatures[index]))
            }
        }
        var voices: [UUID: Int] = [:]
        if !newIDs.isEmpty {
            let counts = newIDs.map { joins[$0]! }
            try await transaction.execute(
                """
                INSERT INTO clue_groups (id, district, representative, signature, voices)
                SELECT id, \(district.rawValue), representative, decode(signature, 'hex'), voices
                FROM unnest(\(newIDs)::uuid[], \(representatives)::uuid[], \(signatureHex)::text[], \(counts)::int[])
                     AS n(id, representative, signature, voices)
                """)
            for (id, count) in zip(newIDs, counts) { voices[id] = count }
        }
        let existing = joins.keys.filter { voices[$0] == nil }
        if !existing.isEmpty {
            let added = existing.map { joins[$0]! }
            for try await (id, total) in try await transaction.query(
                """
                UPDATE clue_groups g SET voices = g.voices + t.added, updated_at = now()
                FROM unnest(\(existing)::uuid[], \(added)::int[]) AS t(id, added) WHERE g.id = t.id
                RETURNING g.id, g.voices
                """
            ).decode((UUID, Int).self) {
                voices[id] = total
            }
            // Groups change only under the lock this transaction holds; a missing one is a bug,
            // and failing lets the batch be retried rather than announce wrong counts.
            if let missing = existing.first(where: { voices[$0] == nil }) {
                throw GroupingInconsistency(group: missing)
            }
        }
        return voices
    }

    /// One statement of column arrays (17 binds however many clues: binding each value of a
    /// multi-row VALUES cost more than the insert itself).
    private static func storeClues(
        _ clues: [IncomingClue], classifications: [Classification], placements: [GroupAssigner.Placement],
        district: DistrictCode, ruleVersion: Int, in transaction: Transaction
    ) async throws {
        // Arrays of text carry no NULL through PostgresNIO: empty strings stand for none.
        func text(_ value: String?) -> String { value ?? "" }
        try await transaction.execute(
            """
            INSERT INTO triage_clues (clue_id, district, tracking_number, channel, received_at, domain, committee, urgency,
                                      jurisdiction, department, street, classification, rule_version, group_id, source_category,
                                      themed_call_id, linked_from_clue_id)
            SELECT id, \(district.rawValue), number, channel, received, nullif(domain, ''), nullif(committee, ''), urgency,
                   jurisdiction, nullif(department, ''), nullif(street, ''), hits::jsonb, \(ruleVersion), group_id, source,
                   nullif(themed_call, '')::uuid, nullif(linked_from, '')::uuid
            FROM unnest(\(clues.map(\.id))::uuid[], \(clues.map(\.trackingNumber))::text[], \(clues.map(\.channel))::text[],
                        \(clues.map(\.receivedAt))::timestamptz[], \(classifications.map { text($0.domain) })::text[],
                        \(classifications.map { text($0.committee) })::text[], \(classifications.map(\.urgency.rawValue))::text[],
                        \(classifications.map(\.jurisdiction.rawValue))::text[], \(classifications.map { text($0.department) })::text[],
                        \(classifications.map { text($0.street) })::text[], \(classifications.map { RuleHit.json($0.hits) })::text[],
                        \(placements.map(\.groupID))::uuid[], \(clues.map(\.sourceCategory))::text[],
                        \(clues.map { text($0.themedCallID?.uuidString) })::text[], \(clues.map { text($0.linkedFromClueID?.uuidString) })::text[])
                 AS c(id, number, channel, received, domain, committee, urgency, jurisdiction, department, street, hits, group_id,
                      source, themed_call, linked_from)
            """)
    }
}

extension RuleHit {
    /// The hits as stored (`triage_clues.classification`): the same JSON as their Codable form,
    /// written directly, since encoding them was a tenth of a batch's time.
    static func json(_ hits: [RuleHit]) -> String {
        var json = "["
        for (index, hit) in hits.enumerated() {
            if index > 0 { json += "," }
            json += #"{"fields":"# + JSONText.strings(hit.fields) + #","kind":"# + JSONText.quoted(hit.kind.rawValue)
            json += #","phrases":"# + JSONText.strings(hit.phrases) + #","rule":"# + JSONText.quoted(hit.rule) + "}"
        }
        return json + "]"
    }
}

struct GroupingInconsistency: Error, CustomStringConvertible {
    var group: UUID
    var description: String { "group \(group) was in the index but not in the store" }
}

extension ClueText {
    /// What near-duplicates are compared on: title, situation and suggestions.
    var comparedText: String { title + "\n" + situation + "\n" + suggestions }
}

extension ClueRegistrar {
    private struct Shared {
        weak var database: Database?
        var registrar: ClueRegistrar
    }

    private static let perService = Mutex<[ObjectIdentifier: Shared]>([:])

    /// One registrar per running service, shared by its consumer and its HTTP routes, so the
    /// rules and the groups' index are held in memory once. (Keyed by the store's object; the
    /// weak reference tells a live store from a new one at a reused address.)
    static func shared(by parts: ServiceParts) -> ClueRegistrar {
        perService.withLock { registrars in
            let key = ObjectIdentifier(parts.database)
            if let entry = registrars[key], entry.database === parts.database { return entry.registrar }
            registrars = registrars.filter { $0.value.database != nil }
            let registrar = ClueRegistrar(rules: RuleBook(logger: parts.logger))
            registrars[key] = Shared(database: parts.database, registrar: registrar)
            return registrar
        }
    }

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
