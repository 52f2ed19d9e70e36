import Foundation
import ServiceKit

/// The operator dashboard (运维看板): one server-rendered page of the snapshot, refreshing
/// itself, readable without JavaScript. Figures past their threshold are marked.
public enum DashboardPage {
    public struct Thresholds: Sendable {
        public var lag: Int64 = 1_000
        public var outboxAgeSeconds: Double = 120
        public var overdueRatio: Double = 0.1

        public init() {}
    }

    public static func render(_ snapshot: OperationsSnapshot, thresholds: Thresholds = Thresholds(), refreshSeconds: Int = 15) -> String {
        var html = """
            <!doctype html>
            <html lang="zh-CN"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="refresh" content="\(refreshSeconds)">
            <title>百姓提案 · 运维看板 Operations</title>
            <style>
            body{font-family:system-ui,"WenQuanYi Micro Hei",sans-serif;margin:1rem;color:#222}
            h1{font-size:1.3rem}h2{font-size:1.05rem;margin-top:1.4rem}
            table{border-collapse:collapse;margin:.3rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
            td.n{text-align:right;font-variant-numeric:tabular-nums}.bad{background:#fbe3e3;font-weight:bold}.ok{color:#1a6b2a}
            .problems{background:#fff3cd;padding:.5rem;border:1px solid #e0c060}
            </style></head><body>
            <h1>百姓提案 · 运维看板 <small>Operations</small></h1>
            <p>Taken \(HTMLText.escape(snapshot.takenAt.formatted(.iso8601))); refreshes every \(refreshSeconds) s.
            JSON: <a href="/snapshot.json">/snapshot.json</a></p>

            """
        if !snapshot.problems.isEmpty {
            html += "<div class=\"problems\" role=\"alert\"><strong>Could not read:</strong><ul>"
            for problem in snapshot.problems { html += "<li>\(HTMLText.escape(problem))</li>" }
            html += "</ul></div>\n"
        }

        html += section(
            "Consumer lag (消费积压)", headers: ["group", "lag", "partitions behind"],
            rows: snapshot.lag.map { group in
                let behind = group.partitions.filter { $0.lag > 0 }.map { "\($0.topic)[\($0.partition)] \($0.lag)" }.joined(separator: ", ")
                return [cell(group.group), number(group.total, bad: group.total > thresholds.lag), cell(behind.isEmpty ? "—" : behind)]
            })
        html += section(
            "Dead letters (死信)", headers: ["topic", "messages", "replayed", "waiting"],
            rows: snapshot.deadLetters.map { topic in
                [cell(topic.topic), number(topic.messages), number(Int64(topic.replayed)), number(topic.waiting, bad: topic.waiting > 0)]
            })
        html += section(
            "Outbox (待发事件)", headers: ["source", "unsent", "oldest unsent", "failing", "published in the last hour"],
            rows: snapshot.outbox.map { row in
                let age = row.oldestUnsentSeconds ?? 0
                return [
                    cell(row.source), number(Int64(row.unsent)),
                    "<td class=\"n\(age > thresholds.outboxAgeSeconds ? " bad" : "")\">\(row.oldestUnsentSeconds.map { String(format: "%.0f s", $0) } ?? "—")</td>",
                    number(Int64(row.failing), bad: row.failing > 0), number(Int64(row.publishedLastHour)),
                ]
            })
        html += section(
            "Overdue assignments (超期办理)", headers: ["district", "in handling", "overdue", "ratio"],
            rows: snapshot.assignments.map { row in
                let ratio = row.open > 0 ? Double(row.overdue) / Double(row.open) : 0
                return [
                    cell(row.district), number(Int64(row.open)), number(Int64(row.overdue)),
                    "<td class=\"n\(ratio > thresholds.overdueRatio ? " bad" : "")\">\(String(format: "%.0f%%", ratio * 100))</td>",
                ]
            })
        html += section(
            "Open clues (待处理线索)", headers: ["district", "status", "clues"],
            rows: snapshot.openClues.map { row in
                [cell(row.district), cell(row.status), number(Int64(row.count))]
            })
        html += section(
            "Notifications (通知)", headers: ["district", "pending", "dead-lettered"],
            rows: snapshot.notifications.map { row in
                [cell(row.district), number(Int64(row.pending)), number(Int64(row.dead), bad: row.dead > 0)]
            })
        html += "<p>What a marked figure means and what to do: ops/RUNBOOK.md.</p></body></html>\n"
        return html
    }

    private static func section(_ title: String, headers: [String], rows: [[String]]) -> String {
        var html = "<h2>\(HTMLText.escape(title))</h2>\n"
        guard !rows.isEmpty else { return html + "<p class=\"ok\">Nothing to show.</p>\n" }
        html += "<table><thead><tr>" + headers.map { "<th scope=\"col\">\(HTMLText.escape($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for row in rows { html += "<tr>" + row.joined() + "</tr>\n" }
        return html + "</tbody></table>\n"
    }

    private static func cell(_ text: String) -> String { "<td>\(HTMLText.escape(text))</td>" }

    private static func number(_ value: Int64, bad: Bool = false) -> String {
        "<td class=\"n\(bad ? " bad" : "")\">\(value)</td>"
    }
}
