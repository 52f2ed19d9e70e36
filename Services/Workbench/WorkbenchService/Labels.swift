import Foundation
import Models

/// The Chinese names staff read for the codes the APIs answer with.
enum Labels {
    static let clueStatus: [String: String] = [
        "awaiting-review": "待审核", "forwarded": "已转交", "with-special-committee": "专委会研究", "reference-topic": "参考选题",
        "claimed": "已认领", "in-proposal": "已形成提案", "sent-to-municipal": "直通车报送市政协", "closed": "已办结",
    ]
    static let proposalStatus: [String: String] = [
        "drafting": "培育中", "submitted": "待审查", "filed": "已立案", "not-filed": "不予立案", "assigned": "办理中",
        "contested": "有异议", "replied": "已答复", "rehandling": "重新办理", "evaluated": "已评价", "closed": "已办结",
    ]
    static let urgency: [String: String] = ["normal": "一般", "important": "重要", "urgent": "紧急"]
    static let channel: [String: String] = [
        "web": "网上表单", "wechat": "微信", "government-service-app": "政务服务 App", "qr-code": "扫码", "staff-entry": "工作室录入",
        "batch-import": "批量导入", "open311": "Open311",
    ]
    static let routes: [(code: String, name: String)] = [
        ("reference-topic", "作为参考选题发布"), ("special-committee", "交专委会研究"), ("forward-to-district-body", "转交区有关部门"),
        ("municipal-department", "转交市级部门"), ("through-train", "直通车报送市政协"), ("close", "办结（告知提交人理由）"),
    ]
    static let purposes: [(code: String, name: String)] = [
        ("research", "调研"), ("standing-committee-deliberation", "常委会议政"), ("key-proposal-cultivation", "重点提案培育"),
        ("consultation-topic", "协商议题"),
    ]
    static let alternativeRoutes: [(code: String, name: String)] = [
        ("public-opinion-report", "作为社情民意信息报送"), ("letter-to-department", "转有关部门参考"), ("none", "不另作处理"),
    ]

    static func name(_ code: String?, in table: [String: String]) -> String {
        guard let code else { return "" }
        return table[code] ?? code
    }

    /// Options for a `<select>`, the chosen one marked.
    static func options(_ choices: [(code: String, name: String)], selected: String?) -> [[String: Any]] {
        choices.map { ["code": $0.code, "name": $0.name, "selected": $0.code == selected] }
    }

    static func options(_ table: [String: String], selected: String?) -> [[String: Any]] {
        options(table.sorted { $0.key < $1.key }.map { (code: $0.key, name: $0.value) }, selected: selected)
    }

    /// A date-time as staff read it, in China's time.
    static func time(_ value: Any?) -> String {
        guard let text = value as? String, let date = parse(text) else { return "" }
        return date.formatted(timeStyle)
    }

    /// The API's list with each item's `field` time as staff read it, under `when`.
    static func stamped(_ list: Any?, _ field: String) -> [[String: Any]] {
        ((list as? [[String: Any]]) ?? []).map { item in
            var item = item
            item["when"] = time(item[field])
            return item
        }
    }

    /// A file's size as people read it: `820 字节`, `35 KB`, `2.4 MB`.
    static func size(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) 字节" }
        if bytes < 1024 * 1024 { return "\((bytes + 512) / 1024) KB" }
        return String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }

    /// `2026/12/5 22:57` in China time. Built once: a format style made per call (and the ISO
    /// 8601 formatters below) cost a 200-row page tens of milliseconds.
    private static let timeStyle: Date.FormatStyle = {
        var style = Date.FormatStyle(date: .numeric, time: .shortened)
        style.timeZone = TimeZone.chinaTime
        style.locale = Locale(identifier: "zh_CN")
        return style
    }()
}

extension Labels {
    /// An API's timestamp, with or without fractional seconds.
    static func parse(_ text: String) -> Date? {
        (try? plainTimestamp.parse(text)) ?? (try? fractionalTimestamp.parse(text))
    }

    private static let plainTimestamp = Date.ISO8601FormatStyle()
    private static let fractionalTimestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

/// A text split around the phrases the classification rules found, for `<mark>` in the page
/// (the template escapes each part; no HTML is built from the text).
enum Highlight {
    static func segments(_ text: String, phrases: [String]) -> [[String: Any]] {
        let wanted = phrases.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
        guard !wanted.isEmpty else { return [["text": text, "mark": false]] }
        var segments: [[String: Any]] = []
        var plain = ""
        var index = text.startIndex
        outer: while index < text.endIndex {
            for phrase in wanted where text[index...].hasPrefix(phrase) {
                if !plain.isEmpty { segments.append(["text": plain, "mark": false]); plain = "" }
                segments.append(["text": phrase, "mark": true])
                index = text.index(index, offsetBy: phrase.count)
                continue outer
            }
            plain.append(text[index])
            index = text.index(after: index)
        }
        if !plain.isEmpty { segments.append(["text": plain, "mark": false]) }
        return segments
    }
}
