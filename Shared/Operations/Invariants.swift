import Foundation
import Logging
import Messaging
import Models
import PostgresNIO
import Storage

/// One invariant of a finished run and whether it holds, with what was found.
public struct InvariantFinding: Sendable, Hashable {
    public var name: String
    public var holds: Bool
    public var detail: String

    public init(_ name: String, holds: Bool, _ detail: String) {
        self.name = name
        self.holds = holds
        self.detail = detail
    }
}

/// What must hold after any run, however it was interrupted, once the system has drained: read
/// from the store and the topics (`proposals-ctl check`, and the whole-system tests).
///
/// - every accepted clue is in triage exactly once;
/// - every event on a consumer group's input topics was applied by it exactly once (its id
///   recorded in `processed_events`, in the transaction of its effects) or dead-lettered;
/// - no outbox row is left unsent;
/// - every proposal's history is a walk the state machine accepts, ending at its stored status;
/// - the public read model equals one rebuilt from the topics;
/// - the dead-letter topics hold only what the run put there on purpose.
public struct InvariantChecker: Sendable {
    public let database: Database
    public let kafka: KafkaConfiguration
    public let logger: Logger
    /// How many messages the run meant to be dead-lettered (the poison it published); any other
    /// count breaks. One message dead-lettered by several groups counts once.
    public var expectedDeadLetters: Int
    /// Builds a read model from the topics in the scratch schema named; nil skips the comparison.
    public var rebuildReadModel: (@Sendable (String) async throws -> Void)?

    public init(
        database: Database, kafka: KafkaConfiguration, logger: Logger, expectedDeadLetters: Int = 0,
        rebuildReadModel: (@Sendable (String) async throws -> Void)? = nil
    ) {
        self.database = database
        self.kafka = kafka
        self.logger = logger
        self.expectedDeadLetters = expectedDeadLetters
        self.rebuildReadModel = rebuildReadModel
    }

    /// Every invariant, in the order above.
    public func check() async throws -> [InvariantFinding] {
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        do {
            let deadLetters = try await self.deadLetters(admin: admin)
            var findings = [try await cluesInTriage(), try await outboxDrained()]
            findings += try await eventsApplied(deadLetters: deadLetters, admin: admin)
            findings.append(try await lifecycles())
            if rebuildReadModel != nil { findings.append(try await readModel()) }
            findings.append(deadLetterFinding(deadLetters))
            await admin.close()
            return findings
        } catch {
            await admin.close()
            throw error
        }
    }

    func count(_ query: PostgresQuery) async throws -> Int {
        try await database.transaction(.allDistricts) { transaction in
            for try await value in try await transaction.query(query).decode(Int.self) { return value }
            return 0
        }
    }

    func cluesInTriage() async throws -> InvariantFinding {
        let clues = try await count("SELECT count(*)::int FROM clues")
        let missing = try await count("SELECT count(*)::int FROM clues c WHERE NOT EXISTS (SELECT 1 FROM triage_clues t WHERE t.clue_id = c.id)")
        // triage_clues is keyed by the clue: a clue is there once or not at all.
        return InvariantFinding(
            "clues-in-triage", holds: missing == 0,
            missing == 0 ? "all \(clues) accepted clues are in triage once" : "\(missing) of \(clues) accepted clues are not in triage")
    }

    func outboxDrained() async throws -> InvariantFinding {
        let pending = try await count("SELECT count(*)::int FROM outbox WHERE published_at IS NULL")
        return InvariantFinding(
            "outbox-drained", holds: pending == 0, pending == 0 ? "no event waits to be published" : "\(pending) events never published")
    }

    struct DeadLetter: Sendable {
        var topic: String
        var group: String?
        var eventID: UUID?
        var reason: String
        /// Where the message was on its own topic: one poison message read by two groups is two dead letters of one origin.
        var origin: String
    }

