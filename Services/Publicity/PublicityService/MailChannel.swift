import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// How the mail server is reached (`PUBLICITY_SMTP_*`).
public struct MailSettings: Sendable {
    public enum Security: String, Sendable, CaseIterable {
        /// Plain SMTP (a relay on the same host or network).
        case none
        /// STARTTLS after the greeting (port 587).
        case startTLS = "starttls"
        /// TLS from the first byte (port 465).
        case tls
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    /// The sender's address, `From:` and the envelope's.
    public var from: String
    public var timeout: TimeAmount

    public init(
        host: String, port: Int, security: Security, username: String?, password: String?, from: String,
        timeout: TimeAmount = .seconds(20)
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.from = from
        self.timeout = timeout
    }
}

/// Sends a notification's message over SMTP. The body is the JSON `{"subject", "text"}` the
/// notices wrote; the target is the recipient's address. A 5xx answer to the recipient, or
/// anything else going wrong, is a failure the dispatcher retries and in the end dead-letters;
/// the server's own words are not kept (they may echo addresses).
///
/// Sessions with the relay are kept open and reused, one message after another (`RSET` after a
/// refusal): a connection, greeting, `EHLO`, TLS and login per message made a burst of notices
/// wait on the handshakes. A session idle longer than `idleSeconds` is closed before the relay
/// would drop it.
public struct MailChannel: NotificationChannel {
    let settings: MailSettings
    let logger: Logger
    let sessions = SMTPSessions()
    static let idleSeconds: TimeInterval = 20
    static let keptSessions = 32

    public init(settings: MailSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public var signed: Bool { false }

    struct Message: Decodable {
        var subject: String
        var text: String
    }

    public func deliver(_ notification: OutgoingNotification) async -> DeliveryOutcome {
        guard let message = try? JSONDecoder().decode(Message.self, from: notification.body) else { return .failed(failureClass: "bad-body") }
        guard MailText.isAddress(notification.target) else { return .failed(failureClass: "bad-address") }
        do {
            try await send(message, to: notification.target, id: notification.id)
            return .delivered
        } catch let error as SMTPFailure {
            logger.warning("mail not sent", metadata: ["notification": "\(notification.id)", "stage": "\(error.stage)", "code": "\(error.code)"])
            return .failed(failureClass: "smtp-\(error.stage)-\(error.code / 100)xx")
        } catch {
            logger.warning("mail not sent", metadata: ["notification": "\(notification.id)", "error": "\(type(of: error))"])
            return .failed(failureClass: "smtp-unreachable")
        }
    }

    struct SMTPFailure: Error {
        var stage: String
        var code: Int
    }

    /// One message: on a kept session if there is one (a session the relay closed meanwhile is
    /// dropped and the message sent on a new one), else on a new session.
    func send(_ message: Message, to recipient: String, id: UUID) async throws {
        let text = MailText.message(from: settings.from, to: recipient, subject: message.subject, text: message.text, id: id)
        while let kept = sessions.take(idleSince: Date().addingTimeInterval(-Self.idleSeconds)) {
            do {
                try await transfer(text, to: recipient, on: kept)
                return
            } catch let refused as SMTPSession.Refused {
                throw refused.failure
            } catch {
                // The relay closed it meanwhile: another kept one, or a new one.
                kept.close()
            }
        }
        let session = try await open()
        do {
            try await transfer(text, to: recipient, on: session)
        } catch let failure as SMTPSession.Refused {
            throw failure.failure
        } catch {
            session.close()
            throw error
        }
    }

    /// The envelope and the message on `session`; it goes back among the kept sessions after a
    /// message or a refusal the session survives (`Refused`), and is closed on anything else.
    func transfer(_ text: String, to recipient: String, on session: SMTPSession) async throws {
        let deadline = NIODeadline.now() + settings.timeout
        do {
            try await session.command("MAIL FROM:<\(settings.from)>", "mail-from", before: deadline)
            try await session.command("RCPT TO:<\(recipient)>", "rcpt-to", before: deadline)
            try await session.command("DATA", "data", 354...354, before: deadline)
            try await session.command(text + "\r\n.", "message", before: deadline)
        } catch let failure as SMTPFailure {
            // The server answered: the session is sound once the transaction is reset.
            if (try? await session.command("RSET", "rset", before: deadline)) != nil { keep(session) } else { session.close() }
            throw SMTPSession.Refused(failure: failure)
        }
        keep(session)
    }

    func keep(_ session: SMTPSession) {
        if !sessions.put(session, limit: Self.keptSessions) { session.quit() }
    }

    /// A new session, greeted, with `EHLO`, TLS and login as configured.
    func open() async throws -> SMTPSession {
        let lines = LineQueue()
        let tls = settings.security == .none ? nil : try NIOSSLContext(configuration: .makeClientConfiguration())
        let host = settings.host
        let implicitTLS = settings.security == .tls
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(settings.timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if implicitTLS, let tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: host))
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPLineHandler(lines: lines))
                }
            }
            .connect(host: settings.host, port: settings.port).get()
        let session = SMTPSession(channel: channel, lines: lines)
        do {
            let deadline = NIODeadline.now() + settings.timeout
            try await session.expect("greeting", 220...220, before: deadline)
            let hello = "EHLO citizens-proposals"
            try await session.command(hello, "ehlo", before: deadline)
            if settings.security == .startTLS, let tls {
                try await session.command("STARTTLS", "starttls", 220...220, before: deadline)
                // Made on the channel's loop: the handler is not Sendable.
                try await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: host), position: .first)
                }.get()
                try await session.command(hello, "ehlo", before: deadline)
            }
            if let username = settings.username, let password = settings.password {
                let credentials = Data("\u{0}\(username)\u{0}\(password)".utf8).base64EncodedString()
                try await session.command("AUTH PLAIN " + credentials, "auth", 235...235, before: deadline)
            }
            return session
        } catch {
            session.close()
            throw error
        }
    }
}

