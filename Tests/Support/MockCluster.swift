import Foundation
import Messaging

/// A Kafka mock cluster of a test's own (the ops/mock-broker executable in a child process), for
/// fault tests that take brokers down without disturbing other tests.
public final class PrivateMockCluster: Sendable {
    public let brokers: String
    public let control: MockClusterControl
    private let process: ChildProcess
    private let directory: URL

    public init(brokers count: Int = 3) throws {
        let binary = try TestEnvironment.value("MOCK_BROKER_BINARY")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let bootstrapFile = directory.appendingPathComponent("brokers")
        let controlFile = directory.appendingPathComponent("control")
        process = try ChildProcess(
            binary, ["--brokers", String(count), "--bootstrap-file", bootstrapFile.path, "--control-file", controlFile.path],
            standardError: .inherit)
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: controlFile.path) || !FileManager.default.fileExists(atPath: bootstrapFile.path) {
            guard Date() < deadline else { throw TestEnvironment.Missing(variable: "a running mock cluster (it did not start)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        brokers = try String(contentsOf: bootstrapFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let control = MockClusterControl(address: try String(contentsOf: controlFile, encoding: .utf8)) else {
            throw TestEnvironment.Missing(variable: "the mock cluster's control address")
        }
        self.control = control
    }

    public func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}
