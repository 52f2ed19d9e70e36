import ArgumentParser
import Foundation
import Messaging
import Models
import Operations
import Storage

struct DeadLetterCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Dead-letter topics: what consumers rejected, why, and replaying it once the cause is fixed.",
        subcommands: [List.self, Show.self, ReplayEntries.self])

    /// `triage-events`, `triage-events.dlq` and prefixed names all name the dead-letter topic.
    static func deadLetterTopic(_ name: String, kafka: KafkaConfiguration) throws -> String {
        let bare = kafka.unprefixed(name)
        let origin = bare.hasSuffix(DeadLetter.suffix) ? String(bare.dropLast(DeadLetter.suffix.count)) : bare
        guard TopicCatalogue.topic(named: origin) != nil else {
            throw ValidationError("\(name): not a topic of the catalogue (\(TopicCatalogue.all.map(\.name).joined(separator: ", ")))")
        }
        return kafka.topicName(origin + DeadLetter.suffix)
    }

    /// Checks a topic argument before the environment is read, so a typo is a usage error.
    static func validateTopic(_ name: String?) throws {
        guard let name else { return }
        let prefix = ProcessInfo.processInfo.environment["KAFKA_TOPIC_PREFIX"] ?? ""
        let bare = name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name
        let origin = bare.hasSuffix(DeadLetter.suffix) ? String(bare.dropLast(DeadLetter.suffix.count)) : bare
        guard TopicCatalogue.topic(named: origin) != nil else {
            throw ValidationError("\(name): not a topic of the catalogue (\(TopicCatalogue.all.map(\.name).joined(separator: ", ")))")
        }
    }

    static func deadLetters(kafka: KafkaConfiguration, database: Database) -> DeadLetters {
        DeadLetters(kafka: kafka, database: database, logger: Environment.logger)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Without a topic: every dead-letter topic with its count. With one: its entries, reasons and whether they were replayed.")

        @Argument(help: "A topic (e.g. triage-events or triage-events.dlq).")
        var topic: String?

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func validate() throws { try DeadLetterCommands.validateTopic(topic) }

        func run() async throws {
            let kafka = try Environment.kafka()
            guard let topic else {
                let counts = try await withAdmin(kafka) { admin in try await DeadLetters.topics(kafka: kafka, admin: admin) }
                if json { return try printJSON(counts.map { ["topic": $0.topic, "messages": String($0.messages)] }) }
                return printTable([["DEAD-LETTER TOPIC", "MESSAGES"]] + counts.map { [$0.topic, String($0.messages)] })
            }
            let name = try DeadLetterCommands.deadLetterTopic(topic, kafka: kafka)
            let entries = try await withDatabase { database in
                try await withAdmin(kafka) { admin in
                    try await DeadLetterCommands.deadLetters(kafka: kafka, database: database).entries(of: name, admin: admin)
                }
            }
            if json { return try printJSON(entries.map(DeadLetterCommands.EntryRow.init)) }
            printTable(
                [["PARTITION", "OFFSET", "FAILED AT", "GROUP", "EVENT", "ORIGIN", "REPLAYED", "REASON"]]
                    + entries.map { entry in
                        [
                            String(entry.message.partition), String(entry.message.offset), entry.failedAt ?? "-", entry.consumerGroup ?? "-",
                            entry.eventType ?? "(undecodable)",
                            "\(entry.originTopic ?? "?")[\(entry.originPartition.map(String.init) ?? "?")]@\(entry.originOffset.map(String.init) ?? "?")",
                            entry.replayedAt.map { $0.formatted(.iso8601) } ?? "no", entry.reason,
                        ]
                    })
            print("\(entries.count) entries, \(entries.filter { $0.replayedAt == nil }.count) not replayed")
        }
    }

    struct EntryRow: Encodable {
        var partition: Int32
        var offset: Int64
        var failedAt: String?
        var consumerGroup: String?
        var eventType: String?
        var eventID: UUID?
        var originTopic: String?
        var originPartition: Int32?
        var originOffset: Int64?
        var reason: String
        var replayedAt: Date?

        init(_ entry: DeadLetterEntry) {
            (partition, offset, failedAt, consumerGroup) = (entry.message.partition, entry.message.offset, entry.failedAt, entry.consumerGroup)
            (eventType, eventID, reason, replayedAt) = (entry.eventType, entry.eventID, entry.reason, entry.replayedAt)
            (originTopic, originPartition, originOffset) = (entry.originTopic, entry.originPartition, entry.originOffset)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One dead letter in full: headers, key and the message (JSON pretty-printed when it is JSON).")

        @Argument(help: "A topic (e.g. triage-events or triage-events.dlq).")
        var topic: String
        @Option(help: "Partition of the dead-letter topic.") var partition: Int32 = 0
        @Option(help: "Offset in the dead-letter topic (from `dlq list`).") var offset: Int64

        func validate() throws {
            try DeadLetterCommands.validateTopic(topic)
            guard partition >= 0, offset >= 0 else { throw ValidationError("--partition and --offset: not negative") }
        }

        func run() async throws {
            let kafka = try Environment.kafka()
            let name = try DeadLetterCommands.deadLetterTopic(topic, kafka: kafka)
            let (partition, offset) = (self.partition, self.offset)
            let entries = try await withDatabase { database in
                try await withAdmin(kafka) { admin in
                    try await DeadLetterCommands.deadLetters(kafka: kafka, database: database).entries(
                        of: name, partition: partition, offset: offset, admin: admin)
                }
            }
            guard let entry = entries.first else {
                throw CommandFailure("\(name)[\(partition)] has no message at offset \(offset) (see proposals-ctl dlq list \(topic))")
            }
            print("dead letter  \(name)[\(partition)]@\(offset)")
            print("reason       \(entry.reason)")
            print(
                "origin       \(entry.originTopic ?? "?")[\(entry.originPartition.map(String.init) ?? "?")]@\(entry.originOffset.map(String.init) ?? "?")"
            )
            print("group        \(entry.consumerGroup ?? "-")")
            print("failed at    \(entry.failedAt ?? "-")")
            print("event        \(entry.eventType ?? "(undecodable)") \(entry.eventID?.uuidString.lowercased() ?? "")")
            print("replayed     \(entry.replayedAt.map { $0.formatted(.iso8601) } ?? "no")")
            print("key          \(entry.message.key.map { String(decoding: $0, as: UTF8.self) } ?? "-")")
            print("headers")
            for header in entry.message.headers { print("  \(header.name): \(header.stringValue ?? "")") }
            print("value")
            if let object = try? JSONSerialization.jsonObject(with: entry.message.value),
                let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            {
                print(String(decoding: pretty, as: UTF8.self))
            } else {
                print(String(decoding: entry.message.value, as: UTF8.self))
            }
        }
    }

    struct ReplayEntries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract: "Publish dead letters again to their original topic, once the cause is fixed.",
            discussion: """
                Each entry is published with its original key, value and event id; consumer groups \\
                that applied the event skip it, the one that rejected it applies it now. An entry \\
                whose cause is not fixed is rejected again and comes back as a new dead letter with \\
                the new reason. An entry replayed before is not published again.
                """)

        @Argument(help: "A topic (e.g. triage-events or triage-events.dlq).")
        var topic: String
        @Option(help: "Only this partition of the dead-letter topic.") var partition: Int32?
        @Option(help: "Only the entry at this offset (with --partition, default 0).") var offset: Int64?
        @Flag(help: "List what would be replayed; publish nothing.") var dryRun = false
        @Option(name: .customLong("operator"), help: "Who replays (recorded with each replay).")
        var operatorName: String = ProcessInfo.processInfo.environment["USER"] ?? "operator"

        func validate() throws {
            try DeadLetterCommands.validateTopic(topic)
            if let partition, partition < 0 { throw ValidationError("--partition: not negative") }
            if let offset, offset < 0 { throw ValidationError("--offset: not negative") }
        }

        func run() async throws {
            let kafka = try Environment.kafka()
            let name = try DeadLetterCommands.deadLetterTopic(topic, kafka: kafka)
            let (partition, offset, dryRun, who) = (offset != nil ? (self.partition ?? 0) : self.partition, self.offset, self.dryRun, operatorName)
            let outcomes = try await withDatabase { database in
                let deadLetters = DeadLetterCommands.deadLetters(kafka: kafka, database: database)
                let entries = try await withAdmin(kafka) { admin in
                    try await deadLetters.entries(of: name, partition: partition, offset: offset, admin: admin)
                }
                if offset != nil && entries.isEmpty {
                    throw CommandFailure("\(name)[\(partition ?? 0)] has no message at offset \(offset!)")
                }
                let producer = dryRun ? nil : try KafkaProducer(configuration: kafka, logger: Environment.logger)
                let bar = ProgressBar(dryRun ? "checking" : "replaying", total: entries.count)
                do {
                    let outcomes = try await deadLetters.replay(entries, by: who, dryRun: dryRun, producer: producer) { bar.update($0) }
                    bar.finish()
                    await producer?.close()
                    return outcomes.map { ($0.0.message.partition, $0.0.message.offset, $0.0.originTopic ?? "?", $0.0.eventType ?? "?", $0.1) }
                } catch {
                    await producer?.close()
                    throw error
                }
            }
            printTable(
                [["PARTITION", "OFFSET", "TO", "EVENT", "OUTCOME"]]
                    + outcomes.map { partition, offset, origin, event, outcome in
                        let text =
                            switch outcome {
                            case .replayed: "replayed"
                            case .wouldReplay: "would replay"
                            case .alreadyReplayed(let at): "skipped: replayed at \(at.formatted(.iso8601))"
                            case .noOrigin: "skipped: no origin topic header"
                            }
                        return [String(partition), String(offset), origin, event, text]
                    })
            let replayed = outcomes.filter { if case .replayed = $0.4 { true } else { false } }.count
            let would = outcomes.filter { if case .wouldReplay = $0.4 { true } else { false } }.count
            print(
                dryRun
                    ? "dry run: \(would) would be replayed, \(outcomes.count - would) skipped"
                    : "\(replayed) replayed, \(outcomes.count - replayed) skipped")
        }
    }
}
