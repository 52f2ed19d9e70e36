import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// A real browser for tests: Debian's chromedriver driving headless Chromium over the W3C
/// WebDriver protocol (JSON over HTTP). Just what the tests use: open a page, type into fields,
/// choose options, click, read the page, take a screenshot.
public final class WebDriver: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let driver: ChildProcess
    let base: String
    let session: String
    /// Where screenshots go (git-ignored test artefacts).
    public let screenshots: URL
    private let ended = Mutex(false)

    /// Starts chromedriver on a free port and a headless Chromium session in it.
    public init(width: Int = 1280, height: Int = 900, screenshots folder: String = "Tests/screenshots/workbench") async throws {
        let port = try TestEnvironment.freePort()
        // ChildProcess keeps the browser on the real clock even when the suite runs under TEST_TODAY.
        driver = try ChildProcess("/usr/bin/chromedriver", ["--port=\(port)"])
        base = "http://127.0.0.1:\(port)"
        if let problem = await Self.waitForDriver(base) {
            driver.signal(SIGKILL)
            throw Failure(description: "chromedriver did not start on port \(port): \(problem)")
        }
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": "/usr/bin/chromium",
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=zh-CN",
                            "--window-size=\(width),\(height)",
                        ],
                    ],
                ]
            ]
        ]
        let answer = try await Self.send("POST", base + "/session", capabilities)
        guard let value = answer["value"] as? [String: Any], let id = value["sessionId"] as? String else {
            driver.signal(SIGKILL)
            throw Failure(description: "no WebDriver session: \(answer)")
        }
        session = id
        screenshots = URL(fileURLWithPath: folder, isDirectory: true)
        try? FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)
    }

    /// Nil once the driver is ready; what went wrong otherwise.
    private static func waitForDriver(_ base: String) async -> String? {
        var problem = "no answer"
        for _ in 0..<100 {
            do {
                let status = try await send("GET", base + "/status", nil)
                if (status["value"] as? [String: Any])?["ready"] as? Bool == true { return nil }
                problem = "\(status)"
            } catch {
                problem = "\(error)"
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return problem
    }

    @discardableResult
    static func send(_ method: String, _ url: String, _ body: [String: Any]?) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return (try JSONSerialization.jsonObject(with: Data(buffer: bytes)) as? [String: Any]) ?? [:]
    }

    @discardableResult
    func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        let answer = try await Self.send(method, base + "/session/" + session + path, body)
        if let value = answer["value"] as? [String: Any], let error = value["error"] as? String {
            throw Failure(description: "\(method) \(path): \(error): \(value["message"] as? String ?? "")")
        }
        return answer["value"]
    }

    /// Opens `url` and waits for the page to load.
    public func open(_ url: String) async throws {
        try await command("POST", "/url", ["url": url])
    }

    public var currentURL: String {
        get async throws { try await command("GET", "/url") as? String ?? "" }
    }

    public var source: String {
        get async throws { try await command("GET", "/source") as? String ?? "" }
    }

    /// The visible text of the page.
    public var text: String {
        get async throws { try await script("return document.body.innerText") as? String ?? "" }
    }

    func element(_ css: String) async throws -> String {
        guard let value = try await command("POST", "/element", ["using": "css selector", "value": css]) as? [String: Any],
            let id = value.values.first as? String
        else { throw Failure(description: "no element \(css)") }
        return id
    }

    public func type(_ text: String, into css: String) async throws {
        let id = try await element(css)
        try await command("POST", "/element/\(id)/clear", [:])
        try await command("POST", "/element/\(id)/value", ["text": text])
    }

    /// Chooses a file for an `<input type="file">`, as a person picks it in the dialog.
    public func attach(_ file: URL, to css: String) async throws {
        let id = try await element(css)
        try await command("POST", "/element/\(id)/value", ["text": file.path])
    }

    /// Opens every collapsed `<details>` section, as a person does before filling its form.
    public func openSections() async throws {
        try await script("document.querySelectorAll('details').forEach(function (d) { d.open = true })")
    }

    /// Sets a date field (typing into one depends on the browser's locale).
    public func setDate(_ value: String, in css: String) async throws {
        try await script("document.querySelector(arguments[0]).value = arguments[1]", [css, value])
    }

    /// Chooses the option of a `<select>` whose value is `value`.
    public func choose(_ value: String, in css: String) async throws {
        try await click("\(css) option[value=\"\(value)\"]")
    }

    public func click(_ css: String) async throws {
        let id = try await element(css)
        try await command("POST", "/element/\(id)/click", [:])
    }

    /// Clicks what submits a form or follows a link, and waits until the next page has loaded.
    public func clickAndWait(_ css: String) async throws {
        try await script("window.__beforeNavigation = true")
        try await click(css)
        for _ in 0..<300 {
            let loaded = try? await script("return window.__beforeNavigation === undefined && document.readyState === 'complete'") as? Bool
            if loaded == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(description: "clicking \(css) led to no new page")
    }

    @discardableResult
    public func script(_ source: String, _ arguments: [Any] = []) async throws -> Any? {
        try await command("POST", "/execute/sync", ["script": source, "args": arguments])
    }

    /// Saves a PNG of the window as `name`.png among the test artefacts.
    public func screenshot(_ name: String) async throws {
        guard let base64 = try await command("GET", "/screenshot") as? String, let data = Data(base64Encoded: base64) else { return }
        try data.write(to: screenshots.appendingPathComponent(name + ".png"))
    }

    public func resize(width: Int, height: Int) async throws {
        try await command("POST", "/window/rect", ["width": width, "height": height])
    }

    public func deleteCookies() async throws {
        try await command("DELETE", "/cookie")
    }

    /// Closes the browser and stops chromedriver (which outlives a SIGTERM while it has served a
    /// session, so it is killed once the session is gone).
    public func quit() async {
        // Once: a second quit (a test's own and its deferred one) must not signal a pid reused since.
        guard
            ended.withLock({ ended in
                defer { ended = true }; return !ended
            })
        else { return }
        _ = try? await Self.send("DELETE", base + "/session/" + session, nil)
        driver.signal(SIGKILL)
        _ = await driver.output()
    }
}