    func deadLetters(admin: KafkaAdmin) async throws -> [DeadLetter] {
        var found: [DeadLetter] = []
        let reader = DeadLetters(kafka: kafka, database: database, logger: logger)
        for (topic, messages) in try await DeadLetters.topics(kafka: kafka, admin: admin) where messages > 0 {
            for entry in try await reader.entries(of: topic, admin: admin) where entry.replayedAt == nil {
                let origin =
                    "\(entry.originTopic ?? topic)/\(entry.originPartition.map(String.init) ?? "?")/\(entry.originOffset.map(String.init) ?? "?")"
                found.append(DeadLetter(topic: topic, group: entry.consumerGroup, eventID: entry.eventID, reason: entry.reason, origin: origin))
            }
        }
        return found
    }

    /// For each consuming service, the events on its input topics against what its group recorded.
    func eventsApplied(deadLetters: [DeadLetter], admin: KafkaAdmin) async throws -> [InvariantFinding] {
        var findings: [InvariantFinding] = []
        var eventsByTopic: [String: [UUID]] = [:]
        for service in ServiceName.allCases where !TopicCatalogue.inputs(of: service).isEmpty {
            let group = kafka.topicPrefix + service.rawValue
            var events: [UUID] = []
            for topic in TopicCatalogue.inputs(of: service) {
                if eventsByTopic[topic.name] == nil { eventsByTopic[topic.name] = try await eventIDs(on: kafka.topicName(topic.name), admin: admin) }
                events += eventsByTopic[topic.name]!
            }
            let recorded = try await database.transaction(.none) { transaction in
                var ids: Set<UUID> = []
                for try await id in try await transaction.query("SELECT event_id FROM processed_events WHERE consumer = \(group)").decode(UUID.self) {
                    ids.insert(id)
                }
                return ids
            }
            let rejected = Set(deadLetters.filter { $0.group == group }.compactMap(\.eventID))
            let missing = Set(events).subtracting(recorded).subtracting(rejected)
            // An id recorded that no input topic carries was applied from somewhere it should not have been.
            let foreign = recorded.subtracting(events)
            // Ids on no topic (retention removed the message, or a replay tool applied it) are told, not counted against.
            let holds = missing.isEmpty
            var detail =
                "\(service.rawValue): \(Set(events).count) events, \(Set(events).intersection(recorded).count) applied once, "
                + "\(rejected.count) dead-lettered"
            if !missing.isEmpty { detail += "; \(missing.count) never applied (e.g. \(missing.prefix(3).map(\.uuidString).joined(separator: ", ")))" }
            if !foreign.isEmpty { detail += "; \(foreign.count) recorded whose message is no longer on the topics" }
            findings.append(InvariantFinding("events-applied-once", holds: holds, detail))
        }
        return findings
    }

    /// The ids of the well-formed events on `topic` (poison has none; the consumer dead-letters it).
    func eventIDs(on topic: String, admin: KafkaAdmin) async throws -> [UUID] {
        let marks = try await admin.partitions(of: topic)
        var ids: [UUID] = []
        let reader = try KafkaPartitionReader(configuration: kafka, logger: logger)
        do {
            try await reader.read(from: marks.mapValues(\.low), until: marks.mapValues(\.high), batchSize: 2_000) { messages in
                for message in messages { if let envelope = try? EventEnvelope.decode(from: message.value) { ids.append(envelope.eventID) } }
            }
            await reader.close()
        } catch {
            await reader.close()
            throw error
        }
        return ids
    }

