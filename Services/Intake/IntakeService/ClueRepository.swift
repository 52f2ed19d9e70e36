import Crypto
import EventPipeline
import Foundation
import Metrics
import Models
import PostgresNIO
import ServiceKit
import Storage
import Synchronization

/// Who hands a clue in, as far as intake's rules care.
enum Submission: Sendable, Hashable {
    case integration(IntegrationCredentials)
    case staff(StaffClaims)
    /// A resident without credentials, from this address (the public web form).
    case resident(address: String)

    /// Recorded with the clue and scoping idempotency keys. A resident's address is not: it is
    /// personal data needed only by the hourly rate limit (`rateLimitKey`).
    var identity: String {
        switch self {
        case .integration(let credentials): Caller.integration(credentials).identity
        case .staff(let claims): Caller.staff(claims).identity
        case .resident: "resident"
        }
    }

    /// A resident's rate-limit key: the address as a keyed hash, so the rate-limit table (pruned
    /// after two hours) holds no address either.
    func rateLimitKey(district: DistrictCode, secret: String) -> String? {
        guard case .resident(let address) = self else { return nil }
        let code = HMAC<SHA256>.authenticationCode(for: Data("address\u{1F}\(address)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "public:\(district.rawValue):" + code.prefix(12).map { String(format: "%02x", $0) }.joined()
    }
}

/// The answer to an accepted clue; also the stored answer replayed to idempotent retries.
public struct Receipt: Codable, Sendable, Hashable {
    public var clueID: UUID
    public var trackingNumber: String
    /// Shown once: with the tracking number it opens the clue's status. Only its hash is kept.
    public var receiptToken: String
    public var receivedAt: Date
    public var status: String
    /// True when the same contact sent the same text within the resubmission window: the
    /// tracking number is the first clue's, and no second clue was stored.
    public var resubmission: Bool

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case clueID = "clueId", trackingNumber, receiptToken, receivedAt, status, resubmission
    }
}

enum AcceptOutcome: Sendable {
    case created(Receipt)
    case resubmitted(Receipt)
    /// The first answer to this Idempotency-Key, sent again.
    case replayed(status: Int, body: Data)

    /// The receipt in the answer (a replayed answer's is read back from its stored body).
    func receipt() throws -> Receipt {
        switch self {
        case .created(let receipt), .resubmitted(let receipt): receipt
        case .replayed(_, let body): try EventCoding.decoder.decode(Receipt.self, from: body)
        }
    }

    /// The HTTP status and JSON body of the answer.
    func answer() throws -> (status: Int, body: Data) {
        switch self {
        case .created(let receipt): (201, try EventCoding.encoder.encode(receipt))
        case .resubmitted(let receipt): (200, try EventCoding.encoder.encode(receipt))
        case .replayed(let status, let body): (status, body)
        }
    }

    /// The answer as stored for idempotent retries: without the receipt token, which a retry
    /// gets back by deriving it again (`ClueRepository.receiptToken(for:key:secret:)`).
    func storedAnswer() throws -> (status: Int, body: Data) {
        switch self {
        case .created(var receipt), .resubmitted(var receipt):
            receipt.receiptToken = ""
            return (self.isCreated ? 201 : 200, try EventCoding.encoder.encode(receipt))
        case .replayed(let status, let body): return (status, body)
        }
    }

    var isCreated: Bool { if case .created = self { true } else { false } }
}

/// An Idempotency-Key and the hash of the request it came with.
struct IdempotencyClaim: Sendable, Hashable {
    var key: String
    var requestHash: Data

    init?(key: String?, body: Data) {
        guard let key, !key.isEmpty else { return nil }
        self.key = key
        self.requestHash = Data(SHA256.hash(data: body))
    }

    init(key: String, requestHash: Data) {
        self.key = key
        self.requestHash = requestHash
    }

    static func validate(_ key: String?) throws(APIError) {
        guard let key else { return }
        guard (1...200).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw APIError.badRequest("Idempotency-Key must be 1 to 200 visible ASCII characters", field: "Idempotency-Key")
        }
    }
}

