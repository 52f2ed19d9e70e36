import Foundation
import Testing

@testable import ServiceKit

/// Forms as browsers post them, with and without files.
@Suite struct SubmittedFormTests {
    let boundary = "----WebKitFormBoundaryx7Y2kQ"

    func body(_ parts: [String]) -> Data {
        var text = ""
        for part in parts { text += "--\(boundary)\r\n" + part }
        return Data((text + "--\(boundary)--\r\n").utf8)
    }

    @Test func aMultipartFormGivesItsFieldsInOrderAndItsFiles() throws {
        let pdf = "%PDF-1.4\r\n\r\nbinary \u{0}\u{1} and a line --\(boundary.dropLast()) that is not a delimiter"
        let data = body([
            "Content-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n",
            "Content-Disposition: form-data; name=\"text\"\r\n\r\n第一行\r\n第二行\r\n",
            "Content-Disposition: form-data; name=\"attachments\"; filename=\"答复函.pdf\"\r\nContent-Type: application/pdf\r\n\r\n\(pdf)\r\n",
            "Content-Disposition: form-data; name=\"attachments\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n",
            "Content-Disposition: form-data; name=\"category\"\r\n\r\nB\r\n",
        ])
        let form = try #require(SubmittedForm.parse(data, contentType: "multipart/form-data; boundary=\(boundary)"))
        #expect(form.values.map(\.name) == ["csrf", "text", "category"])
        #expect(form["text"] == "第一行\r\n第二行")
        #expect(form.files.count == 1, "an empty file input is no file")
        #expect(form.files[0] == SubmittedForm.File(field: "attachments", filename: "答复函.pdf", mediaType: "application/pdf", content: Data(pdf.utf8)))
        let attachments = form.attachments(of: "attachments")
        #expect(attachments.count == 1 && attachments[0].content.flatMap { Data(base64Encoded: $0) } == Data(pdf.utf8))
    }

    @Test func quotedNamesPathsAndUnquotedBoundaries() throws {
        let data = body([
            "Content-Disposition: form-data; name=\"a\"; filename=\"C:\\\\Users\\\\li\\\\my%22file.png\"\r\nContent-Type: image/png; x=1\r\n\r\nPNG\r\n"
        ])
        let form = try #require(SubmittedForm.parse(data, contentType: "multipart/form-data; charset=utf-8; boundary=\"\(boundary)\""))
        #expect(form.files.first?.filename == "my\"file.png" && form.files.first?.mediaType == "image/png")
    }

    @Test(arguments: [
        "no delimiter at all",
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nnever ends",
        "--B\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n--B--",
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nno blank line\r\n--B--",
    ])
    func malformedBodiesAreRefused(_ text: String) {
        #expect(SubmittedForm.parse(Data(text.utf8), contentType: "multipart/form-data; boundary=B") == nil)
    }

    @Test func aFormWithoutBoundaryIsRefusedAndUrlencodedStillParses() throws {
        #expect(SubmittedForm.parse(Data("--B--".utf8), contentType: "multipart/form-data") == nil)
        let plain = try #require(SubmittedForm.parse(Data("a=1&b=%E4%B8%AD".utf8), contentType: "application/x-www-form-urlencoded"))
        #expect(plain["b"] == "中" && plain.files.isEmpty)
    }
}
