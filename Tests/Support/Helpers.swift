import Foundation
import Logging
import Messaging
import ServiceLifecycle

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
public func eventually(timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool)
    async rethrows -> Bool
{
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

/// Reads `topic` from the beginning with a consumer group of its own until `count` messages
/// arrived or `timeout` passed, then keeps reading for `settle` to catch any extra ones.
public func readTopic(_ topic: String, kafka: KafkaConfiguration, atLeast count: Int, timeout: Duration = .seconds(60), settle: Duration = .zero)
    async throws -> [KafkaMessage]
{
    var settings = ConsumerConfiguration(groupID: "reader-\(UUID().uuidString)", topics: [topic])
    settings.pollTimeoutMilliseconds = 100
    let consumer = try KafkaConsumer(configuration: kafka, consumer: settings, logger: TestEnvironment.logger)
    var messages: [KafkaMessage] = []
    let deadline = ContinuousClock.now + timeout
    while messages.count < count && ContinuousClock.now < deadline {
        messages += try await consumer.poll()
    }
    let settled = ContinuousClock.now + settle
    while ContinuousClock.now < settled {
        messages += try await consumer.poll()
    }
    await consumer.close()
    return messages
}

/// Services running in a service group of their own, stopped gracefully by `stop()`.
public final class RunningServices: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    public init(_ services: [any Service]) {
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) }, logger: TestEnvironment.logger))
        self.group = group
        self.task = Task { try await group.run() }
    }

    /// Graceful shutdown, as on SIGTERM; returns when every service returned.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

/// A `multipart/form-data` body as a browser sends a form with files.
public struct MultipartBody: Sendable {
    public struct File: Sendable {
        public var field: String
        public var filename: String
        public var mediaType: String
        public var content: Data
        public init(field: String, filename: String, mediaType: String, content: Data) {
            self.field = field
            self.filename = filename
            self.mediaType = mediaType
            self.content = content
        }
    }

    public let boundary = "----TestFormBoundary" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
    public var data: Data
    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    public init(fields: [(String, String)], files: [File]) {
        var data = Data()
        for (name, value) in fields {
            data.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8))
        }
        for file in files {
            data.append(
                Data(
                    "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.filename)\"\r\nContent-Type: \(file.mediaType)\r\n\r\n"
                        .utf8))
            data.append(file.content)
            data.append(Data("\r\n".utf8))
        }
        data.append(Data("--\(boundary)--\r\n".utf8))
        self.data = data
    }
}