/// What a receipt holder sees of their clue.
public struct ClueStatus: Codable, Sendable, Hashable {
    public var trackingNumber: String
    public var title: String
    public var status: String
    public var statusLabel: String
    public var channel: String
    public var themedCall: String?
    public var receivedAt: Date
    public var updatedAt: Date
}

/// Clues in PostgreSQL; SQL for clues, receipts, themed calls and intake's directories lives here.
struct ClueRepository: Sendable {
    let database: Database
    let settings: IntakeSettings

    let sequences: TrackingSequences
    let groupCommit: GroupCommit
    /// The register receivers are credited against (the register API shares it, so its changes are seen at once).
    let register: RegisterRepository

    init(database: Database, settings: IntakeSettings) {
        self.database = database
        self.settings = settings
        register = RegisterRepository(database: database)
        let sequences = TrackingSequences()
        self.sequences = sequences
        self.groupCommit = GroupCommit { items, district in
            try await ClueRepository.storeTogether(items, district: district, database: database, sequences: sequences)
        }
    }

    /// Whether nothing but the district's rules can refuse the clue: no key to replay, no
    /// address to limit, no call to check, no earlier clue to find, no attachment to write.
    static func onlyRulesCanRefuse(_ clue: ValidClue, from submission: Submission, idempotency: IdempotencyClaim?, settings: IntakeSettings) -> Bool {
        if case .resident = submission { return false }
        return idempotency == nil && clue.themedCallID == nil && clue.attachments.isEmpty
            && !(clue.contactFingerprint != nil && settings.resubmissionWindowHours > 0)
    }

    /// Stores the clue, its receipt, attachments and clue-received event in one transaction, or
    /// finds that it was sent before (idempotent retry, resubmission). Nothing is stored when it throws.
    /// A named receiver is credited to its register entry first (refused when the register has none).
    func accept(_ clue: ValidClue, from submission: Submission, idempotency: IdempotencyClaim?, receivedAt: Date = Date()) async throws
        -> AcceptOutcome
    {
        let settings = self.settings
        var clue = clue
        if let receiver = clue.receiver {
            clue.receiver = try await register.credit(receiver, in: clue.district, field: "receiver.name")
        }
        if Self.onlyRulesCanRefuse(clue, from: submission, idempotency: idempotency, settings: settings) {
            let outcome = try await groupCommit.accept(GroupCommit.Item(clue: clue, submittedBy: submission.identity, receivedAt: receivedAt))
            Self.count(outcome, of: clue)
            return outcome
        }
        let sequence = try await sequences.ensure(clue.district, year: Self.year(of: receivedAt), database: database)
        // districtRules sets the district scope in its query: one round trip less per clue.
        let outcome = try await database.transaction(.district(clue.district), scopeSetByBody: true) { transaction in
            try await Self.accept(
                clue, from: submission, idempotency: idempotency, receivedAt: receivedAt, sequence: sequence, settings: settings, in: transaction)
        }
        Self.count(outcome, of: clue)
        return outcome
    }

