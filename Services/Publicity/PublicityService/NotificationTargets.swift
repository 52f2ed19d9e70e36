import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Where notifications may go. They carry submitters' names and phone numbers, so a target is
/// checked when an administrator saves it and again before every delivery: `https` only, to a
/// public address; the addresses a name resolves to are checked and the connection goes to the
/// address checked (a name that resolves elsewhere a second later gains nothing). Hosts that an
/// operator names in `PUBLICITY_NOTIFY_TRUSTED_HOSTS` are taken as they are: `http` and private
/// addresses allowed (a platform inside the government network; the tests' local receiver).
public struct NotificationTargets: Sendable {
    /// Lowercased host names or address literals.
    public let trustedHosts: Set<String>
    /// Every address a name resolves to (getaddrinfo; tests give their own answers).
    let resolve: @Sendable (String) async -> [Address]

    public init(trustedHosts: some Sequence<String>, resolve: @escaping @Sendable (String) async -> [Address] = NotificationTargets.systemResolve) {
        self.trustedHosts = Set(trustedHosts.map { $0.lowercased() }.filter { !$0.isEmpty })
        self.resolve = resolve
    }

    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case notAURL
        case notHTTPS
        case nonPublicAddress(String)
        case unresolvable

        public var description: String {
            switch self {
            case .notAURL: "is not an https URL of at most 500 characters"
            case .notHTTPS: "must use https (an http host must be named in PUBLICITY_NOTIFY_TRUSTED_HOSTS by the operator)"
            case .nonPublicAddress: "names a loopback, private, link-local, multicast or metadata address, which notifications may not reach"
            case .unresolvable: "names a host that does not resolve"
            }
        }

        /// The failure class staff see for a refused delivery.
        public var failureClass: String {
            switch self {
            case .notAURL, .notHTTPS, .nonPublicAddress: "blocked-address"
            case .unresolvable: "dns"
            }
        }
    }

    /// The check when a target is saved: the URL's form, and its host when that is an address
    /// or a name that is never public. Names are resolved at delivery.
    public func check(_ text: String) -> Result<URL, Refusal> {
        guard text.count <= 500, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = url.host?.lowercased(), !host.isEmpty,
            url.user == nil, url.password == nil
        else { return .failure(.notAURL) }
        if trustedHosts.contains(Self.bare(host)) { return .success(url) }
        guard scheme == "https" else { return .failure(.notHTTPS) }
        let bare = Self.bare(host)
        if let address = Self.address(literal: bare) {
            return Self.isPublic(address) ? .success(url) : .failure(.nonPublicAddress(bare))
        }
        if Self.privateNames.contains(bare) || Self.privateSuffixes.contains(where: { bare.hasSuffix($0) }) {
            return .failure(.nonPublicAddress(bare))
        }
        return .success(url)
    }

    /// The check before a delivery: nil for a trusted host (connect as the URL says), else the
    /// public address to connect to.
    public func addressToConnect(for url: URL) async -> Result<String?, Refusal> {
        if case .failure(let refusal) = check(url.absoluteString) { return .failure(refusal) }
        guard let host = url.host?.lowercased() else { return .failure(.notAURL) }
        let bare = Self.bare(host)
        if trustedHosts.contains(bare) { return .success(nil) }
        if Self.address(literal: bare) != nil { return .success(bare) }
        let addresses = await resolve(bare)
        guard let first = addresses.first else { return .failure(.unresolvable) }
        // Every address must be public: otherwise which one a connection takes decides.
        if let blocked = addresses.first(where: { !Self.isPublic($0) }) { return .failure(.nonPublicAddress(Self.text(blocked))) }
        return .success(Self.text(first))
    }

    // MARK: addresses

    /// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
    public typealias Address = [UInt8]

    static let privateNames: Set<String> = ["localhost", "metadata", "metadata.google.internal", "instance-data"]
    static let privateSuffixes = [".localhost", ".local", ".internal", ".localdomain", ".home.arpa"]

    static func bare(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    public static func address(literal text: String) -> Address? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func text(_ address: Address) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var bytes = address
        let family = address.count == 4 ? AF_INET : AF_INET6
        guard inet_ntop(family, &bytes, &buffer, socklen_t(buffer.count)) != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether an address is one the public internet routes to: not unspecified, loopback,
    /// private (RFC 1918, carrier-grade NAT, unique-local), link-local (where cloud metadata
    /// services answer), multicast, broadcast, documentation or reserved.
    public static func isPublic(_ address: Address) -> Bool {
        if address.count == 4 { return isPublicV4(address) }
        guard address.count == 16 else { return false }
        // ::ffff:a.b.c.d carries an IPv4 address; the rest of ::/96 (::, ::1, the deprecated
        // IPv4-compatible form) is never a public destination.
        if address[0..<10].allSatisfy({ $0 == 0 }) && address[10] == 0xFF && address[11] == 0xFF { return isPublicV4(Array(address[12..<16])) }
        if address[0..<12].allSatisfy({ $0 == 0 }) { return false }
        // NAT64 (64:ff9b::/96) embeds an IPv4 address too.
        if address[0] == 0x00, address[1] == 0x64, address[2] == 0xFF, address[3] == 0x9B, address[4..<12].allSatisfy({ $0 == 0 }) {
            return isPublicV4(Array(address[12..<16]))
        }
        let first = address[0]
        if first == 0xFF { return false }  // multicast
        if first & 0xFE == 0xFC { return false }  // fc00::/7 unique local (fd00:ec2::254: AWS metadata)
        if first == 0xFE && address[1] & 0xC0 == 0x80 { return false }  // fe80::/10 link-local
        if first == 0xFE && address[1] & 0xC0 == 0xC0 { return false }  // fec0::/10 site-local (deprecated)
        if first == 0x20 && address[1] == 0x01 && address[2] == 0x0D && address[3] == 0xB8 { return false }  // 2001:db8::/32 documentation
        return first & 0xE0 == 0x20  // 2000::/3 is the global unicast range
    }

    static func isPublicV4(_ a: Address) -> Bool {
        switch (a[0], a[1]) {
        case (0, _), (10, _), (127, _): return false
        case (100, 64...127): return false  // carrier-grade NAT
        case (169, 254): return false  // link-local, 169.254.169.254 metadata
        case (172, 16...31), (192, 168): return false
        case (192, 0) where a[2] == 0 || a[2] == 2: return false  // IETF protocol assignments, TEST-NET-1
        case (198, 18...19): return false  // benchmarking
        case (198, 51) where a[2] == 100, (203, 0) where a[2] == 113: return false  // TEST-NET-2, -3
        case (224...255, _): return false  // multicast, reserved, broadcast
        default: return true
        }
    }

    /// Every address `host` resolves to (getaddrinfo, on NIO's thread pool: it blocks).
    public static func systemResolve(_ host: String) async -> [Address] {
        (try? await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &list) == 0, let list else { return [Address]() }
            defer { freeaddrinfo(list) }
            var addresses: [Address] = []
            var entry: UnsafeMutablePointer<addrinfo>? = list
            while let current = entry {
                if let socket = current.pointee.ai_addr {
                    switch Int32(current.pointee.ai_family) {
                    case AF_INET:
                        socket.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                            var address = $0.pointee.sin_addr
                            addresses.append(withUnsafeBytes(of: &address) { Array($0) })
                        }
                    case AF_INET6:
                        socket.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                            var address = $0.pointee.sin6_addr
                            addresses.append(withUnsafeBytes(of: &address) { Array($0) })
                        }
                    default:
                        break
                    }
                }
                entry = current.pointee.ai_next
            }
            return addresses
        }) ?? []
    }
}
