import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import Metrics
import Models
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Storage
import Synchronization

/// A notification ready to go out, with the secret that signs it.
public struct OutgoingNotification: Sendable {
    public var id: UUID
    public var district: String
    public var channel: String
    public var target: String
    public var body: Data
    public var secret: String
    public var attempt: Int
}

public enum DeliveryOutcome: Sendable, Equatable {
    case delivered
    /// `failureClass` is what staff see (`timeout`, `refused`, `http-5xx`, …): never the
    /// remote's own text, which would make the service a probe of other hosts.
    case failed(failureClass: String)
}

/// One way of reaching people: the government-service platform's webhook now; SMS or WeChat
/// adapters register under their own channel name and are fed the same rows.
public protocol NotificationChannel: Sendable {
    func deliver(_ notification: OutgoingNotification) async -> DeliveryOutcome
    /// Whether its messages are signed with the endpoint's secret (webhooks); e-mail is not.
    var signed: Bool { get }
}

extension NotificationChannel {
    public var signed: Bool { true }
}

/// POSTs the JSON body, signed with HMAC-SHA256 over `timestamp.body`:
/// `X-Signature: t=<unix seconds>,v1=<hex>`. Any 2xx is delivered; anything else, or no whole
/// answer within the timeout, is a failure to retry. The target is checked before each attempt
/// (`NotificationTargets`), the connection goes to the address checked, and redirects are not
/// followed (a 3xx is a failure).
public struct WebhookChannel: NotificationChannel {
    let timeout: TimeInterval
    let targets: NotificationTargets
    let logger: Logger

    public init(timeout: TimeInterval, targets: NotificationTargets, logger: Logger) {
        self.timeout = timeout
        self.targets = targets
        self.logger = logger
    }

    public static func signature(secret: String, timestamp: Int, body: Data) -> String {
        var signed = Data("\(timestamp).".utf8)
        signed.append(body)
        let code = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(timestamp),v1=" + code.map { String(format: "%02x", $0) }.joined()
    }

    public func deliver(_ notification: OutgoingNotification) async -> DeliveryOutcome {
        guard let url = URL(string: notification.target), let host = url.host else { return .failed(failureClass: "blocked-address") }
        let address: String?
        switch await targets.addressToConnect(for: url) {
        case .success(let checked): address = checked
        case .failure(let refusal):
            logger.warning("notification target refused", metadata: ["notification": "\(notification.id)", "reason": "\(refusal)"])
            return .failed(failureClass: refusal.failureClass)
        }
        if let client = Self.clients.client(host: host, address: address) {
            return await post(notification, with: client)
        }
        let client = Self.clients.make(host: host, address: address)
        let outcome = await post(notification, with: client)
        try? await client.shutdown()
        return outcome
    }

    static let clients = WebhookClients()

    /// HTTP clients kept per receiver and checked address, so deliveries to a receiver reuse
    /// their connections (a client and connection per delivery held a burst to 50 a second).
    /// Each client's address override and redirect rule are its receiver's. Kept for the
    /// process's life (a static); beyond `limit` receivers a delivery gets a client of its own.
    final class WebhookClients: Sendable {
        private let kept = Mutex<[String: HTTPClient]>([:])
        let limit = 64

        func client(host: String, address: String?) -> HTTPClient? {
            let key = host + "\u{0}" + (address ?? "")
            return kept.withLock { kept in
                if let client = kept[key] { return client }
                guard kept.count < limit else { return nil }
                let client = make(host: host, address: address)
                kept[key] = client
                return client
            }
        }

        func make(host: String, address: String?) -> HTTPClient {
            var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
            if let address { configuration.dnsOverride = [host: address] }
            return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        }
    }

    private func post(_ notification: OutgoingNotification, with client: HTTPClient) async -> DeliveryOutcome {

        var request = HTTPClientRequest(url: notification.target)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "X-Notification-Id", value: notification.id.uuidString)
        request.headers.add(name: "X-Delivery-Attempt", value: String(notification.attempt))
        request.headers.add(
            name: "X-Signature",
            value: Self.signature(
                secret: notification.secret, timestamp: Int(Date().timeIntervalSince1970), body: notification.body))
        request.body = .bytes(ByteBuffer(bytes: notification.body))
        do {
            // The timeout is a deadline for the whole exchange, not for idle time.
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1_000)))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            return (200..<300).contains(status) ? .delivered : .failed(failureClass: "http-\(status / 100)xx")
        } catch {
            logger.info("notification delivery failed", metadata: ["notification": "\(notification.id)", "error": "\(String(reflecting: error))"])
            return .failed(failureClass: Self.failureClass(of: error))
        }
    }

    /// A failure as staff may see it.
    static func failureClass(of error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout: return "timeout"
            case .remoteConnectionClosed, .cancelled: return "connection-closed"
            default: break
            }
        }
        if error is NIOConnectionError { return "refused" }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED { return "refused" }
        let text = String(reflecting: error)
        if text.contains("NIOSSL") || text.contains("TLS") || text.contains("certificate") { return "tls" }
        if text.lowercased().contains("refused") { return "refused" }
        return "network"
    }
}

