import EventPipeline
import Foundation
import Hummingbird
import Models
import ServiceKit
import Storage

/// Intake (征集): where every clue enters, is stored durably and announced.
public enum IntakeService {
    public static let definition = ServiceDefinition(
        name: .intake,
        settings: IntakeSettings.self,
        background: { parts in [IntakeHousekeeping.job(database: parts.database, logger: parts.logger)] },
        routes: { router, parts in
            var settings = parts.settings(as: IntakeSettings.self)
            settings.receiptSecret = parts.configuration.tokenSecret
            let repository = ClueRepository(database: parts.database, settings: settings)
            let directory = DirectoryRepository(database: parts.database)
            let integrations = IntegrationAuthenticator(
                database: parts.database, windowSeconds: parts.configuration.signatureWindowSeconds, bodyLimit: settings.maximumBodyBytes)
            let credentials = OptionalCredentials(staff: StaffAuthenticator(signer: parts.tokens), integrations: integrations)
            ClueController(repository: repository, settings: settings, credentials: credentials, signer: parts.tokens).register(on: router)
            DirectoryController(directory: directory, signer: parts.tokens).register(on: router)
            RegisterController(repository: repository.register, signer: parts.tokens).register(on: router)
            Open311Controller(repository: repository, directory: directory, integrations: integrations, settings: settings).register(on: router)
            WebFormController(repository: repository, directory: directory, settings: settings).register(on: router)
            router.get("/openapi.json") { _, _ in
                Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
            }
        })
}

/// The committed OpenAPI 3.1 description of intake's API (Resources/openapi.json).
enum OpenAPIDocument {
    static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            return Array(#"{"error":{"code":"internal","message":"openapi.json is missing from the build"}}"#.utf8)
        }
        return Array(data)
    }()
}
