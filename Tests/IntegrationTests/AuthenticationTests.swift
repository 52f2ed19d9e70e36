import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Models
import ServiceKit
import Storage
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(2)))
struct AuthenticationTests {
    let secret = "integration-secret-0123456789"

    func application(_ store: TestDatabase, signer: StaffTokenSigner) -> some ApplicationProtocol {
        let router = Router(context: AppRequestContext.self)
        router.group("/integration")
            .add(middleware: IntegrationAuthenticator(database: store.database, windowSeconds: 300))
            .post("/clues") { _, context in context.caller?.districts.map(\.rawValue).sorted().joined(separator: ",") ?? "nobody" }
        router.group("/staff")
            .add(middleware: StaffAuthenticator(signer: signer, roles: [.clueHandler]))
            .get("/queue") { _, context in context.caller?.districts.map(\.rawValue).sorted().joined(separator: ",") ?? "nobody" }
        return Application(router: router)
    }

    func fields(_ headers: [String: String]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return fields
    }

    @Test func signedIntegrationRequestsPassOnceAndOnlyWhenFresh() async throws {
        let store = try await TestDatabase()
        try await store.execute("INSERT INTO integration_keys (key_id, districts, secret) VALUES ('gov-app', ARRAY['haizhu'], \(secret))")
        let body = Data(#"{"title":"路灯不亮"}"#.utf8)
        let signed = RequestSignature.headers(keyID: "gov-app", secret: secret, method: "POST", path: "/integration/clues", body: body)
        let app = application(store, signer: StaffTokenSigner(secret: String(repeating: "s", count: 32)))

        try await app.test(.router) { client in
            try await client.execute(uri: "/integration/clues", method: .post, headers: fields(signed), body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "haizhu")
            }
            // The very same request again is a replay.
            try await client.execute(uri: "/integration/clues", method: .post, headers: fields(signed), body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("replayed-request"))
            }
            let stale = RequestSignature.headers(
                keyID: "gov-app", secret: secret, method: "POST", path: "/integration/clues", body: body, now: Date().addingTimeInterval(-600))
            try await client.execute(uri: "/integration/clues", method: .post, headers: fields(stale), body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("stale-request"))
            }
            let fresh = RequestSignature.headers(keyID: "gov-app", secret: secret, method: "POST", path: "/integration/clues", body: body)
            try await client.execute(uri: "/integration/clues", method: .post, headers: fields(fresh), body: ByteBuffer(string: #"{"title":"改过的"}"#))
            { response in
                #expect(response.status == .unauthorized, "a body changed after signing is refused")
            }
            let wrongKey = RequestSignature.headers(
                keyID: "gov-app", secret: "not-the-secret", method: "POST", path: "/integration/clues", body: body)
            try await client.execute(uri: "/integration/clues", method: .post, headers: fields(wrongKey), body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .unauthorized)
            }
            let unknown = RequestSignature.headers(keyID: "nobody", secret: secret, method: "POST", path: "/integration/clues", body: body)
            try await client.execute(uri: "/integration/clues", method: .post, headers: fields(unknown), body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains(#""code":"unauthorized""#))
            }
        }
    }

    @Test func staffTokensCarryRoleAndDistrict() async throws {
        let store = try await TestDatabase()
        let signer = StaffTokenSigner(secret: String(repeating: "s", count: 32))
        let app = application(store, signer: signer)
        let handler = try signer.token(for: StaffClaims(subject: "a", role: .clueHandler, district: haizhu, expiresAt: Date().addingTimeInterval(60)))
        let unit = try signer.token(
            for: StaffClaims(subject: "b", role: .handlingUnit, district: haizhu, unitID: UUID(), expiresAt: Date().addingTimeInterval(60)))
        try await app.test(.router) { client in
            try await client.execute(uri: "/staff/queue", method: .get, headers: [.authorization: "Bearer \(handler)"]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "haizhu")
            }
            try await client.execute(uri: "/staff/queue", method: .get, headers: [.authorization: "Bearer \(unit)"]) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/staff/queue", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    /// Tokens say when and for whom they were made; a person's lives at most 12 hours, a named
    /// service account's longer; a token ends early by its id or with every token of its subject.
    @Test func tokensAreBoundedAndRevocable() async throws {
        let store = try await TestDatabase()
        let signer = StaffTokenSigner(secret: String(repeating: "s", count: 32))
        let app = application(store, signer: signer)
        let now = Date()
        func token(_ subject: String = "a", issued: Date = now, hours: Double = 1, audience: String = StaffClaims.audience, service: Bool = false)
            throws -> (String, StaffClaims)
        {
            let claims = StaffClaims(
                subject: subject, role: .clueHandler, district: haizhu, issuedAt: issued,
                expiresAt: issued.addingTimeInterval(hours * 3600), audience: audience, serviceAccount: service)
            return (try signer.token(for: claims), claims)
        }
        let (day, _) = try token(hours: 13)
        let (serviceDay, _) = try token("sync-bot", hours: 24 * 30, service: true)
        let (elsewhere, _) = try token(audience: "another-system")
        let (expired, _) = try token(issued: now.addingTimeInterval(-7200))
        let (revokedByID, revokedClaims) = try token("b")
        let (kept, _) = try token("b")
        let (oldOfC, _) = try token("c", issued: now.addingTimeInterval(-60))
        func status(_ token: String) async throws -> HTTPResponse.Status {
            try await app.test(.router) { client in
                try await client.execute(uri: "/staff/queue", method: .get, headers: [.authorization: "Bearer \(token)"]) { $0.status }
            }
        }
        #expect(try await status(day) == .unauthorized, "a person's token of 13 hours")
        #expect(try await status(serviceDay) == .ok, "a service account's token of 30 days")
        #expect(try await status(elsewhere) == .unauthorized, "another audience")
        #expect(try await status(expired) == .unauthorized)
        #expect(try await status(revokedByID) == .ok)
        #expect(try await status(oldOfC) == .ok)

        try await store.execute(
            """
            INSERT INTO revoked_tokens (token_id, expires_at, revoked_by) VALUES (\(revokedClaims.tokenID), now() + interval '1 hour', 'test')
            """)
        try await store.execute("INSERT INTO revoked_subjects (subject, revoked_before, revoked_by) VALUES ('c', now(), 'test')")
        try await signer.revocations.refresh(from: store.database)
        #expect(try await status(revokedByID) == .unauthorized, "revoked by its id, though verified before")
        #expect(try await status(kept) == .ok, "another token of the same subject")
        #expect(try await status(oldOfC) == .unauthorized, "issued before its subject's revocation")
        let (newOfC, _) = try token("c", issued: Date().addingTimeInterval(1))
        #expect(try await status(newOfC) == .ok, "issued after it")
    }
}
