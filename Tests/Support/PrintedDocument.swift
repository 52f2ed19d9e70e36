import Foundation

/// A page printed as the office prints it: headless Chromium's `--print-to-pdf`, and the PDF's
/// text read back with `pdftotext` (poppler-utils).
public enum PrintedDocument {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Prints `html` (a self-contained page, as the print pages are) to PDF; the PDF and its text.
    public static func print(html: String) async throws -> (pdf: Data, text: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("print-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let page = folder.appendingPathComponent("page.html")
        let pdf = folder.appendingPathComponent("page.pdf")
        try Data(html.utf8).write(to: page)
        let chromium = try ChildProcess(
            "/usr/bin/chromium",
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-pdf-header-footer",
                "--user-data-dir=\(folder.appendingPathComponent("profile").path)", "--print-to-pdf=\(pdf.path)", page.absoluteString,
            ], standardOutput: .pipe, standardError: .pipe)
        let printed = await chromium.output()
        guard printed.status == 0, let data = try? Data(contentsOf: pdf), data.starts(with: Data("%PDF".utf8)) else {
            throw Failure(
                description:
                    "chromium --print-to-pdf failed (\(printed.status)): \(String(decoding: printed.standardError.suffix(2000), as: UTF8.self))")
        }
        let reader = try ChildProcess("/usr/bin/pdftotext", ["-enc", "UTF-8", pdf.path, "-"], standardOutput: .pipe, standardError: .pipe)
        let read = await reader.output()
        guard read.status == 0 else {
            throw Failure(description: "pdftotext failed (\(read.status)): \(String(decoding: read.standardError, as: UTF8.self))")
        }
        return (data, String(decoding: read.standardOutput, as: UTF8.self))
    }
}