    /// Many clues of one district in one transaction (one commit instead of one per clue), each in
    /// a savepoint of its own: a clue refused for any reason is rolled back alone, the others stay.
    /// Their receivers are credited by the caller (`RegisterRepository.credit`), once per batch.
    func acceptAll(
        _ clues: [(clue: ValidClue, idempotency: IdempotencyClaim?)], district: DistrictCode, from submission: Submission, receivedAt: Date = Date()
    ) async throws -> [Result<AcceptOutcome, APIError>] {
        guard !clues.isEmpty else { return [] }
        let settings = self.settings
        // When only the district's rules can refuse any of them, they are written together
        // without savepoints (one statement for all); otherwise one savepoint each.
        if clues.allSatisfy({ Self.onlyRulesCanRefuse($0.clue, from: submission, idempotency: $0.idempotency, settings: settings) }) {
            let items = clues.map { GroupCommit.Item(clue: $0.clue, submittedBy: submission.identity, receivedAt: receivedAt) }
            let results = try await Self.storeTogether(items, district: district, database: database, sequences: sequences)
            for case (let item, .success(let outcome)) in zip(clues, results) { Self.count(outcome, of: item.clue) }
            return results
        }
        let sequence = try await sequences.ensure(district, year: Self.year(of: receivedAt), database: database)
        let results = try await database.transaction(.district(district)) { transaction in
            var results: [Result<AcceptOutcome, APIError>] = []
            for (clue, idempotency) in clues {
                try await transaction.execute("SAVEPOINT clue")
                do {
                    guard clue.district == district else { throw APIError.invalid("district", "this batch is for \(district)") }
                    let outcome = try await Self.accept(
                        clue, from: submission, idempotency: idempotency, receivedAt: receivedAt, sequence: sequence, settings: settings,
                        in: transaction)
                    try await transaction.execute("RELEASE SAVEPOINT clue")
                    results.append(.success(outcome))
                } catch {
                    try await transaction.execute("ROLLBACK TO SAVEPOINT clue")
                    results.append(
                        .failure(
                            error as? APIError
                                ?? APIError(
                                    .unprocessableContent, code: "not-stored", message: "the row could not be stored: \(String(describing: error))")))
                }
            }
            return results
        }
        for case (let item, .success(let outcome)) in zip(clues, results) { Self.count(outcome, of: item.clue) }
        return results
    }

    static func count(_ outcome: AcceptOutcome, of clue: ValidClue) {
        let result =
            switch outcome {
            case .created: "created"
            case .resubmitted: "resubmission"
            case .replayed: "replayed"
            }
        Counter(
            label: "intake_clues_total", dimensions: [("district", clue.district.rawValue), ("channel", clue.channel.rawValue), ("result", result)]
        ).increment()
    }

    static func year(of date: Date) -> Int { TrackingSequences.year(of: date) }

