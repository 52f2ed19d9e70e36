import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Models

/// A file sent inside a JSON body (a clue's attachments, a reply's).
public struct AttachmentInput: Codable, Sendable, Hashable {
    public var name: String?
    public var mediaType: String?
    /// The file, base64-encoded.
    public var content: String?
    /// Optional hex SHA-256 the client computed; checked against the content.
    public var sha256: String?

    public init(name: String? = nil, mediaType: String? = nil, content: String? = nil, sha256: String? = nil) {
        self.name = name
        self.mediaType = mediaType
        self.content = content
        self.sha256 = sha256
    }
}

/// An attachment that passed validation, with its content.
public struct ValidAttachment: Sendable, Hashable {
    public var metadata: AttachmentMetadata
    public var content: Data

    public init(metadata: AttachmentMetadata, content: Data) {
        self.metadata = metadata
        self.content = content
    }
}

/// What an API accepts as attachments.
public struct AttachmentLimits: Sendable, Hashable {
    public var mediaTypes: Set<String>
    public var maximumBytes: Int
    public var maximumCount: Int

    public init(mediaTypes: Set<String>, maximumBytes: Int, maximumCount: Int) {
        self.mediaTypes = mediaTypes
        self.maximumBytes = maximumBytes
        self.maximumCount = maximumCount
    }

    /// Documents and pictures offices exchange: PDF, images, text, Word and Excel.
    public static let officeDocuments: Set<String> = [
        "application/pdf", "image/jpeg", "image/png", "image/gif", "image/webp", "text/plain", "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ]
}

public enum Attachments {
    public static let nameLimit = 200

    /// A refused file as the person who chose it reads it (the forms' pages); nil for codes
    /// that are not about files.
    public static func explanation(code: String) -> String? {
        switch code {
        case "attachment-too-large": "文件太大，超过了每个附件的大小上限"
        case "refused-media-type": "不接受这种文件类型，请上传 PDF、图片、文本、Word 或 Excel 文件"
        default: nil
        }
    }

    /// Checks every file (count, name, media type, content, size, claimed digest); a failure
    /// names the field (`attachments.2.mediaType`): 422, 415 for a media type, 413 for a size.
    public static func validate(_ files: [AttachmentInput]?, limits: AttachmentLimits) throws(APIError) -> [ValidAttachment] {
        let files = files ?? []
        guard files.count <= limits.maximumCount else { throw .invalid("attachments", "at most \(limits.maximumCount) attachments") }
        var valid: [ValidAttachment] = []
        for (index, file) in files.enumerated() { valid.append(try validate(file, at: index, limits: limits)) }
        return valid
    }

    public static func validate(_ file: AttachmentInput, at index: Int, limits: AttachmentLimits) throws(APIError) -> ValidAttachment {
        let field = "attachments.\(index)"
        let name = try FieldText.required(file.name, "\(field).name", limit: nameLimit, multiline: false)
        guard !name.contains("/"), !name.contains("\\") else { throw .invalid("\(field).name", "must be a file name without a path") }
        guard let mediaType = file.mediaType?.lowercased().trimmingCharacters(in: .whitespaces), !mediaType.isEmpty else {
            throw .invalid("\(field).mediaType", "is required")
        }
        guard limits.mediaTypes.contains(mediaType) else {
            throw APIError(
                .unsupportedMediaType, code: "refused-media-type",
                message: "\(mediaType) is not accepted; accepted: \(limits.mediaTypes.sorted().joined(separator: ", "))",
                field: "\(field).mediaType")
        }
        guard let encoded = file.content, let content = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters), !content.isEmpty else {
            throw .invalid("\(field).content", "must be the file's content, base64-encoded and not empty")
        }
        guard content.count <= limits.maximumBytes else {
            throw APIError(
                .contentTooLarge, code: "attachment-too-large",
                message: "the attachment has \(content.count) bytes; at most \(limits.maximumBytes) are accepted",
                field: "\(field).content")
        }
        let digest = SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined()
        if let claimed = file.sha256, claimed.lowercased() != digest {
            throw .invalid("\(field).sha256", "does not match the content (SHA-256 of the content is \(digest))")
        }
        return ValidAttachment(
            metadata: AttachmentMetadata(name: name, mediaType: mediaType, size: content.count, sha256: digest), content: content)
    }

    /// A stored file as a download: its stored media type, saved rather than shown
    /// (`Content-Disposition: attachment`), and never sniffed into another type by a browser.
    public static func download(_ metadata: AttachmentMetadata, content: Data) -> Response {
        var headers: HTTPFields = [
            .contentType: metadata.mediaType,
            .contentDisposition: "attachment; filename*=UTF-8''"
                + (metadata.name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "file"),
        ]
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: content)))
    }
}