    func lifecycles() async throws -> InvariantFinding {
        let (proposals, broken) = try await database.transaction(.allDistricts) { transaction in
            var histories: [UUID: [(String, String, String)]] = [:]
            for try await (id, from, transition, to) in try await transaction.query(
                "SELECT proposal_id, from_status, transition, to_status FROM proposal_transitions ORDER BY proposal_id, id"
            ).decode((UUID, String, String, String).self) { histories[id, default: []].append((from, transition, to)) }
            var proposals = 0
            var broken: [String] = []
            for try await (id, stored) in try await transaction.query("SELECT id, status FROM proposals").decode((UUID, String).self) {
                proposals += 1
                if let problem = Self.replay(histories[id] ?? [], endingAt: stored) { broken.append("\(id.uuidString.lowercased()): \(problem)") }
            }
            return (proposals, broken)
        }
        return InvariantFinding(
            "lifecycle", holds: broken.isEmpty,
            broken.isEmpty
                ? "all \(proposals) proposals' histories are walks the state machine accepts, ending at their status"
                : "\(broken.count) proposals break the state machine: \(broken.prefix(3).joined(separator: "; "))")
    }

    /// Why the history is not a walk from drafting to `stored`; nil when it is.
    public static func replay(_ history: [(from: String, transition: String, to: String)], endingAt stored: String) -> String? {
        var status = ProposalStatus.drafting
        for (index, move) in history.enumerated() {
            guard move.from == status.rawValue else { return "move \(index + 1) starts at \(move.from), not \(status.rawValue)" }
            guard let transition = ProposalTransition(rawValue: move.transition) else {
                return "move \(index + 1): unknown transition \(move.transition)"
            }
            guard let next = try? status.applying(transition) else {
                return "move \(index + 1): \(transition.rawValue) is not allowed from \(status.rawValue)"
            }
            guard next.rawValue == move.to else { return "move \(index + 1) ends at \(move.to), the state machine says \(next.rawValue)" }
            status = next
        }
        return status.rawValue == stored ? nil : "the history ends at \(status.rawValue), the proposal is \(stored)"
    }

    static let readModelTables = ["public_proposals", "public_assignments", "public_timeline", "public_clues", "public_reviews"]

    func readModel() async throws -> InvariantFinding {
        guard let rebuildReadModel else { return InvariantFinding("read-model", holds: true, "not compared") }
        let schema = "invariant_check_\(UInt32.random(in: 0...UInt32.max))"
        var differences: [String] = []
        do {
            try await rebuildReadModel(schema)
            for table in Self.readModelTables {
                let rows = try await count(
                    """
                    SELECT count(*)::int FROM ((SELECT * FROM public.\(unescaped: table) EXCEPT SELECT * FROM \(unescaped: schema).\(unescaped: table))
                        UNION ALL (SELECT * FROM \(unescaped: schema).\(unescaped: table) EXCEPT SELECT * FROM public.\(unescaped: table))) AS difference
                    """)
                if rows > 0 { differences.append("\(table): \(rows) rows differ") }
            }
        } catch {
            try? await dropSchema(schema)
            throw error
        }
        try await dropSchema(schema)
        return InvariantFinding(
            "read-model", holds: differences.isEmpty,
            differences.isEmpty ? "the public read model equals a rebuild from the topics" : differences.joined(separator: "; "))
    }

    func dropSchema(_ schema: String) async throws {
        try await database.transaction(.none) { try await $0.execute("DROP SCHEMA IF EXISTS \(unescaped: schema) CASCADE") }
    }

    func deadLetterFinding(_ deadLetters: [DeadLetter]) -> InvariantFinding {
        var reasons: [String: Int] = [:]
        for letter in deadLetters { reasons["\(letter.topic): \(letter.reason)", default: 0] += 1 }
        let listed = reasons.sorted { $0.key < $1.key }.prefix(5).map { "\($0.value)× \($0.key)" }.joined(separator: "; ")
        let messages = Set(deadLetters.map(\.origin)).count
        return InvariantFinding(
            "dead-letters", holds: messages == expectedDeadLetters,
            "\(messages) messages dead-lettered (\(deadLetters.count) dead letters), \(expectedDeadLetters) expected"
                + (listed.isEmpty ? "" : " (\(listed))"))
    }
}
