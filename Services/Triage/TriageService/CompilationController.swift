import Foundation
import HTTPTypes
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

/// `GET /v1/compilations/:year/clues.csv` and `.../clues.html`: the annual clue compilation of
/// the staff token's district.
struct CompilationController: Sendable {
    let database: Database
    let signer: StaffTokenSigner
    /// Domain codes to the names shown (from the classification rules).
    let domainNames: [String: String]

    init(database: Database, signer: StaffTokenSigner, domainNames: [String: String] = [:]) {
        self.database = database
        self.signer = signer
        self.domainNames = domainNames
    }

    var store: CompilationRepository { CompilationRepository(database: database) }

    func register(on router: Router<AppRequestContext>) {
        // The compilation lists every clue of the year: the committee's office reads it, not
        // members, studios or handling units.
        router.group("/v1/compilations")
            .add(middleware: StaffAuthenticator(signer: signer, roles: [.clueHandler, .proposalsCommittee, .specialCommittee, .administrator]))
            .get("/:year/clues.csv", use: csv)
            .get("/:year/clues.html", use: html)
    }

    static func year(_ context: AppRequestContext) throws -> Int {
        guard let text = context.parameters.get("year"), let year = Int(text), (2000...2100).contains(year) else {
            throw APIError.invalid("year", "must be a year between 2000 and 2100")
        }
        return year
    }

    @Sendable func csv(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let year = try Self.year(context)
        let compilation = try await store.compilation(of: claims.district, year: year, domainNames: domainNames)
        let headers: HTTPFields = [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition: "attachment; filename=\"clues-\(claims.district.rawValue)-\(year).csv\"",
        ]
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: CompilationFormat.csv(compilation))))
    }

    @Sendable func html(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let year = try Self.year(context)
        let compilation = try await store.compilation(of: claims.district, year: year, domainNames: domainNames)
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: CompilationFormat.html(compilation))))
    }
}
