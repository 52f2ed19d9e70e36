import Foundation
import Testing

/// ops/prometheus/alerts.yml and the Grafana dashboard read metrics the services export, and
/// every alert leads to its section of ops/RUNBOOK.md. (`ops/test.sh` also runs promtool's
/// own `check rules` and the rule unit tests in alerts-test.yml.)
@Suite("alert rules and dashboard")
struct AlertRulesTests {
    /// GitHub's anchor for a heading: lower case, spaces to hyphens, punctuation dropped.
    static func anchor(_ heading: String) -> String {
        String(
            heading.lowercased().compactMap { character -> Character? in
                if character == " " { return "-" }
                return character.isLetter || character.isNumber || character == "-" || character == "_" ? character : nil
            })
    }

    @Test("every alert has a severity, a summary and a runbook section that exists")
    func rulesAreComplete() throws {
        let rules = try RepositoryFiles.yaml("ops/prometheus/alerts.yml")
        let runbook = try RepositoryFiles.text("ops/RUNBOOK.md")
        let anchors = Set(runbook.split(separator: "\n").filter { $0.hasPrefix("## ") }.map { Self.anchor(String($0.dropFirst(3))) })
        let alerts = (rules["groups"] as? [[String: Any]] ?? []).flatMap { $0["rules"] as? [[String: Any]] ?? [] }
        #expect(alerts.count >= 5)
        var names: [String] = []
        for rule in alerts {
            let name = try #require(rule["alert"] as? String)
            names.append(name)
            #expect((rule["expr"] as? String)?.isEmpty == false, "\(name)")
            #expect(["page", "ticket"].contains((rule["labels"] as? [String: Any])?["severity"] as? String), "\(name): severity")
            let annotations = rule["annotations"] as? [String: String] ?? [:]
            #expect(annotations["summary"]?.isEmpty == false && annotations["description"]?.isEmpty == false, "\(name)")
            let link = try #require(annotations["runbook"], "\(name) has no runbook link")
            #expect(link.hasPrefix("ops/RUNBOOK.md#"), "\(name): \(link)")
            let anchor = String(link.split(separator: "#").last ?? "")
            #expect(anchors.contains(anchor), "\(name) links to #\(anchor), which is no section of ops/RUNBOOK.md")
        }
        // What the deployment issue asks to alert on.
        for wanted in ["ServiceDown", "ConsumerLagGrowing", "DeadLettersArrived", "OutboxBacklogOld", "OverdueAssignmentsHigh"] {
            #expect(names.contains(wanted), "no \(wanted) alert")
        }
    }

    @Test("alerts and dashboard panels read only metrics the code exports")
    func metricsExist() throws {
        let exported = try RepositoryFiles.exportedMetrics()
        // The test reads what it should: the business gauges and the renamed HTTP metrics.
        #expect(
            exported.isSuperset(of: [
                "consumer_lag_messages", "clues_open", "assignments_overdue", "http_request_duration_seconds", "outbox_oldest_pending_age_seconds",
            ]))

        let rules = try RepositoryFiles.yaml("ops/prometheus/alerts.yml")
        var expressions = (rules["groups"] as? [[String: Any]] ?? []).flatMap { $0["rules"] as? [[String: Any]] ?? [] }.compactMap {
            $0["expr"] as? String
        }
        let dashboard = try JSONSerialization.jsonObject(with: Data(RepositoryFiles.text("ops/grafana/citizens-proposals.json").utf8))
        expressions += Self.strings(named: "expr", in: dashboard)
        #expect(expressions.count > 10)
        for expression in expressions {
            let unknown = RepositoryFiles.metrics(in: expression).subtracting(exported)
            #expect(unknown.isEmpty, "\(unknown.sorted()) in \(expression)")
        }
        // The check itself notices a metric nobody exports.
        #expect(
            RepositoryFiles.metrics(in: "sum by (consumer) (rate(consumer_lagg_messages{topic=\"x\"}[5m])) > 0").subtracting(exported) == [
                "consumer_lagg_messages"
            ])
    }

    static func strings(named key: String, in value: Any) -> [String] {
        if let object = value as? [String: Any] {
            return object.flatMap { name, member in (name == key ? [member as? String].compactMap { $0 } : []) + strings(named: key, in: member) }
        }
        if let array = value as? [Any] { return array.flatMap { strings(named: key, in: $0) } }
        return []
    }
}