/// When a failed notification is tried again: doubling from `base`, at most `cap`.
public struct RetryPolicy: Sendable {
    public var maximumAttempts: Int
    public var base: TimeInterval
    public var cap: TimeInterval

    public init(maximumAttempts: Int, base: TimeInterval, cap: TimeInterval = 6 * 3_600) {
        self.maximumAttempts = maximumAttempts
        self.base = base
        self.cap = cap
    }

    /// Nil once `attempts` failures used up the attempts: the notification is dead-lettered.
    public func delay(afterAttempts attempts: Int) -> TimeInterval? {
        guard attempts < maximumAttempts else { return nil }
        return min(cap, base * pow(2, Double(max(0, attempts - 1))))
    }
}

/// Sends due notifications, up to `concurrency` at once and at most a quarter of them to one
/// receiver. Each claim pushes the row's next attempt past the timeout, so a crashed instance's
/// claims come back; the outcomes that came in are recorded together at each turn of the loop
/// (one commit for many deliveries, well inside the lease). A receiver that hangs
/// holds its own share of the slots and delays no one else's notifications.
struct NotificationDispatcher: Service {
    let database: Database
    let channels: [String: any NotificationChannel]
    let policy: RetryPolicy
    let timeout: TimeInterval
    let concurrency: Int
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let inFlight = InFlight()
        let outcomes = Outcomes()
        await withDiscardingTaskGroup { group in
            // What finished, recorded together beside the claims (a turn waiting for both
            // commits held a burst to 300 deliveries a second).
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    await record(outcomes)
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let free = concurrency - inFlight.total
                var claimed: [OutgoingNotification] = []
                // A claim is a transaction: made for a quarter of the slots at least (or when
                // idle), not for each slot as it frees.
                if free > 0 && (free >= max(1, concurrency / 4) || inFlight.total == 0) {
                    do {
                        let perTarget = self.perTarget
                        claimed = try await claim(free, skipping: inFlight.busy(limit: perTarget)) { perTarget - inFlight.count(of: $0) }
                    } catch {
                        logger.warning("claiming notifications failed; will try again", metadata: ["error": "\(String(reflecting: error))"])
                    }
                }
                for notification in claimed {
                    inFlight.start(notification)
                    group.addTask {
                        outcomes.add(notification, await send(notification))
                        inFlight.finish(notification)
                    }
                }
                if free < max(1, concurrency / 4) && inFlight.total > 0 {
                    // The slots busy: look again shortly, they free within milliseconds.
                    try? await Task.sleep(for: .milliseconds(5))
                } else if claimed.count < free {
                    try? await Task.sleep(for: claimed.isEmpty && inFlight.total == 0 ? interval : .milliseconds(20))
                }
            }
        }
        // The last deliveries' outcomes, once every send has returned.
        await record(outcomes)
    }

    /// Outcomes of deliveries not yet recorded.
    final class Outcomes: Sendable {
        private let items = Mutex<[(OutgoingNotification, DeliveryOutcome)]>([])

        func add(_ notification: OutgoingNotification, _ outcome: DeliveryOutcome) {
            items.withLock { $0.append((notification, outcome)) }
        }

        func take() -> [(OutgoingNotification, DeliveryOutcome)] {
            items.withLock { items in
                defer { items = [] }
                return items
            }
        }

        func putBack(_ taken: [(OutgoingNotification, DeliveryOutcome)]) {
            items.withLock { $0.insert(contentsOf: taken, at: 0) }
        }
    }

    /// Records what `outcomes` holds; kept for the next turn when the store cannot be reached
    /// (the claims' leases keep the rows from being sent again meanwhile).
    func record(_ outcomes: Outcomes) async {
        let taken = outcomes.take()
        guard !taken.isEmpty else { return }
        do {
            try await record(taken)
        } catch {
            outcomes.putBack(taken)
            logger.warning("recording deliveries failed; will try again", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    var perTarget: Int { max(1, concurrency / 4) }

    /// Deliveries under way per receiver, shared with the tasks that make them.
    final class InFlight: Sendable {
        private let targets = Mutex<[String: Int]>([:])

        var total: Int { targets.withLock { $0.values.reduce(0, +) } }

        func busy(limit: Int) -> [String] {
            targets.withLock { $0.filter { $0.value >= limit }.map(\.key) }
        }

        func count(of target: String) -> Int {
            targets.withLock { $0[target, default: 0] }
        }

        func start(_ notification: OutgoingNotification) {
            targets.withLock { $0[notification.target, default: 0] += 1 }
        }

        func finish(_ notification: OutgoingNotification) {
            targets.withLock { targets in
                targets[notification.target, default: 1] -= 1
                if targets[notification.target] == 0 { targets[notification.target] = nil }
            }
        }
    }

    /// Claims up to `limit` due notifications, none beyond a receiver's `room`: the candidates
    /// read without locks, then only the chosen locked and leased (locking every candidate wrote
    /// four times the locks a claim needed). The state is
    /// written into the statement, not bound: a prepared statement's generic plan cannot use the
    /// partial index on pending rows and sorted all of them (36 ms a claim at 20,000). Ties in time are
    /// broken by the random id: a batch writes one receiver's rows (its webhook) beside many
    /// others' (e-mails), and in the order written the first filled every window with rows that
    /// receiver had no room for, so each claim took a handful (60 deliveries/s in all).
    func claim(_ limit: Int, skipping busy: [String], room: @Sendable (String) -> Int) async throws -> [OutgoingNotification] {
        let lease = Int(timeout.rounded(.up)) + 30
        return try await database.transaction(.allDistricts) { transaction in
            let due = try await transaction.query(
                """
                SELECT id, district, target FROM notifications
                WHERE state = 'pending' AND next_attempt_at <= now() AND target <> ALL(\(busy)::text[])
                ORDER BY next_attempt_at, id LIMIT \(limit * 4)
                """)
            var chosen: [String: [UUID]] = [:]
            var taken: [String: Int] = [:]
            var count = 0
            for try await (id, district, target) in due.decode((UUID, String, String).self) where count < limit {
                guard taken[target, default: 0] < room(target) else { continue }
                taken[target, default: 0] += 1
                chosen[district, default: []].append(id)
                count += 1
            }
            var claimed: [OutgoingNotification] = []
            // Rows are written in their district's scope (the store's row policy).
            for (district, ids) in chosen.sorted(by: { $0.key < $1.key }) {
                try await transaction.scope(to: .district(DistrictCode(rawValue: district)!))
                // Only the rows chosen are locked, and only those still due and not taken by
                // another instance meanwhile (locked now, or already pushed past `now()`).
                let rows = try await transaction.query(
                    """
                    WITH mine AS (
                        SELECT id FROM notifications
                        WHERE id = ANY(\(ids)::uuid[]) AND state = 'pending' AND next_attempt_at <= now()
                        FOR UPDATE SKIP LOCKED)
                    UPDATE notifications n SET attempts = n.attempts + 1, next_attempt_at = now() + make_interval(secs => \(lease))
                    FROM mine WHERE n.id = mine.id
                    RETURNING n.id, n.district, n.channel, n.target, n.body::text, n.attempts,
                              CASE WHEN n.signer = 'endpoint'
                                   THEN (SELECT e.secret FROM notification_endpoints e WHERE e.district = n.district AND e.channel = n.channel)
                                   ELSE (SELECT k.secret FROM integration_keys k WHERE 'integration:' || k.key_id = n.signer) END
                    """)
                for try await (id, district, channel, target, body, attempts, secret) in rows.decode(
                    (UUID, String, String, String, String, Int, String?).self)
                {
                    claimed.append(
                        OutgoingNotification(
                            id: id, district: district, channel: channel, target: target, body: Data(body.utf8),
                            secret: secret ?? "", attempt: attempts))
                }
            }
            return claimed
        }
    }

    func send(_ notification: OutgoingNotification) async -> DeliveryOutcome {
        logger.debug(
            "sending notification",
            metadata: ["notification": "\(notification.id)", "target": "\(notification.target)", "attempt": "\(notification.attempt)"])
        let outcome: DeliveryOutcome
        if let channel = channels[notification.channel] {
            outcome = notification.secret.isEmpty && channel.signed ? .failed(failureClass: "no-signing-secret") : await channel.deliver(notification)
        } else {
            outcome = .failed(failureClass: "no-adapter")
        }
        logger.debug("notification sent", metadata: ["notification": "\(notification.id)", "outcome": "\(outcome)"])
        return outcome
    }

    /// Writes outcomes, one statement per kind for each district, in one transaction.
    func record(_ outcomes: [(OutgoingNotification, DeliveryOutcome)]) async throws {
        struct Failure { var id: UUID; var reason: String; var delay: Double? }
        var delivered: [String: [UUID]] = [:]
        var failed: [String: [Failure]] = [:]
        for (notification, outcome) in outcomes {
            switch outcome {
            case .delivered: delivered[notification.district, default: []].append(notification.id)
            case .failed(let reason):
                failed[notification.district, default: []].append(
                    Failure(id: notification.id, reason: reason, delay: policy.delay(afterAttempts: notification.attempt)))
            }
        }
        try await database.transaction(.allDistricts) { transaction in
            for district in Set(delivered.keys).union(failed.keys).sorted() {
                // Rows are written in their district's scope (the store's row policy).
                try await transaction.scope(to: .district(DistrictCode(rawValue: district)!))
                if let ids = delivered[district] {
                    try await transaction.execute(
                        """
                        UPDATE notifications SET state = \(NotificationState.delivered.rawValue), delivered_at = now(), last_error = NULL
                        WHERE id = ANY(\(ids)::uuid[])
                        """)
                }
                let failures = failed[district] ?? []
                let retried = failures.filter { $0.delay != nil }
                if !retried.isEmpty {
                    try await transaction.execute(
                        """
                        UPDATE notifications n SET last_error = f.reason, next_attempt_at = now() + make_interval(secs => f.delay)
                        FROM unnest(\(retried.map(\.id))::uuid[], \(retried.map(\.reason))::text[], \(retried.map { $0.delay ?? 0 })::float8[])
                             AS f(id, reason, delay)
                        WHERE n.id = f.id AND n.state = \(NotificationState.pending.rawValue)
                        """)
                }
                let dead = failures.filter { $0.delay == nil }
                if !dead.isEmpty {
                    try await transaction.execute(
                        """
                        UPDATE notifications n SET state = \(NotificationState.dead.rawValue), last_error = f.reason
                        FROM unnest(\(dead.map(\.id))::uuid[], \(dead.map(\.reason))::text[]) AS f(id, reason)
                        WHERE n.id = f.id AND n.state = \(NotificationState.pending.rawValue)
                        """)
                }
            }
        }
        for (notification, outcome) in outcomes {
            let dimensions = [("channel", notification.channel)]
            guard case .failed(let reason) = outcome else {
                Counter(label: "notifications_delivered_total", dimensions: dimensions).increment()
                continue
            }
            Counter(label: "notifications_failed_total", dimensions: dimensions).increment()
            if policy.delay(afterAttempts: notification.attempt) == nil {
                Counter(label: "notifications_dead_lettered_total", dimensions: dimensions).increment()
                logger.warning(
                    "notification dead-lettered",
                    metadata: [
                        "notification": "\(notification.id)", "channel": "\(notification.channel)", "attempts": "\(notification.attempt)",
                        "reason": "\(reason)",
                    ])
            }
        }
    }
}

/// Notification bodies name submitters and proposers and carry phone numbers: once a
/// notification is delivered or given up, its body is kept `days` and then emptied. The row
/// stays (the unique event, recipient and target still keep a redelivered event from notifying
/// anyone twice), and a notification whose body is gone is not sent again.
enum NotificationRetention {
    static func prune(olderThan days: Int, in database: Database) async throws {
        let districts = try await database.transaction(.allDistricts) { transaction in
            var districts: [DistrictCode] = []
            for try await code in try await transaction.query(
                """
                SELECT DISTINCT district FROM notifications
                WHERE state <> \(NotificationState.pending.rawValue) AND body_pruned_at IS NULL AND coalesce(delivered_at, created_at) < now() - \(days) * interval '1 day'
                """
            ).decode(String.self) {
                if let district = DistrictCode(rawValue: code) { districts.append(district) }
            }
            return districts
        }
        // Rows are written in their district's scope (the store's row policy).
        for district in districts {
            try await database.transaction(.district(district)) { transaction in
                try await transaction.execute(
                    """
                    UPDATE notifications SET body = '{}'::jsonb, body_pruned_at = now()
                    WHERE state <> \(NotificationState.pending.rawValue) AND body_pruned_at IS NULL AND coalesce(delivered_at, created_at) < now() - \(days) * interval '1 day'
                    """)
            }
        }
    }
}