/// An open conversation with the relay.
final class SMTPSession: Sendable {
    let channel: any Channel
    let lines: LineQueue
    let openedAt = Date()

    /// The server refused this message; the session itself is fine.
    struct Refused: Error { var failure: MailChannel.SMTPFailure }

    init(channel: any Channel, lines: LineQueue) {
        self.channel = channel
        self.lines = lines
    }

    func expect(_ stage: String, _ accepted: ClosedRange<Int>, before deadline: NIODeadline) async throws {
        let code = try await lines.reply(before: deadline)
        guard accepted.contains(code) else { throw MailChannel.SMTPFailure(stage: stage, code: code) }
    }

    func command(_ text: String, _ stage: String, _ accepted: ClosedRange<Int> = 200...299, before deadline: NIODeadline) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text + "\r\n")).get()
        try await expect(stage, accepted, before: deadline)
    }

    func quit() {
        channel.writeAndFlush(ByteBuffer(string: "QUIT\r\n")).whenComplete { [channel] _ in channel.close(promise: nil) }
    }

    func close() { channel.close(promise: nil) }
}

/// The sessions kept open between messages, the most recently used first.
final class SMTPSessions: Sendable {
    private let idle = Mutex<[(session: SMTPSession, since: Date)]>([])

    /// A kept session used since `idleSince`; older ones are closed on the way.
    func take(idleSince: Date) -> SMTPSession? {
        let (found, stale) = idle.withLock { idle -> (SMTPSession?, [SMTPSession]) in
            let stale = idle.filter { $0.since < idleSince }.map(\.session)
            idle.removeAll { $0.since < idleSince }
            return (idle.popLast()?.session, stale)
        }
        for session in stale { session.quit() }
        return found
    }

    /// Keeps `session` unless `limit` are kept already.
    func put(_ session: SMTPSession, limit: Int) -> Bool {
        idle.withLock { idle in
            guard idle.count < limit, session.channel.isActive else { return false }
            idle.append((session, Date()))
            return true
        }
    }
}

/// The message's text as SMTP carries it: headers with the subject encoded (RFC 2047), a UTF-8
/// body in base64 (any line length, any character), CRLF line ends.
enum MailText {
    static func message(from: String, to: String, subject: String, text: String, id: UUID) -> String {
        let body = Data(text.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let date = Date().formatted(
            Date.VerbatimFormatStyle(
                format:
                    "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) +0000",
                locale: Locale(identifier: "en_US_POSIX"), timeZone: .gmt, calendar: Calendar(identifier: .gregorian)))
        return [
            "From: <\(from)>", "To: <\(to)>", "Subject: =?UTF-8?B?\(Data(subject.utf8).base64EncodedString())?=", "Date: \(date)",
            "Message-ID: <\(id.uuidString.lowercased())@citizens-proposals>", "MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: base64", "", body,
        ].joined(separator: "\r\n")
    }

    /// A plain address an administrator entered: no spaces, brackets or line breaks that could
    /// add SMTP commands or headers.
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && text.count <= 254
            && !text.unicodeScalars.contains { $0.value < 0x21 || "<>()[]\\,;:\"".unicodeScalars.contains($0) }
    }
}

/// Replies from the server, line by line: a reply ends at a line whose fourth character is a
/// space (`250 OK`), after any `250-…` continuation lines.
final class LineQueue: @unchecked Sendable {
    // Guarded by `lock`; a continuation waits for the next whole reply.
    private let lock = NSLock()
    private var replies: [Int] = []
    private var waiting: CheckedContinuation<Int, any Error>?
    private var failure: (any Error)?

    struct Closed: Error {}
    struct TimedOut: Error {}

    func push(_ code: Int) {
        lock.lock()
        if let waiting {
            self.waiting = nil
            lock.unlock()
            waiting.resume(returning: code)
        } else {
            replies.append(code)
            lock.unlock()
        }
    }

    func fail(_ error: any Error) {
        lock.lock()
        failure = failure ?? error
        let waiting = self.waiting
        self.waiting = nil
        lock.unlock()
        waiting?.resume(throwing: error)
    }

    func reply(before deadline: NIODeadline) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask { try await self.next() }
            group.addTask {
                try await Task.sleep(for: .nanoseconds(max(0, (deadline - .now()).nanoseconds)))
                self.fail(TimedOut())
                throw TimedOut()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    private func next() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            if !replies.isEmpty {
                let code = replies.removeFirst()
                lock.unlock()
                continuation.resume(returning: code)
            } else if let failure {
                lock.unlock()
                continuation.resume(throwing: failure)
            } else {
                waiting = continuation
                lock.unlock()
            }
        }
    }
}

/// Splits the server's bytes into lines and hands each complete reply's code to the queue.
final class SMTPLineHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let lines: LineQueue
    private var pending = ""

    init(lines: LineQueue) { self.lines = lines }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readString(length: buffer.readableBytes) ?? ""
        while let end = pending.range(of: "\r\n") {
            let line = String(pending[..<end.lowerBound])
            pending.removeSubrange(..<end.upperBound)
            let characters = Array(line)
            guard characters.count >= 3, let code = Int(String(characters[0..<3])) else { continue }
            // "250-" continues the reply; "250 " (or a bare code) ends it.
            if characters.count == 3 || characters[3] == " " { lines.push(code) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        lines.fail(LineQueue.Closed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        lines.fail(error)
        context.close(promise: nil)
    }
}
