import ArgumentParser
import Foundation
import Messaging
import Operations

struct Lag: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "How far each consumer group is behind, per partition (high watermark minus committed offset).",
        discussion: "Exit code 0; the totals line per group is what the ConsumerLagGrowing alert watches.")

    @Option(
        name: .customLong("group"),
        help: "A consumer group (repeatable; default: the services' groups). Give --topic with it for a group of your own.")
    var groups: [String] = []

    @Option(name: .customLong("topic"), help: "Topics the named groups read (repeatable; default: what the service of that name reads).")
    var topics: [String] = []

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        if !topics.isEmpty && groups.isEmpty { throw ValidationError("--topic: give the --group that reads it") }
    }

    func run() async throws {
        let kafka = try Environment.kafka()
        let services = ConsumerLag.serviceGroups(kafka)
        let wanted: [(group: String, topics: [String])] =
            try groups.isEmpty
            ? services
            : groups.map { group in
                if !topics.isEmpty { return (group, topics) }
                guard let service = services.first(where: { $0.group == group }) else {
                    throw ValidationError(
                        "--group \(group): not a service's group (\(services.map(\.group).joined(separator: ", "))); name its topics with --topic")
                }
                return service
            }
        let lags = try await withAdmin(kafka) { admin in
            var lags: [PartitionLag] = []
            for (group, topics) in wanted { lags += try await ConsumerLag.measure(group: group, topics: topics, admin: admin) }
            return lags
        }
        if json { return try printJSON(lags.map(LagRow.init)) }
        var rows = [["GROUP", "TOPIC", "PARTITION", "COMMITTED", "HIGH", "LAG"]]
        for (group, _) in wanted {
            let own = lags.filter { $0.group == group }
            rows += own.map { [$0.group, $0.topic, String($0.partition), $0.committed.map(String.init) ?? "-", String($0.high), String($0.lag)] }
            rows.append([group, "(total)", "", "", "", String(own.reduce(0) { $0 + $1.lag })])
        }
        printTable(rows)
    }

    struct LagRow: Encodable {
        var group: String
        var topic: String
        var partition: Int32
        var committed: Int64?
        var high: Int64
        var lag: Int64

        init(_ lag: PartitionLag) {
            (group, topic, partition, committed, high, self.lag) = (lag.group, lag.topic, lag.partition, lag.committed, lag.high, lag.lag)
        }
    }
}
