import Foundation
import ServiceKit

/// Intake's own limits, from the environment (docs/configuration.md).
public struct IntakeSettings: ServiceSettings, Hashable {
    /// Largest JSON or form body accepted (413 beyond).
    public var maximumBodyBytes = 16 * 1024 * 1024
    public var maximumAttachmentBytes = 5 * 1024 * 1024
    public var maximumAttachments = 10
    public var attachmentMediaTypes: Set<String> = [
        "application/pdf", "image/jpeg", "image/png", "image/gif", "image/webp", "text/plain",
        "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ]
    /// The same contact sending the same text within this window gets the first tracking number back.
    public var resubmissionWindowHours = 72
    public var batchMaximumRows = 20_000
    public var batchMaximumBytes = 64 * 1024 * 1024
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    public var trustForwardedFor = false
    /// Keys the derived receipt tokens of idempotent answers and the hashed addresses of the
    /// rate limit; the service sets it to TOKEN_SECRET, so every instance derives the same.
    public var receiptSecret = UUID().uuidString + UUID().uuidString

    public init() {}

    public var attachmentLimits: AttachmentLimits {
        AttachmentLimits(mediaTypes: attachmentMediaTypes, maximumBytes: maximumAttachmentBytes, maximumCount: maximumAttachments)
    }

    public init(_ reader: EnvironmentReader) {
        maximumBodyBytes = reader.integer("INTAKE_MAX_BODY_BYTES", default: maximumBodyBytes, range: 1024...(256 * 1024 * 1024))
        maximumAttachmentBytes = reader.integer("INTAKE_MAX_ATTACHMENT_BYTES", default: maximumAttachmentBytes, range: 1...(64 * 1024 * 1024))
        maximumAttachments = reader.integer("INTAKE_MAX_ATTACHMENTS", default: maximumAttachments, range: 0...100)
        if let types = reader.optionalString("INTAKE_ATTACHMENT_TYPES") {
            let list = types.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            if list.contains(where: { !$0.contains("/") }) {
                reader.problem("INTAKE_ATTACHMENT_TYPES", "must be a comma-separated list of media types such as image/jpeg")
            }
            attachmentMediaTypes = Set(list)
        }
        resubmissionWindowHours = reader.integer("INTAKE_RESUBMISSION_WINDOW_HOURS", default: resubmissionWindowHours, range: 0...(24 * 365))
        batchMaximumRows = reader.integer("INTAKE_BATCH_MAX_ROWS", default: batchMaximumRows, range: 1...1_000_000)
        batchMaximumBytes = reader.integer("INTAKE_BATCH_MAX_BYTES", default: batchMaximumBytes, range: 1024...(1024 * 1024 * 1024))
        if let trust = reader.optionalString("INTAKE_TRUST_FORWARDED_FOR") {
            switch trust.lowercased() {
            case "true", "1", "yes": trustForwardedFor = true
            case "false", "0", "no": trustForwardedFor = false
            default: reader.problem("INTAKE_TRUST_FORWARDED_FOR", "must be true or false, got \"\(trust)\"")
            }
        }
    }
}
