import Foundation
import Logging
import ServiceKit
import Storage

/// The executable's one-off commands.
public enum PublicityCommands {
    /// Rebuilds the read model with progress on standard error; exit code 1 on failure.
    public static func rebuild() async {
        let configuration: ServiceConfiguration
        do {
            configuration = try ServiceConfiguration.fromEnvironment(.publicity, checkSettings: nil)
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            exit(2)
        }
        LoggingSetup.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
        let logger = Logger(label: "publicity-rebuild")
        let database = Database(configuration: configuration.database, logger: logger)
        let started = ContinuousClock.now
        do {
            let applied = try await database.running {
                try await PublicReadModel.rebuild(database: database, kafka: configuration.kafka, logger: logger) { progress in
                    let seconds = Double((ContinuousClock.now - started).components.seconds) + 0.001
                    FileHandle.standardError.write(Data(String(format: "\rread %d of %d messages (%.0f/s)", progress.read, progress.total,
                                                               Double(progress.read) / seconds).utf8))
                }
            }
            FileHandle.standardError.write(Data("\nread model rebuilt from \(applied) events\n".utf8))
        } catch {
            FileHandle.standardError.write(Data("\npublicity: rebuild failed: \(error)\n".utf8))
            exit(1)
        }
    }
}
