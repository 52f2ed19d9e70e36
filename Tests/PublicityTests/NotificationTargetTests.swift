import Foundation
import Testing

@testable import PublicityService

/// Where notifications (with residents' names and phone numbers) may go: checked without a
/// network, as the service checks a target when it is saved.
struct NotificationTargetTests {
    let targets = NotificationTargets(trustedHosts: ["platform.gov.internal", "10.8.0.5"])

    @Test(arguments: [
        "https://notify.example.org/hook", "https://203.0.114.7/hook", "https://[2400:3200::1]/hook", "https://notify.example.org:8443/x?y=1",
        // Trusted by the operator: http and a private address are allowed.
        "http://platform.gov.internal/hook", "http://10.8.0.5:8080/hook",
    ])
    func accepted(_ url: String) {
        #expect((try? targets.check(url).get()) != nil, "\(url)")
    }

    @Test(arguments: [
        ("http://notify.example.org/hook", NotificationTargets.Refusal.notHTTPS),
        ("ftp://notify.example.org/hook", .notAURL),
        ("https://user:pass@notify.example.org/hook", .notAURL),
        ("https://127.0.0.1/hook", .nonPublicAddress("127.0.0.1")),
        ("https://127.1.2.3:5432/", .nonPublicAddress("127.1.2.3")),
        ("https://10.0.0.1/hook", .nonPublicAddress("10.0.0.1")),
        ("https://172.20.1.1/hook", .nonPublicAddress("172.20.1.1")),
        ("https://192.168.1.10/hook", .nonPublicAddress("192.168.1.10")),
        ("https://100.64.0.1/hook", .nonPublicAddress("100.64.0.1")),
        ("https://169.254.169.254/latest/meta-data/", .nonPublicAddress("169.254.169.254")),
        ("https://0.0.0.0/hook", .nonPublicAddress("0.0.0.0")),
        ("https://224.0.0.1/hook", .nonPublicAddress("224.0.0.1")),
        ("https://255.255.255.255/hook", .nonPublicAddress("255.255.255.255")),
        ("https://[::1]/hook", .nonPublicAddress("::1")),
        ("https://[::]/hook", .nonPublicAddress("::")),
        ("https://[::ffff:127.0.0.1]/hook", .nonPublicAddress("::ffff:127.0.0.1")),
        ("https://[fe80::1]/hook", .nonPublicAddress("fe80::1")),
        ("https://[fd00:ec2::254]/hook", .nonPublicAddress("fd00:ec2::254")),
        ("https://[ff02::1]/hook", .nonPublicAddress("ff02::1")),
        ("https://localhost/hook", .nonPublicAddress("localhost")),
        ("https://db.localhost/hook", .nonPublicAddress("db.localhost")),
        ("https://metadata.google.internal/computeMetadata/v1/", .nonPublicAddress("metadata.google.internal")),
        ("http://10.8.0.6/hook", .notHTTPS),
    ])
    func refused(_ url: String, _ refusal: NotificationTargets.Refusal) {
        #expect(throws: refusal) { try targets.check(url).get() }
    }

    /// At delivery the name is resolved and every address checked: a name that points inside
    /// (DNS rebinding) is refused, and the connection goes to the address that was checked.
    @Test func resolvedNamesAreCheckedBeforeDelivery() async throws {
        let answers: [String: [String]] = [
            "notify.example.org": ["93.184.215.14"], "rebound.example.org": ["127.0.0.1"],
            "mixed.example.org": ["93.184.215.14", "10.1.2.3"], "v6.example.org": ["2400:3200::1"],
        ]
        let targets = NotificationTargets(trustedHosts: ["platform.gov.internal"]) { host in
            (answers[host] ?? []).compactMap { NotificationTargets.address(literal: $0) }
        }
        func connect(_ url: String) async -> Result<String?, NotificationTargets.Refusal> { await targets.addressToConnect(for: URL(string: url)!) }
        #expect(await connect("https://notify.example.org/hook") == .success("93.184.215.14"))
        #expect(await connect("https://v6.example.org/hook") == .success("2400:3200::1"))
        #expect(await connect("https://rebound.example.org/hook") == .failure(.nonPublicAddress("127.0.0.1")))
        #expect(await connect("https://mixed.example.org/hook") == .failure(.nonPublicAddress("10.1.2.3")))
        #expect(await connect("https://gone.example.org/hook") == .failure(.unresolvable))
        #expect(await connect("https://169.254.169.254/latest") == .failure(.nonPublicAddress("169.254.169.254")))
        #expect(await connect("http://platform.gov.internal/hook") == .success(nil), "a trusted host is connected to as named")
        #expect(await NotificationTargets.systemResolve("localhost").contains { !NotificationTargets.isPublic($0) })
    }
}
