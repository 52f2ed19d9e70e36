import Foundation
import Models
import ServiceKit
import Testing

@testable import PublicityService

/// The portal's query parameters: what is in range is read, what is not names the parameter.
struct PortalInputTests {
    @Test func readsEveryFilter() throws {
        let filter = try FeedbackFilter(query: [
            "district": "haizhu", "domain": "交通", "status": "replied", "year": "2026", "call": "6F1C4C4E-8E8B-4C57-9D5B-2C0E1D7A0B11",
            "unit": "区交通运输局", "q": "电动车", "page": "3",
        ])
        #expect(filter.district == "haizhu" && filter.domain == "交通" && filter.status == .replied && filter.year == 2026)
        #expect(filter.call == UUID(uuidString: "6F1C4C4E-8E8B-4C57-9D5B-2C0E1D7A0B11") && filter.unit == "区交通运输局" && filter.text == "电动车")
        #expect(filter.page == 3)
        #expect(filter.queryString(page: 4).hasSuffix("&page=4"))
        // Encoded so it can be read back to the same filter.
        let parsed = URLComponents(string: "/feedback" + filter.queryString(page: 4))!.queryItems!
        let again = try FeedbackFilter(query: Dictionary(uniqueKeysWithValues: parsed.map { ($0.name, $0.value ?? "") }))
        #expect(again.district == filter.district && again.text == filter.text && again.unit == filter.unit && again.page == 4)
    }

    @Test(arguments: [
        ("page", "0"), ("page", "10001"), ("page", "abc"), ("year", "1999"), ("year", "99999999999999999999"), ("status", "lost"),
        ("district", "Hai Zhu"), ("call", "not-a-uuid"), ("q", String(repeating: "长", count: 51)),
    ])
    func refusesWhatIsOutOfRange(_ parameter: String, _ value: String) {
        #expect(throws: PortalProblem.self) { try FeedbackFilter(query: [parameter: value]) }
        do {
            _ = try FeedbackFilter(query: [parameter: value])
        } catch {
            #expect(error.parameter == parameter)
        }
    }

    @Test func emptyParametersMeanNoFilter() throws {
        let filter = try FeedbackFilter(query: ["district": "", "year": " ", "page": ""])
        #expect(filter == FeedbackFilter())
    }

    @Test func chartsEscapeTheirLabels() {
        let chart = BarChart(title: "街道<script>", bars: [("<script>alert(1)</script>", 3), ("南华西街", 0)], unit: "条")
        #expect(!chart.svg.contains("<script>"))
        #expect(chart.svg.contains("&lt;script&gt;"))
        #expect(chart.svg.contains("role=\"img\""))
        #expect(chart.svg == BarChart(title: "街道<script>", bars: [("<script>alert(1)</script>", 3), ("南华西街", 0)], unit: "条").svg)
    }

    @Test func csvFieldsStayText() {
        #expect(OpenDataController.csvField("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
        #expect(OpenDataController.csvField("a,b") == "\"a,b\"")
        #expect(OpenDataController.csvField("普通文字") == "普通文字")
    }

    @Test func retriesDoubleUntilTheAttemptsAreUsed() {
        let policy = RetryPolicy(maximumAttempts: 4, base: 10)
        #expect(policy.delay(afterAttempts: 1) == 10)
        #expect(policy.delay(afterAttempts: 2) == 20)
        #expect(policy.delay(afterAttempts: 3) == 40)
        #expect(policy.delay(afterAttempts: 4) == nil)
        let capped = RetryPolicy(maximumAttempts: 50, base: 3_600).delay(afterAttempts: 20)
        #expect(capped.map { abs($0 - 21_600) < 0.001 } == true, "six hours at most, got \(String(describing: capped))")
    }

    @Test func signaturesCoverTimeAndBody() {
        let body = Data("{\"event\":\"proposal.filed\"}".utf8)
        let signature = WebhookChannel.signature(secret: "0123456789abcdef", timestamp: 1_770_000_000, body: body)
        #expect(signature.hasPrefix("t=1770000000,v1="))
        #expect(signature.count == "t=1770000000,v1=".count + 64)
        #expect(signature != WebhookChannel.signature(secret: "0123456789abcdef", timestamp: 1_770_000_001, body: body))
        #expect(signature != WebhookChannel.signature(secret: "0123456789abcdeX", timestamp: 1_770_000_000, body: body))
    }
}
