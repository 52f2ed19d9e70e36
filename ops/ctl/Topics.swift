import ArgumentParser
import Foundation
import Logging
import Messaging
import Models
import ServiceKit
import Storage

struct Topics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and describe the pipeline's topics.", subcommands: [Create.self, List.self, Describe.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create every topic of the catalogue and its dead-letter topic; existing topics are kept.")

        @Option(help: "Replication factor (3 on a production cluster, at most the number of brokers).")
        var replicationFactor: Int = Int(ProcessInfo.processInfo.environment["KAFKA_REPLICATION_FACTOR"] ?? "") ?? 3

        @Option(
            help:
                "Control address of the local mock cluster (host:port); its topics are created through it because the mock has no CreateTopics API. Default: KAFKA_MOCK_CONTROL."
        )
        var mockControl: String?

        func run() async throws {
            let kafka = try Environment.kafka()
            let topics = TopicCatalogue.all.flatMap { topic in
                [
                    KafkaAdmin.NewTopic(name: kafka.topicName(topic.name), partitions: topic.partitions, replicationFactor: replicationFactor),
                    KafkaAdmin.NewTopic(name: kafka.topicName(topic.deadLetterName), partitions: 1, replicationFactor: replicationFactor),
                ]
            }
            if let mockControl = mockControl ?? ProcessInfo.processInfo.environment["KAFKA_MOCK_CONTROL"] {
                guard let control = MockClusterControl(address: mockControl) else { throw ValidationError("--mock-control: expected host:port") }
                for topic in topics { try control.createTopic(topic.name, partitions: topic.partitions, replicationFactor: topic.replicationFactor) }
            } else {
                let admin = try KafkaAdmin(configuration: kafka, logger: Environment.logger)
                try await admin.createTopics(topics)
                await admin.close()
            }
            for topic in topics { print("\(topic.name)\t\(topic.partitions) partitions") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the cluster's topics with their partition counts.")

        func run() async throws {
            let admin = try KafkaAdmin(configuration: try Environment.kafka(), logger: Environment.logger)
            let topics = try await admin.topics()
            await admin.close()
            for (name, partitions) in topics.sorted(by: { $0.key < $1.key }) { print("\(name)\t\(partitions)") }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Partitions of topics with their leaders and offsets (low and high watermark, messages retained).")

        @Argument(help: "Topics to describe (default: the catalogue's topics and their dead-letter topics, as deployed).")
        var topics: [String] = []

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        struct Row: Encodable {
            var topic: String
            var partition: Int32
            var leader: Int32?
            var low: Int64
            var high: Int64
            var messages: Int64
        }

        func run() async throws {
            let kafka = try Environment.kafka()
            let names =
                topics.isEmpty
                ? TopicCatalogue.all.flatMap { [kafka.topicName($0.name), kafka.topicName($0.deadLetterName)] }
                : topics
            let rows = try await withAdmin(kafka) { admin in
                var rows: [Row] = []
                for name in names {
                    let marks = try await admin.partitions(of: name)
                    guard !marks.isEmpty else { throw CommandFailure("topic \(name) does not exist (proposals-ctl topics create)") }
                    let leaders = try await admin.leaders(of: name)
                    for (partition, mark) in marks.sorted(by: { $0.key < $1.key }) {
                        rows.append(
                            Row(
                                topic: name, partition: partition.partition, leader: leaders[partition.partition],
                                low: mark.low, high: mark.high, messages: mark.high - mark.low))
                    }
                }
                return rows
            }
            if json { return try printJSON(rows) }
            printTable(
                [["TOPIC", "PARTITION", "LEADER", "LOW", "HIGH", "MESSAGES"]]
                    + rows.map {
                        [$0.topic, String($0.partition), $0.leader.map(String.init) ?? "-", String($0.low), String($0.high), String($0.messages)]
                    })
        }
    }
}
