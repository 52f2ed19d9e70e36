import Foundation
import Messaging
import Models
import ServiceKit
import Storage

/// What a benchmark reads from the environment its run.sh sets: the private database and the
/// local broker, with a fresh topic prefix so runs on one cluster never share topics.
public enum BenchEnvironment {
    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    /// DATABASE_URL.
    public static func database() throws -> DatabaseConfiguration {
        let reader = EnvironmentReader()
        let url = reader.string("DATABASE_URL", help: "postgres://user:password@host:port/database")
        try reader.validate()
        guard let configuration = DatabaseConfiguration(url: url) else { throw Malformed(description: "DATABASE_URL is malformed") }
        return configuration
    }

    /// KAFKA_BROKERS with a fresh topic prefix; on the local mock cluster (KAFKA_MOCK_CONTROL)
    /// every topic of the catalogue and its dead-letter topic are created first.
    public static func kafka() throws -> KafkaConfiguration {
        let reader = EnvironmentReader()
        let brokers = reader.string("KAFKA_BROKERS", help: "host:port list")
        try reader.validate()
        let kafka = KafkaConfiguration(
            brokers: brokers.split(separator: ",").map(String.init), clientID: "bench",
            topicPrefix: "bench\(Int.random(in: 1000...9999))-")
        if let control = ProcessInfo.processInfo.environment["KAFKA_MOCK_CONTROL"].flatMap(MockClusterControl.init(address:)) {
            for topic in TopicCatalogue.all {
                try control.createTopic(kafka.topicName(topic.name), partitions: topic.partitions, replicationFactor: 3)
                try control.createTopic(kafka.topicName(topic.deadLetterName), partitions: 1, replicationFactor: 3)
            }
        }
        return kafka
    }
}
