/// Client settings shared by producers, consumers and admin clients. The same values work
/// against the local mock cluster and Apache Kafka; `properties` passes anything else
/// (TLS, SASL) straight to librdkafka.
public struct KafkaConfiguration: Sendable, Hashable {
    public var brokers: [String]
    public var clientID: String
    /// Prepended to every topic name, so several deployments or test runs can share a cluster.
    public var topicPrefix: String
    public var properties: [String: String]

    public init(brokers: [String], clientID: String, topicPrefix: String = "", properties: [String: String] = [:]) {
        self.brokers = brokers
        self.clientID = clientID
        self.topicPrefix = topicPrefix
        self.properties = properties
    }

    public func topicName(_ name: String) -> String { topicPrefix + name }

    /// The name without the deployment prefix, for looking a topic up in the catalogue.
    public func unprefixed(_ topic: String) -> String {
        topic.hasPrefix(topicPrefix) ? String(topic.dropFirst(topicPrefix.count)) : topic
    }

    var commonProperties: [String: String] {
        var result = properties
        result["bootstrap.servers"] = brokers.joined(separator: ",")
        result["client.id"] = clientID
        return result
    }
}

public struct ConsumerConfiguration: Sendable, Hashable {
    public var groupID: String
    public var topics: [String]
    /// Where a group with no committed offset starts; earliest so nothing published before the
    /// group's first start is skipped.
    public var startFromEarliest: Bool = true
    public var sessionTimeoutMilliseconds: Int = 10_000
    public var maxBatchSize: Int = 500
    /// How long one poll waits for the first message; bounds how quickly a stop is noticed.
    public var pollTimeoutMilliseconds: Int = 200

    public init(groupID: String, topics: [String]) {
        self.groupID = groupID
        self.topics = topics
    }
}
