import Foundation

/// Where a message goes when its consumer rejects it as malformed: `<topic>.dlq`, with the
/// original key, value and headers, plus why and where it came from, so it can be replayed.
public enum DeadLetter {
    public static let suffix = ".dlq"
    public static let reasonHeader = "dlq-reason"
    public static let originTopicHeader = "dlq-origin-topic"
    public static let originPartitionHeader = "dlq-origin-partition"
    public static let originOffsetHeader = "dlq-origin-offset"
    public static let consumerGroupHeader = "dlq-consumer-group"
    public static let failedAtHeader = "dlq-failed-at"
    /// On a message `proposals-ctl dlq replay` published again: `<dlq topic>/<partition>/<offset>`.
    public static let replayedFromHeader = "replayed-from"

    public static func topic(for topic: String) -> String { topic + suffix }

    public static func message(for original: KafkaMessage, reason: String, consumerGroup: String, at date: Date = Date()) -> OutgoingMessage {
        var headers = original.headers.filter { !$0.name.hasPrefix("dlq-") }
        headers.append(KafkaHeader(name: reasonHeader, string: reason))
        headers.append(KafkaHeader(name: originTopicHeader, string: original.topic))
        headers.append(KafkaHeader(name: originPartitionHeader, string: String(original.partition)))
        headers.append(KafkaHeader(name: originOffsetHeader, string: String(original.offset)))
        headers.append(KafkaHeader(name: consumerGroupHeader, string: consumerGroup))
        headers.append(KafkaHeader(name: failedAtHeader, string: date.formatted(.iso8601)))
        return OutgoingMessage(topic: topic(for: original.topic), key: original.key, value: original.value, headers: headers)
    }
}
