import Foundation

/// The checks every free-text field of every API gets: trimmed, within its limit, and without
/// control characters (tabs anywhere; line breaks only in multi-line fields). A failure is a
/// 422 naming the field.
public enum FieldText {
    public enum Problem: Error, Equatable {
        case controlCharacter
        case tooLong(Int)
        case empty

        public func apiError(_ field: String) -> APIError {
            switch self {
            case .empty: .invalid(field, "must not be empty")
            case .tooLong(let limit): APIError(.unprocessableContent, code: "too-long", message: "at most \(limit) characters", field: field)
            case .controlCharacter: APIError(.unprocessableContent, code: "control-character", message: "contains a control character", field: field)
            }
        }
    }

    /// Trims and checks one field. Single-line fields refuse line breaks; every field refuses
    /// control characters other than tab and line breaks (C0, DEL, C1), and NUL.
    public static func clean(_ text: String, limit: Int, multiline: Bool) -> Result<String, Problem> {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        for scalar in trimmed.unicodeScalars {
            let value = scalar.value
            let allowed = value == 0x09 || (multiline && (value == 0x0A || value == 0x0D))
            let isControl = value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029
            if isControl && !allowed { return .failure(.controlCharacter) }
        }
        if trimmed.isEmpty { return .failure(.empty) }
        if trimmed.count > limit { return .failure(.tooLong(limit)) }
        return .success(trimmed)
    }

    /// The cleaned text; 422 when absent, blank or bad.
    public static func required(_ text: String?, _ field: String, limit: Int, multiline: Bool) throws(APIError) -> String {
        guard let text else { throw .invalid(field, "is required") }
        switch clean(text, limit: limit, multiline: multiline) {
        case .success(let value): return value
        case .failure(let problem): throw problem.apiError(field)
        }
    }

    /// The cleaned text, nil when absent or blank; 422 when bad.
    public static func optional(_ text: String?, _ field: String, limit: Int, multiline: Bool) throws(APIError) -> String? {
        guard let text else { return nil }
        switch clean(text, limit: limit, multiline: multiline) {
        case .success(let value): return value
        case .failure(.empty): return nil
        case .failure(let problem): throw problem.apiError(field)
        }
    }
}
