import Foundation
import Models
import TestSupport
import Testing

/// The portal as a browser shows it: headless Chromium (Debian's `chromium`, installed by
/// ops/setup.sh) loads each page at a phone's size, saves a screenshot under Tests/screenshots/
/// (git-ignored) and dumps the rendered DOM, whose text is checked.
@Suite(.timeLimit(.minutes(3)))
struct PortalBrowserTests {
    static let screenshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("screenshots")

    static var chromium: String? {
        let candidates = [ProcessInfo.processInfo.environment["CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser"].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test func thePagesRenderInABrowserWithTheProposalAndNoPersonalData() async throws {
        let chromium = try #require(Self.chromium, "chromium is not installed: ops/setup.sh installs it")
        let fixture = try await PublicityFixture()
        // A script a resident typed: if it ran, the page's title would change.
        let clue = try await fixture.clue(
            "<script>document.title='pwned'</script>楼道堆放杂物", text: "我的电话 13812345678",
            contact: ("赵小红", "13812345678"))
        let proposal = try await fixture.file(
            "<script>document.title='pwned'</script>清理楼道杂物消除火灾隐患",
            suggestions: "建议每月巡查。联系人赵小红，电话 13812345678，邮箱 zhao@example.com", clues: [clue],
            proposers: [("赵小红", "resident"), ("周委员", "member")])
        let units = try await fixture.assign(proposal, lead: "区消防救援大队", co: ["南华西街道办事处"])
        try await fixture.reply(proposal, units[0], text: "已组织清理 36 栋楼道，建立月查制度。")
        try await fixture.awaitApplied(5)
        try FileManager.default.createDirectory(at: Self.screenshots, withIntermediateDirectories: true)

        let pages = [
            ("home", "/"), ("feedback", "/feedback"), ("proposal", "/proposals/\(proposal.id.uuidString.lowercased())"),
            ("statistics", "/statistics?district=haizhu&year=\(proposal.year)"), ("calls", "/calls"), ("track", "/track"),
            ("open-data", "/open-data"),
        ]
        for (name, path) in pages {
            let url = fixture.base + path
            let dom = try await Self.run(chromium, ["--dump-dom", url])
            #expect(dom.contains("百姓提案公开平台"), "\(name) rendered")
            #expect(!dom.contains("<title>pwned</title>"), "\(name): a resident's script ran")
            for personal in ["13812345678", "赵小红", "zhao@example.com"] {
                #expect(!dom.contains(personal), "\(name) shows \(personal)")
            }
            if ["home", "feedback", "proposal"].contains(name) {
                #expect(dom.contains("清理楼道杂物消除火灾隐患") && dom.contains("区消防救援大队"), "\(name) shows the proposal")
            }
            // Screenshots of the main pages only: each Chromium start is a second of both cores.
            guard ["home", "feedback", "proposal", "statistics"].contains(name) else { continue }
            let file = Self.screenshots.appendingPathComponent("\(name).png")
            try? FileManager.default.removeItem(at: file)
            _ = try await Self.run(chromium, ["--screenshot=\(file.path)", "--window-size=412,915", url])
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
            #expect(size > 5_000, "\(name) screenshot")
        }
        let proposalPage = try await Self.run(chromium, ["--dump-dom", fixture.base + "/proposals/\(proposal.id.uuidString.lowercased())"])
        #expect(proposalPage.contains("群众（匿名）") == false && proposalPage.contains("赵*、周委员"), "masked with consent")
        #expect(proposalPage.contains("审查立案") && proposalPage.contains("承办单位答复"), "the timeline")
        try await fixture.stop()
    }

    /// Runs headless Chromium once and returns what it printed.
    static func run(_ chromium: String, _ arguments: [String]) async throws -> String {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        let process = try ChildProcess(
            chromium,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
                "--user-data-dir=\(profile.path)",
            ] + arguments,
            standardOutput: .pipe)
        let data = await process.output().standardOutput
        try? FileManager.default.removeItem(at: profile)
        return String(decoding: data, as: UTF8.self)
    }
}