    /// The work of `accept` inside a transaction scoped to the clue's district.
    static func accept(
        _ clue: ValidClue, from submission: Submission, idempotency: IdempotencyClaim?, receivedAt: Date, sequence: String,
        settings: IntakeSettings, in transaction: Transaction
    ) async throws -> AcceptOutcome {
        let district = try await intakeSettings(clue.district, channel: clue.channel, in: transaction)
        if case .resident = submission, !district.publicSubmission {
            throw APIError(
                .forbidden, code: "public-submission-disabled",
                message: "district \(clue.district) accepts clues only through integrations and staff", field: "district")
        }
        if let idempotency {
            switch try await IdempotentRequests.claim(
                caller: submission.identity, key: idempotency.key, requestHash: idempotency.requestHash,
                district: clue.district.rawValue, in: transaction)
            {
            case .fresh: break
            case .replay(let status, let body):
                // The first answer byte for byte, its emptied token derived again.
                let token = receiptToken(for: submission.identity, key: idempotency.key, secret: settings.receiptSecret)
                let filled = String(decoding: body, as: UTF8.self).replacingOccurrences(
                    of: #""receiptToken":"""#, with: #""receiptToken":"\#(token)""#)
                return .replayed(status: status, body: Data(filled.utf8))
            case .conflict:
                throw APIError(
                    .unprocessableContent, code: "idempotency-key-reused",
                    message: "this Idempotency-Key was used with a different request", field: "Idempotency-Key")
            }
        }
        if let key = submission.rateLimitKey(district: clue.district, secret: settings.receiptSecret) {
            let decision = try await RateLimits.hit(key, limit: district.publicPerHour, windowSeconds: 3600, in: transaction)
            if case .exceeded(let retryAfter) = decision {
                throw APIError.tooManyRequests(retryAfter: retryAfter, message: "too many submissions from this address; try again later")
            }
        }
        if let callID = clue.themedCallID {
            try await checkOpen(callID, district: clue.district, at: receivedAt, in: transaction)
        }

        // With an Idempotency-Key the token is derived, so the stored answer need not keep it.
        let token = idempotency.map { receiptToken(for: submission.identity, key: $0.key, secret: settings.receiptSecret) } ?? newReceiptToken()
        let outcome: AcceptOutcome
        if let contact = clue.contactFingerprint, settings.resubmissionWindowHours > 0,
            let earlier = try await earlierClue(clue, contact: contact, windowHours: settings.resubmissionWindowHours, in: transaction)
        {
            try await transaction.execute(
                """
                INSERT INTO clue_receipts (clue_id, district, token_hash) VALUES (\(earlier.id), \(clue.district.rawValue), \(hash(token)))
                """)
            outcome = .resubmitted(
                Receipt(
                    clueID: earlier.id, trackingNumber: earlier.trackingNumber, receiptToken: token,
                    receivedAt: earlier.receivedAt, status: earlier.status, resubmission: true))
        } else {
            let year = year(of: receivedAt)
            let number = try await nextTrackingNumber(sequence, prefix: district.trackingPrefix, year: year, in: transaction)
            let stored = try await insert(
                clue, number: number, submittedBy: submission.identity, token: token, receivedAt: receivedAt, in: transaction)
            outcome = .created(
                Receipt(
                    clueID: stored.id, trackingNumber: stored.trackingNumber.rawValue, receiptToken: token,
                    receivedAt: receivedAt, status: "received", resubmission: false))
        }
        if let idempotency {
            let (status, body) = try outcome.storedAnswer()
            try await IdempotentRequests.record(caller: submission.identity, key: idempotency.key, status: status, body: body, in: transaction)
        }
        return outcome
    }

    struct DistrictIntakeSettings {
        var trackingPrefix: String
        var publicSubmission: Bool
        var publicPerHour: Int
    }

    /// The district's settings; an unknown district or a disabled channel is a 422. The same
    /// statement scopes the transaction to the district (districts and channels have no
    /// row-level security, so the order within it does not matter).
    static func intakeSettings(
        _ district: DistrictCode, channel: Models.Channel, in transaction: Transaction
    ) async throws -> DistrictIntakeSettings {
        let rows = try await transaction.query(
            """
            SELECT set_config('app.district', \(Transaction.scopeSetting(.district(district))), true),
                   coalesce(d.tracking_prefix, upper(d.code)), d.public_submission, d.public_submissions_per_hour,
                   coalesce((SELECT enabled FROM channels WHERE code = \(channel.rawValue)), false)
            FROM districts d WHERE d.code = \(district.rawValue)
            """)
        for try await (_, prefix, open, perHour, channelEnabled) in rows.decode((String, String, Bool, Int, Bool).self) {
            guard channelEnabled else { throw APIError.invalid("channel", "channel \(channel.rawValue) is not enabled") }
            return DistrictIntakeSettings(trackingPrefix: prefix, publicSubmission: open, publicPerHour: perHour)
        }
        throw APIError.invalid("district", "no district \(district) is configured")
    }

    static func checkOpen(_ callID: UUID, district: DistrictCode, at date: Date, in transaction: Transaction) async throws {
        let rows = try await transaction.query("SELECT opens_at, closes_at, closed_at FROM themed_calls WHERE id = \(callID)")
        for try await (opensAt, closesAt, closedAt) in rows.decode((Date, Date?, Date?).self) {
            let call = ThemedCall(
                id: callID, district: district, title: "", description: "", opensAt: opensAt, closesAt: closesAt, closedAt: closedAt)
            guard call.isOpen(at: date) else {
                throw APIError(
                    .unprocessableContent, code: "themed-call-closed", message: "themed call \(callID) is not open for clues", field: "themedCallId")
            }
            return
        }
        throw APIError(
            .unprocessableContent, code: "unknown-themed-call", message: "district \(district) has no themed call \(callID)", field: "themedCallId")
    }

    struct EarlierClue {
        var id: UUID
        var trackingNumber: String
        var receivedAt: Date
        var status: String
    }

    /// The same contact's clue with the same text within the window. The advisory lock makes two
    /// identical submissions arriving together wait for each other, so the second finds the first.
    static func earlierClue(_ clue: ValidClue, contact: Data, windowHours: Int, in transaction: Transaction) async throws -> EarlierClue? {
        guard let content = clue.contentFingerprint else { return nil }
        let lockName = clue.district.rawValue + ":" + contact.map { String(format: "%02x", $0) }.joined()
        try await transaction.lock(lockName)
        let rows = try await transaction.query(
            """
            SELECT id, tracking_number, received_at, status FROM clues
            WHERE district = \(clue.district.rawValue) AND contact_fingerprint = \(contact) AND content_fingerprint = \(content)
              AND received_at > now() - make_interval(hours => \(windowHours)::int)
            ORDER BY received_at LIMIT 1
            """)
        for try await (id, number, receivedAt, status) in rows.decode((UUID, String, Date, String).self) {
            return EarlierClue(id: id, trackingNumber: number, receivedAt: receivedAt, status: status)
        }
        return nil
    }

    static func insert(_ valid: ValidClue, number: TrackingNumber, submittedBy: String, token: String, receivedAt: Date, in transaction: Transaction)
        async throws -> Clue
    {
        let new = try NewClue(valid, number: number, submittedBy: submittedBy, token: token, receivedAt: receivedAt)
        try await write([new], in: transaction)
        for (position, attachment) in valid.attachments.enumerated() {
            let digest = Data(SHA256.hash(data: attachment.content))
            try await transaction.execute(
                """
                INSERT INTO clue_attachments (id, clue_id, district, position, name, media_type, size_bytes, sha256, content)
                VALUES (\(UUID()), \(new.clue.id), \(new.clue.district.rawValue), \(position), \(attachment.metadata.name),
                        \(attachment.metadata.mediaType), \(attachment.metadata.size), \(digest), \(attachment.content))
                """)
        }
        return new.clue
    }

    /// A clue with everything decided (id, number, receipt, event), ready to be written.
    struct NewClue: Sendable {
        let clue: Clue
        let valid: ValidClue
        let submittedBy: String
        let tokenHash: Data
        let event: Outbox.Row

        init(_ valid: ValidClue, number: TrackingNumber, submittedBy: String, token: String, receivedAt: Date) throws {
            clue = Clue(
                id: UUID(), district: valid.district, trackingNumber: number,
                title: valid.title, situationAnalysis: valid.situationAnalysis, specificSuggestions: valid.specificSuggestions,
                sourceCategory: valid.sourceCategory, channel: valid.channel, receiver: valid.receiver, submitter: valid.submitter,
                consentToPublish: valid.consentToPublish, themedCallID: valid.themedCallID,
                attachments: valid.attachments.map(\.metadata), receivedAt: receivedAt)
            self.valid = valid
            self.submittedBy = submittedBy
            tokenHash = ClueRepository.hash(token)
            event = try Outbox.Row(
                ClueReceived(
                    clueID: clue.id, trackingNumber: number, channel: valid.channel, sourceCategory: valid.sourceCategory,
                    isAnonymous: valid.submitter == .anonymous, consentToPublish: valid.consentToPublish,
                    themedCallID: valid.themedCallID, attachmentCount: valid.attachments.count, receivedAt: receivedAt),
                district: valid.district, occurredAt: receivedAt, to: TopicCatalogue.intakeEvents, key: clue.id.uuidString)
        }
    }

    /// Writes clues, their receipts and their clue-received events in one statement (one round
    /// trip however many clues: data-modifying CTEs).
    static func write(_ clues: [NewClue], in transaction: Transaction) async throws {
        var sql = PostgresQuery.StringInterpolation(literalCapacity: 1_024 + 160 * clues.count, interpolationCount: 30 * clues.count)
        sql.appendLiteral(
            """
            WITH stored AS (
                INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions,
                                   source_category, channel, is_anonymous, contact_name, contact_phone, contact_address, received_at,
                                   receiver_kind, receiver_name, receiver_code, receiver_studio_code, consent_to_publish,
                                   themed_call_id, submitted_by, contact_fingerprint, content_fingerprint, contact_consent)
                VALUES
            """)
        for (index, new) in clues.enumerated() {
            let (clue, valid) = (new.clue, new.valid)
            let contact: Contact? = if case .named(let contact) = clue.submitter { contact } else { nil }
            try sql.appendRow(
                first: index == 0,
                [
                    .value(clue.id), .value(clue.district.rawValue), .value(clue.trackingNumber.rawValue), .value(clue.title),
                    .value(clue.situationAnalysis), .value(clue.specificSuggestions), .value(clue.sourceCategory.rawValue),
                    .value(clue.channel.rawValue), .value(contact == nil), .optional(contact?.name), .optional(contact?.phone),
                    .optional(contact?.address), .value(clue.receivedAt), .optional(clue.receiver?.kind.rawValue),
                    .optional(clue.receiver?.name), .optional(clue.receiver?.code), .optional(clue.receiver?.studio),
                    .value(clue.consentToPublish), .optional(clue.themedCallID),
                    .value(new.submittedBy), .optional(valid.contactFingerprint), .optional(valid.contentFingerprint),
                    .optional(valid.consentToProcessing),
                ])
        }
        sql.appendLiteral(" RETURNING id), receipts AS (INSERT INTO clue_receipts (clue_id, district, token_hash) VALUES ")
        for (index, new) in clues.enumerated() {
            try sql.appendRow(first: index == 0, [.value(new.clue.id), .value(new.clue.district.rawValue), .value(new.tokenHash)])
        }
        sql.appendLiteral("), announced AS (INSERT INTO outbox (\(Outbox.columns)) VALUES ")
        for (index, new) in clues.enumerated() {
            try sql.appendRow(first: index == 0, new.event.values)
        }
        sql.appendLiteral(") SELECT count(*) FROM stored")
        transaction.wroteOutbox()
        try await transaction.execute(PostgresQuery(stringInterpolation: sql))
    }

    /// Clues of one district that nothing but the district's rules can refuse, stored together
    /// in one transaction of four round trips (see `GroupCommit`). Each gets its own result; a
    /// failure of the store fails them all, and none is stored.
    static func storeTogether(
        _ items: [GroupCommit.Item], district: DistrictCode, database: Database, sequences: TrackingSequences
    ) async throws -> [Result<AcceptOutcome, APIError>] {
        guard let first = items.first else { return [] }
        let year = Self.year(of: first.receivedAt)
        let sequence = try await sequences.ensure(district, year: year, database: database)
        return try await database.transaction(.district(district), scopeSetByBody: true) { transaction in
            let rows = try await transaction.query(
                """
                SELECT set_config('app.district', \(Transaction.scopeSetting(.district(district))), true),
                       coalesce(d.tracking_prefix, upper(d.code)),
                       (SELECT coalesce(array_agg(code), '{}') FROM channels WHERE enabled),
                       (SELECT array_agg(nextval(\(sequence)::regclass)) FROM generate_series(1, \(items.count)))
                FROM districts d WHERE d.code = \(district.rawValue)
                """)
            var rules: (prefix: String, channels: [String], numbers: [Int])?
            for try await (_, prefix, channels, numbers) in rows.decode((String, String, [String], [Int]).self) {
                rules = (prefix, channels, numbers)
            }
            guard let rules, rules.numbers.count == items.count else {
                return items.map { _ in .failure(APIError.invalid("district", "no district \(district) is configured")) }
            }
            var results: [Result<AcceptOutcome, APIError>] = []
            var new: [NewClue] = []
            for (item, number) in zip(items, rules.numbers) {
                guard rules.channels.contains(item.clue.channel.rawValue) else {
                    results.append(.failure(APIError.invalid("channel", "channel \(item.clue.channel.rawValue) is not enabled")))
                    continue
                }
                let token = Self.newReceiptToken()
                let clue = try NewClue(
                    item.clue, number: TrackingNumber(prefix: rules.prefix, year: year, sequence: number),
                    submittedBy: item.submittedBy, token: token, receivedAt: item.receivedAt)
                new.append(clue)
                results.append(
                    .success(
                        .created(
                            Receipt(
                                clueID: clue.clue.id, trackingNumber: clue.clue.trackingNumber.rawValue, receiptToken: token,
                                receivedAt: item.receivedAt, status: "received", resubmission: false))))
            }
            if !new.isEmpty { try await Self.write(new, in: transaction) }
            return results
        }
    }

    /// The next number of the district's sequence for the year.
    static func nextTrackingNumber(_ sequence: String, prefix: String, year: Int, in transaction: Transaction) async throws -> TrackingNumber {
        for try await value in try await transaction.query("SELECT nextval(\(sequence)::regclass)").decode(Int.self) {
            return TrackingNumber(prefix: prefix, year: year, sequence: value)
        }
        throw APIError(.internalServerError, code: "internal", message: "no tracking number was issued")
    }

    /// 192 random bits, base64url.
    /// The receipt token of a clue sent with an Idempotency-Key: an HMAC of caller and key under
    /// the service's secret, as long as a random token and as unguessable without the secret.
    static func receiptToken(for caller: String, key: String, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("receipt\u{1F}\(caller)\u{1F}\(key)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Data(code.prefix(24)).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    /// The attachments of clue `trackingNumber` of `district`, in order, without their content;
    /// nil for a clue the district does not have.
    func attachments(of trackingNumber: String, in district: DistrictCode) async throws -> [ValidAttachment]? {
        try await storedAttachments(of: trackingNumber, at: nil, in: district, withContent: false)
    }

    /// One attachment with its content; nil when the clue or the position does not exist.
    func attachment(of trackingNumber: String, at position: Int, in district: DistrictCode) async throws -> ValidAttachment? {
        try await storedAttachments(of: trackingNumber, at: position, in: district, withContent: true)?.first
    }

    private func storedAttachments(of trackingNumber: String, at position: Int?, in district: DistrictCode, withContent: Bool) async throws
        -> [ValidAttachment]?
    {
        guard TrackingNumber.isWellFormed(trackingNumber) else { return nil }
        return try await database.transaction(.district(district)) { transaction -> [ValidAttachment]? in
            var clue: UUID?
            for try await id in try await transaction.query("SELECT id FROM clues WHERE tracking_number = \(trackingNumber)").decode(UUID.self) {
                clue = id
            }
            guard let clue else { return nil }
            var files: [ValidAttachment] = []
            for try await (name, mediaType, size, sha256, content) in try await transaction.query(
                """
                SELECT name, media_type, size_bytes, encode(sha256, 'hex'), CASE WHEN \(withContent) THEN content ELSE ''::bytea END
                FROM clue_attachments WHERE clue_id = \(clue) AND (\(position)::bigint IS NULL OR position = \(position))
                ORDER BY position
                """
            ).decode((String, String, Int, String, Data).self) {
                files.append(
                    ValidAttachment(metadata: AttachmentMetadata(name: name, mediaType: mediaType, size: size, sha256: sha256), content: content))
            }
            return position != nil && files.isEmpty ? nil : files
        }
    }

    static func newReceiptToken() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = Data(capacity: 24)
        for _ in 0..<3 { withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) } }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    static func hash(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

    /// The clue's status for the holder of its receipt; nil for an unknown number or a wrong
    /// token alike, so the answer says nothing about whether the number exists.
    func status(trackingNumber: String, receiptToken: String) async throws -> ClueStatus? {
        guard TrackingNumber.isWellFormed(trackingNumber), (1...200).contains(receiptToken.utf8.count) else { return nil }
        let tokenHash = Self.hash(receiptToken)
        return try await database.transaction(.allDistricts) { transaction in
            let rows = try await transaction.query(
                """
                SELECT c.tracking_number, c.title, \(unescaped: ClueStatusLabel.column), c.channel, call.title, c.received_at,
                       \(unescaped: ClueStatusLabel.changedColumn)
                FROM clues c
                JOIN clue_receipts r ON r.clue_id = c.id AND r.token_hash = \(tokenHash)
                LEFT JOIN triage_clues t ON t.clue_id = c.id
                LEFT JOIN themed_calls call ON call.id = c.themed_call_id
                WHERE c.tracking_number = \(trackingNumber)
                """)
            for try await (number, title, status, channel, call, receivedAt, updatedAt) in rows.decode(
                (String, String, String, String, String?, Date, Date).self)
            {
                return ClueStatus(
                    trackingNumber: number, title: title, status: status, statusLabel: ClueStatusLabel.chinese(status),
                    channel: channel, themedCall: call, receivedAt: receivedAt, updatedAt: updatedAt)
            }
            return nil
        }
    }
}
