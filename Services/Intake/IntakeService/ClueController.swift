import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// What each kind of submitter may do: a pure rule, tested without a server.
enum SubmissionPolicy {
    /// The channel a submission comes through when it does not name one.
    static func defaultChannel(for submission: Submission) -> Models.Channel? {
        switch submission {
        case .integration: nil
        case .staff: .staffEntry
        case .resident: .web
        }
    }

    static let staffRoles: Set<StaffClaims.Role> = [.clueHandler, .proposalsCommittee, .specialCommittee, .memberStudio, .member, .administrator]

    /// Refuses (403, naming the field) what the submitter's credentials do not cover.
    static func check(_ clue: ValidClue, from submission: Submission) throws(APIError) {
        switch submission {
        case .integration(let credentials):
            guard credentials.districts.contains(clue.district) else {
                throw .forbidden("integration key \(credentials.keyID) may not submit for district \(clue.district)", field: "district")
            }
            guard credentials.channels.contains(clue.channel.rawValue) else {
                throw .forbidden("integration key \(credentials.keyID) may not submit through channel \(clue.channel.rawValue)", field: "channel")
            }
        case .staff(let claims):
            guard staffRoles.contains(claims.role) else { throw .forbidden("role \(claims.role.rawValue) may not enter clues") }
            guard claims.district == clue.district else {
                throw .forbidden("a staff token of \(claims.district) may not enter clues for \(clue.district)", field: "district")
            }
            guard clue.channel == .staffEntry || clue.channel == .batchImport else {
                throw .forbidden("staff enter clues through staff-entry or batch-import", field: "channel")
            }
        case .resident:
            guard clue.channel == .web || clue.channel == .qrCode else {
                throw .forbidden("without credentials only the web and qr-code channels are open", field: "channel")
            }
        }
    }
}

/// The clue routes of `/v1`: submit, status, batch import.
struct ClueController: Sendable {
    let repository: ClueRepository
    let settings: IntakeSettings
    let credentials: OptionalCredentials
    let signer: StaffTokenSigner

    func register(on router: Router<AppRequestContext>) {
        let clues = router.group("/v1/clues").add(middleware: credentials)
        clues.post(use: submit)
        clues.post("/batch", use: BatchImportController(repository: repository, settings: settings).importCSV)
        router.get("/v1/clues/:trackingNumber", use: status)
        // The committee's office reads what residents attached; not members, studios or units.
        router.group("/v1/clues/:trackingNumber/attachments")
            .add(middleware: StaffAuthenticator(signer: signer, roles: [.clueHandler, .proposalsCommittee, .specialCommittee, .administrator]))
            .get(use: attachments)
            .get(":position", use: attachment)
    }

    /// The attachments of a clue of the caller's district: name, media type, size and digest.
    @Sendable func attachments(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let number = context.parameters.get("trackingNumber"), let files = try await repository.attachments(of: number, in: claims.district)
        else { throw APIError.notFound }
        struct Listing: Encodable { var trackingNumber: String; var attachments: [AttachmentMetadata] }
        return try jsonResponse(Listing(trackingNumber: number, attachments: files.map(\.metadata)))
    }

    /// One attachment's content, as a download.
    @Sendable func attachment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        // A clue has at most INTAKE_MAX_ATTACHMENTS files: any other position is simply not there.
        guard let number = context.parameters.get("trackingNumber"), let position = context.parameters.get("position").flatMap(Int.init),
            (0..<1_000).contains(position), let file = try await repository.attachment(of: number, at: position, in: claims.district)
        else { throw APIError.notFound }
        return Attachments.download(file.metadata, content: file.content)
    }

    /// Accepts one clue; answers 201 with the tracking number and receipt token only after the
    /// transaction committed (200 for a resubmission, the first answer for a retried key).
    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let key = request.header("Idempotency-Key")
        try IdempotencyClaim.validate(key)
        let data = Data(buffer: try await request.collectBody(limit: settings.maximumBodyBytes))
        let submission = Self.submission(of: request, context: context, settings: settings)
        let input = try Request.decodeJSON(ClueSubmission.self, from: data)
        let clue = try input.validated(settings: settings, defaultChannel: SubmissionPolicy.defaultChannel(for: submission))
        try SubmissionPolicy.check(clue, from: submission)
        let outcome = try await repository.accept(clue, from: submission, idempotency: IdempotencyClaim(key: key, body: data))
        if case .created(let receipt) = outcome {
            context.logger.info(
                "clue accepted",
                metadata: ["clue": "\(receipt.clueID)", "tracking": "\(receipt.trackingNumber)", "channel": "\(clue.channel.rawValue)"])
        }
        let (status, body) = try outcome.answer()
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        switch outcome {
        case .created(let receipt):
            headers[.location] = "/v1/clues/\(receipt.trackingNumber)"
        case .replayed(201, _):
            if let receipt = try? EventCoding.decoder.decode(Receipt.self, from: body) { headers[.location] = "/v1/clues/\(receipt.trackingNumber)" }
        default:
            break
        }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The clue's status for whoever holds its receipt token (`X-Receipt-Token`); anything else is 404.
    @Sendable func status(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let number = context.parameters.get("trackingNumber"), let token = request.header("X-Receipt-Token"),
            let status = try await repository.status(trackingNumber: number, receiptToken: token)
        else { throw APIError.notFound }
        return try jsonResponse(status)
    }

    /// The submitter behind a request: the authenticated caller, or a resident at the client's address.
    static func submission(of request: Request, context: AppRequestContext, settings: IntakeSettings) -> Submission {
        switch context.caller {
        case .integration(let credentials): return .integration(credentials)
        case .staff(let claims): return .staff(claims)
        case nil:
            if settings.trustForwardedFor, let forwarded = request.header("X-Forwarded-For"),
                let first = forwarded.split(separator: ",").first?.trimmingCharacters(in: .whitespaces), !first.isEmpty
            {
                return .resident(address: first)
            }
            return .resident(address: context.peerAddress ?? "unknown")
        }
    }
}
