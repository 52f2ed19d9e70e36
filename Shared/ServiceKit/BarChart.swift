import Foundation

/// A horizontal bar chart drawn as SVG on the server: readable without JavaScript, with a title
/// and a description for screen readers, every label escaped.
public struct BarChart: Sendable {
    public var title: String
    public var bars: [(label: String, value: Int)]
    /// Shown after each value, e.g. "条".
    public var unit: String

    public init(title: String, bars: [(label: String, value: Int)], unit: String) {
        self.title = title
        self.bars = bars
        self.unit = unit
    }

    public var svg: String {
        // Narrow enough to stay legible on a phone without scaling the text down much.
        let width = 440, labelWidth = 120, barHeight = 22, gap = 8, top = 34
        let height = top + max(1, bars.count) * (barHeight + gap) + 8
        let largest = max(1, bars.map(\.value).max() ?? 1)
        let room = width - labelWidth - 64
        // A stable id (FNV-1a of the title): the same page renders the same bytes.
        let id = "chart-" + String(title.unicodeScalars.reduce(UInt32(2_166_136_261)) { ($0 ^ $1.value) &* 16_777_619 }, radix: 16)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(width) \(height)" width="\(width)" height="\(height)" role="img" \
            aria-labelledby="\(id)-title \(id)-desc"><title id="\(id)-title">\(escape(title))</title>\
            <desc id="\(id)-desc">\(escape(bars.map { "\($0.label) \($0.value)\(unit)" }.joined(separator: "；")))</desc>\
            <text x="0" y="20" font-size="17" font-weight="bold">\(escape(title))</text>
            """
        if bars.isEmpty {
            svg += ##"<text x="0" y="52" font-size="14" fill="#555">暂无数据</text>"##
        }
        for (index, bar) in bars.enumerated() {
            let y = top + index * (barHeight + gap)
            let length = bar.value == 0 ? 0 : max(2, bar.value * room / largest)
            svg += """
                <text x="\(labelWidth - 6)" y="\(y + 16)" font-size="14" text-anchor="end">\(escape(String(bar.label.prefix(8))))</text>\
                <rect x="\(labelWidth)" y="\(y)" width="\(length)" height="\(barHeight)" fill="#b71c1c"/>\
                <text x="\(labelWidth + length + 6)" y="\(y + 16)" font-size="14">\(bar.value)\(escape(unit))</text>
                """
        }
        return svg + "</svg>"
    }

    func escape(_ text: String) -> String { HTMLText.escape(text) }
}

/// A share as the statistics page prints it: "87.5%", or "—" with nothing to divide.
public func percentage(_ part: Int, of whole: Int) -> String {
    guard whole > 0 else { return "—" }
    return String(format: "%.1f%%", Double(part) * 100 / Double(whole))
}
