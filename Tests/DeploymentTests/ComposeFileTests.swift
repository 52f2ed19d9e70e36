import AssignmentService
import Foundation
import IntakeService
import Models
import PublicityService
import ServiceKit
import SupervisionService
import Testing
import TriageService
import WorkbenchService

/// docker-compose.yml checked against the services' own configuration code. No Docker engine
/// runs on the development machines, so the stack itself was never started here; Docker Compose
/// itself validates and resolves the file in ops/test/compose-config.sh (syntax, interpolation and
/// required variables, profiles, dependencies), so these tests check only what it cannot know.
@Suite("docker-compose.yml")
struct ComposeFileTests {
    let compose: [String: Any]
    let services: [String: [String: Any]]

    init() throws {
        compose = try RepositoryFiles.yaml("docker-compose.yml")
        services = (compose["services"] as? [String: [String: Any]]) ?? [:]
    }

    static let definitions: [ServiceName: ServiceDefinition] = [
        .intake: IntakeService.definition, .triage: TriageService.definition, .assignment: AssignmentService.definition,
        .supervision: SupervisionService.definition, .publicity: PublicityService.definition, .workbench: WorkbenchService.definition,
    ]

    /// Values an operator would export for the required variables, and defaults for the rest.
    static let operatorEnvironment = [
        "TOKEN_SECRET": "an-operator-chosen-secret-of-40-characters", "POSTGRES_PASSWORD": "postgres-password",
        "PROPOSALS_DB_PASSWORD": "proposals-password",
    ]

    /// Compose's interpolation: `${NAME}`, `${NAME:-default}`, `${NAME:?error}`.
    static func interpolate(_ text: String, _ environment: [String: String]) throws -> String {
        let pattern = try NSRegularExpression(pattern: #"\$\{([A-Z_][A-Z0-9_]*)(?::([-?])([^}]*))?\}"#)
        var result = text
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
            let name = String(text[Range(match.range(at: 1), in: text)!])
            let kind = Range(match.range(at: 2), in: text).map { String(text[$0]) }
            let argument = Range(match.range(at: 3), in: text).map { String(text[$0]) } ?? ""
            let value: String
            if let set = environment[name], !set.isEmpty {
                value = set
            } else if kind == "-" {
                value = argument
            } else if kind == "?" {
                throw Problem("\(name) is required: \(argument)")
            } else {
                value = ""
            }
            result.replaceSubrange(Range(match.range, in: result)!, with: value)
        }
        return result
    }

    func environment(of name: String, operator given: [String: String] = operatorEnvironment) throws -> [String: String] {
        let raw = services[name]?["environment"] as? [String: Any] ?? [:]
        return try raw.mapValues { try Self.interpolate("\($0)", given) }
    }

