import ArgumentParser
import Foundation
import Messaging
import Models
import Operations
import PublicityService

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay events from the topics into a read model.",
        discussion: """
            publicity-read-model: without --topic, empties the public read model and replays every \\
            input topic from its start to its end now (a rebuild; running publicity instances may go \\
            on meanwhile). With --topic, applies that range of events again on top of the model as \\
            it is: its writes are order-free, so events applied twice change nothing. No one is \\
            notified again either way.
            """)

    enum ReadModel: String, ExpressibleByArgument, CaseIterable {
        case publicityReadModel = "publicity-read-model"
    }

    @Argument(help: "The read model: \(ReadModel.allCases.map(\.rawValue).joined(separator: ", ")).")
    var readModel: ReadModel

    @Option(help: "Replay only this input topic (e.g. supervision-events).") var topic: String?
    @Option(help: "Only this partition of --topic.") var partition: Int32?
    @Option(help: "First offset to replay (default: the oldest retained).") var fromOffset: Int64?
    @Option(help: "Offset to stop before (default: the end now).") var toOffset: Int64?
    @Option(help: "Events per transaction.") var batchSize = 2_000

    func validate() throws {
        if topic == nil && (partition != nil || fromOffset != nil || toOffset != nil) {
            throw ValidationError("--partition, --from-offset and --to-offset: give the --topic they apply to")
        }
        if let topic, !TopicCatalogue.inputs(of: .publicity).contains(where: { $0.name == topic }) {
            throw ValidationError("--topic: one of \(TopicCatalogue.inputs(of: .publicity).map(\.name).joined(separator: ", "))")
        }
        if let fromOffset, let toOffset, fromOffset >= toOffset { throw ValidationError("--from-offset: must be below --to-offset") }
        guard (1...50_000).contains(batchSize) else { throw ValidationError("--batch-size: 1 to 50000") }
    }

    func run() async throws {
        let kafka = try Environment.kafka()
        let logger = Environment.logger
        let (topic, partition, from, to, batchSize) = (self.topic, self.partition, fromOffset, toOffset, self.batchSize)
        let started = ContinuousClock.now
        let applied = try await withDatabase { database in
            let bar = LockedProgress(ProgressBar(topic == nil ? "rebuilding the public read model" : "replaying \(topic!)", total: nil))
            let report: @Sendable (PublicReadModel.Progress) -> Void = { progress in bar.update(progress.read, total: progress.total) }
            let applied: Int
            if let topic {
                var ranges = try await PublicReadModel.inputRanges(kafka: kafka, logger: logger).filter { $0.key.topic == kafka.topicName(topic) }
                if let partition { ranges = ranges.filter { $0.key.partition == partition } }
                ranges = ranges.compactMapValues { range in
                    let lower = max(range.lowerBound, from ?? range.lowerBound)
                    let upper = min(range.upperBound, to ?? range.upperBound)
                    return lower < upper ? lower..<upper : nil
                }
                applied = try await PublicReadModel.replay(
                    ranges, database: database, kafka: kafka, logger: logger, batchSize: batchSize, progress: report)
            } else {
                applied = try await PublicReadModel.rebuild(database: database, kafka: kafka, logger: logger, batchSize: batchSize, progress: report)
            }
            bar.finish()
            return applied
        }
        print("\(applied) events applied in \(started.duration(to: .now).formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))")
    }
}
