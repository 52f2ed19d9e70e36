import Foundation

/// An HTML form as a browser posts it: `application/x-www-form-urlencoded`, or
/// `multipart/form-data` when it carries files (a reply's attachments, a resident's photos).
public struct SubmittedForm: Sendable {
    /// A file the person chose; checked against an API's limits like any attachment.
    public struct File: Sendable, Hashable {
        /// The form field it came in.
        public var field: String
        public var filename: String
        /// As the browser labelled it (from the file's extension).
        public var mediaType: String
        public var content: Data

        public init(field: String, filename: String, mediaType: String, content: Data) {
            self.field = field
            self.filename = filename
            self.mediaType = mediaType
            self.content = content
        }
    }

    /// The text fields in order.
    public var values: [(name: String, value: String)]
    public var files: [File]

    public init(values: [(name: String, value: String)], files: [File] = []) {
        self.values = values
        self.files = files
    }

    /// The first value given for `name`.
    public subscript(name: String) -> String? { values.first { $0.name == name }?.value }

    /// The files of `field` as attachments for the JSON APIs, which check name, type and size.
    public func attachments(of field: String) -> [AttachmentInput] {
        files.filter { $0.field == field }.map {
            AttachmentInput(name: $0.filename, mediaType: $0.mediaType, content: $0.content.base64EncodedString())
        }
    }

    public static func isMultipart(_ contentType: String?) -> Bool {
        contentType?.lowercased().hasPrefix("multipart/form-data") == true
    }

    /// The form in `body`; nil when it is not well-formed.
    public static func parse(_ body: Data, contentType: String?) -> SubmittedForm? {
        guard isMultipart(contentType) else { return URLEncodedForm.parse(body).map { SubmittedForm(values: $0) } }
        guard let contentType, let boundary = parameter("boundary", in: contentType), !boundary.isEmpty, boundary.utf8.count <= 70 else { return nil }
        return parseMultipart(body, boundary: boundary)
    }

    /// RFC 7578: parts between `--boundary` lines, each with its headers, a blank line and its
    /// content; the last delimiter ends in `--`. A file input left empty sends a part with an
    /// empty file name and no content, which is no file.
    static func parseMultipart(_ body: Data, boundary: String) -> SubmittedForm? {
        let delimiter = Data("--\(boundary)".utf8)
        let nextPart = Data("\r\n--\(boundary)".utf8)
        let blankLine = Data("\r\n\r\n".utf8)
        guard var cursor = body.range(of: delimiter)?.upperBound else { return nil }
        var form = SubmittedForm(values: [])
        while true {
            // After a delimiter: `--` ends the body, a line break starts a part.
            let after = body[cursor..<min(cursor + 2, body.endIndex)]
            if after.elementsEqual("--".utf8) { return form }
            guard after.elementsEqual("\r\n".utf8), let headersEnd = body.range(of: blankLine, in: cursor..<body.endIndex) else { return nil }
            guard let headerText = String(data: body[(cursor + 2)..<headersEnd.lowerBound], encoding: .utf8),
                let end = body.range(of: nextPart, in: headersEnd.upperBound..<body.endIndex)
            else { return nil }
            let content = body[headersEnd.upperBound..<end.lowerBound]
            var disposition = ""
            var mediaType = "application/octet-stream"
            for line in headerText.components(separatedBy: "\r\n") {
                let pair = line.split(separator: ":", maxSplits: 1)
                guard pair.count == 2 else { continue }
                let value = pair[1].trimmingCharacters(in: .whitespaces)
                switch pair[0].lowercased() {
                case "content-disposition": disposition = value
                case "content-type":
                    mediaType = value.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? mediaType
                default: break
                }
            }
            guard disposition.lowercased().hasPrefix("form-data"), let name = parameter("name", in: disposition) else { return nil }
            if let filename = parameter("filename", in: disposition) {
                if !filename.isEmpty || !content.isEmpty {
                    // Browsers send the name without its folder; older ones sent the whole path.
                    let base = filename.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? filename
                    form.files.append(File(field: name, filename: base, mediaType: mediaType, content: Data(content)))
                }
            } else {
                guard let value = String(data: content, encoding: .utf8) else { return nil }
                form.values.append((name, value))
            }
            cursor = end.upperBound
        }
    }

    /// A parameter of a header value (`boundary=…`, `name="…"`), quoted or not; browsers send
    /// UTF-8 inside the quotes and escape a quote as `%22`.
    static func parameter(_ name: String, in header: String) -> String? {
        var rest = Substring(header)
        while let semicolon = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semicolon)...].drop { $0 == " " }
            guard let equals = rest.firstIndex(of: "=") else { return nil }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = rest[rest.index(after: equals)...]
            var parsed: String
            if value.first == "\"" {
                value = value.dropFirst()
                var text = ""
                var escaped = false
                var closed: Substring.Index?
                for index in value.indices {
                    let character = value[index]
                    if escaped {
                        text.append(character); escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        closed = index; break
                    } else {
                        text.append(character)
                    }
                }
                guard let closed else { return nil }
                parsed = text.replacingOccurrences(of: "%22", with: "\"")
                rest = value[value.index(after: closed)...]
            } else {
                let end = value.firstIndex(of: ";") ?? value.endIndex
                parsed = value[..<end].trimmingCharacters(in: .whitespaces)
                rest = value[end...]
            }
            if key == name.lowercased() { return parsed }
        }
        return nil
    }
}