    @Test("every service starts with the environment the file gives it, and fails without a required one")
    func servicesAcceptTheirEnvironment() throws {
        for service in ServiceName.allCases {
            let entry = try #require(services[service.rawValue], "\(service) is missing")
            #expect(entry["command"] as? [String] == [service.rawValue])
            let environment = try environment(of: service.rawValue)
            let configuration = try ServiceConfiguration.fromEnvironment(
                service, environment: environment, settings: Self.definitions[service]!.settings)
            #expect(configuration.httpHost == "0.0.0.0", "\(service) must listen beyond the container's loopback")
            #expect(configuration.database.host == "postgres" && configuration.kafka.brokers == ["kafka:9092"])

            // The health check and Prometheus ask the port the service listens on.
            let check = (entry["healthcheck"] as? [String: Any])?["test"] as? [String] ?? []
            #expect(check.joined(separator: " ").contains("127.0.0.1:\(configuration.httpPort)/health/ready"), "\(service): \(check)")

            for required in ["DATABASE_URL", "KAFKA_BROKERS", "TOKEN_SECRET"] {
                var missing = environment
                missing[required] = nil
                #expect(throws: ConfigurationError.self, "\(service) without \(required)") {
                    try ServiceConfiguration.fromEnvironment(service, environment: missing, settings: Self.definitions[service]!.settings)
                }
            }
        }
    }

    @Test("every long-running service has a health check; one-shot jobs do not restart")
    func healthChecks() throws {
        for (name, entry) in services {
            let oneShot = (entry["restart"] as? String) == "no"
            if oneShot { continue }
            let check = try #require(entry["healthcheck"] as? [String: Any], "\(name) has no healthcheck")
            let test = check["test"] as? [String] ?? []
            #expect(test.first == "CMD" && test.count > 1, "\(name): \(test)")
        }
        #expect((services["init"]?["restart"] as? String) == "no")
    }

    @Test("published host ports do not collide, and consumer services publish none so they scale")
    func ports() throws {
        var seen: [Int: String] = [:]
        for (name, entry) in services.sorted(by: { $0.key < $1.key }) {
            for mapping in entry["ports"] as? [Any] ?? [] {
                let parts = "\(mapping)".split(separator: ":")
                let host = try #require(parts.count >= 2 ? Int(parts[parts.count - 2]) : nil, "\(name): host port of \(mapping)")
                #expect(seen[host] == nil, "\(name) and \(seen[host] ?? "") both publish \(host)")
                seen[host] = name
            }
        }
        for scaled in ["triage", "assignment", "supervision"] {
            #expect(services[scaled]?["ports"] == nil, "\(scaled) publishes a host port, so `--scale \(scaled)=3` would collide")
        }
    }

    @Test("topics have at least as many partitions as the instances the file suggests")
    func partitionsAllowScaling() throws {
        let header = try RepositoryFiles.text("docker-compose.yml")
        let consumed = Set(ServiceName.allCases.flatMap { TopicCatalogue.inputs(of: $0) }.map(\.name))
        for topic in TopicCatalogue.all where consumed.contains(topic.name) {
            #expect(topic.partitions >= 6, "\(topic.name): \(topic.partitions) partitions")
        }
        #expect(header.contains("--scale triage=3"))
    }

    @Test("images are pinned, built ones come from a stage of the Dockerfile")
    func images() throws {
        let dockerfile = try RepositoryFiles.text("Dockerfile")
        let stages = dockerfile.split(separator: "\n").filter { $0.hasPrefix("FROM ") }.map { line in
            (image: String(line.split(separator: " ")[1]), name: line.split(separator: " ").count >= 4 ? String(line.split(separator: " ")[3]) : "")
        }
        #expect(
            stages.contains { $0.image.hasPrefix("swift:6.2") && $0.name == "build" },
            "the build stage uses the toolchain of Package.swift (tools 6.2)")
        #expect(stages.contains { $0.name == "runtime" })
        #expect(stages.allSatisfy { $0.image.contains(":") && !$0.image.hasSuffix(":latest") }, "\(stages)")
        #expect(dockerfile.contains("librdkafka1"), "the runtime image carries librdkafka")
        #expect(dockerfile.contains("--static-swift-stdlib"))

        let built = services.filter { $0.value["build"] != nil }
        #expect(Set(built.keys).isSuperset(of: ServiceName.allCases.map(\.rawValue) + ["init"]))
        for (name, entry) in built {
            let build = try #require(entry["build"] as? [String: Any])
            #expect((build["dockerfile"] as? String) == "Dockerfile")
            let target = try #require(build["target"] as? String)
            #expect(stages.contains { $0.name == target }, "\(name) builds stage \(target), which the Dockerfile lacks")
        }
        let pulled = Dictionary(
            uniqueKeysWithValues: services.filter { $0.value["build"] == nil }.map { ($0.key, $0.value["image"] as? String ?? "") })
        #expect(pulled["kafka"]?.hasPrefix("apache/kafka:3.9") == true, "Apache Kafka 3.9 (KRaft): \(pulled["kafka"] ?? "none")")
        #expect(pulled["postgres"]?.hasPrefix("postgres:16") == true)
        #expect(pulled["prometheus"]?.hasPrefix("prom/prometheus:v") == true)
        let kafka = try environment(of: "kafka")
        #expect(kafka["KAFKA_PROCESS_ROLES"] == "broker,controller", "KRaft: no ZooKeeper")
    }

    @Test("the services wait for the init job, which migrates and creates the topics once the broker and store are healthy")
    func startOrder() throws {
        for service in ServiceName.allCases {
            let condition = ((services[service.rawValue]?["depends_on"] as? [String: Any])?["init"] as? [String: Any])?["condition"] as? String
            #expect(condition == "service_completed_successfully", "\(service)")
        }
        let initDependencies = services["init"]?["depends_on"] as? [String: [String: String]] ?? [:]
        #expect(initDependencies["kafka"]?["condition"] == "service_healthy" && initDependencies["postgres"]?["condition"] == "service_healthy")
        let command = (services["init"]?["command"] as? [String] ?? []).joined(separator: " ")
        #expect(command.contains("proposals-ctl migrate") && command.contains("proposals-ctl topics create"))
    }

    @Test("Prometheus scrapes every service on its port and loads the alert rules; mounted files exist")
    func prometheus() throws {
        let configuration = try RepositoryFiles.yaml("ops/prometheus/prometheus.yml")
        let jobs = configuration["scrape_configs"] as? [[String: Any]] ?? []
        for service in ServiceName.allCases {
            let job = try #require(jobs.first { $0["job_name"] as? String == service.rawValue }, "no scrape job for \(service)")
            let discovery = (job["dns_sd_configs"] as? [[String: Any]])?.first
            #expect(discovery?["names"] as? [String] == [service.rawValue], "every replica is found through the service's DNS name")
            #expect(discovery?["port"] as? Int == ServiceConfiguration.defaultPorts[service])
        }
        #expect((configuration["rule_files"] as? [String])?.contains("alerts.yml") == true)

        for (name, entry) in services {
            for volume in entry["volumes"] as? [String] ?? [] where volume.hasPrefix("./") {
                let path = String(volume.dropFirst(2).split(separator: ":")[0])
                #expect(RepositoryFiles.exists(path), "\(name) mounts \(path), which does not exist")
            }
        }
        let mounts = (services["prometheus"]?["volumes"] as? [String] ?? []).joined(separator: " ")
        #expect(mounts.contains("ops/prometheus/prometheus.yml") && mounts.contains("ops/prometheus/alerts.yml"))
    }
}
