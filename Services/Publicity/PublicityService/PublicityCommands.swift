import Foundation
import Logging
import Operations
import ServiceKit
import Storage

/// The executable's one-off commands.
public enum PublicityCommands {
    /// Rebuilds the read model with progress on standard error; exit code 1 on failure.
    public static func rebuild() async {
        let configuration: ServiceConfiguration
        do {
            configuration = try ServiceConfiguration.fromEnvironment(.publicity, settings: nil)
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            exit(2)
        }
        LoggingSetup.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
        let logger = Logger(label: "publicity-rebuild")
        let database = Database(configuration: configuration.database, logger: logger)
        let bar = LockedProgress(ProgressBar("rebuilding the public read model", total: nil))
        do {
            let applied = try await database.running {
                try await PublicReadModel.rebuild(database: database, kafka: configuration.kafka, logger: logger) { progress in
                    bar.update(progress.read, total: progress.total)
                }
            }
            bar.finish()
            FileHandle.standardError.write(Data("read model rebuilt from \(applied) events\n".utf8))
        } catch {
            FileHandle.standardError.write(Data("\npublicity: rebuild failed: \(error)\n".utf8))
            exit(1)
        }
    }
}
