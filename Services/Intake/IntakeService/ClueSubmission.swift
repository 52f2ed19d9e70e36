import Foundation
import Models
import ServiceKit

/// The body of `POST /v1/clues`: the standard form's fields.
struct ClueSubmission: Decodable, Sendable {
    var district: String
    var title: String
    var situationAnalysis: String
    var specificSuggestions: String
    var channel: String
    var sourceCategory: String
    var anonymous: Bool?
    var contact: Contact?

    struct Valid: Sendable {
        var district: DistrictCode
        var title: String
        var situationAnalysis: String
        var specificSuggestions: String
        var channel: Channel
        var sourceCategory: SourceCategory
        var submitter: Submitter
    }

    /// Checks every field; the first problem becomes a 422 naming the field.
    func validated() throws(APIError) -> Valid {
        guard let district = DistrictCode(rawValue: district) else {
            throw .invalid("district", "must be a district code such as haizhu")
        }
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(title.count) else { throw .invalid("title", "must be 1 to 200 characters") }
        let situation = situationAnalysis.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...20_000).contains(situation.count) else { throw .invalid("situationAnalysis", "must be 1 to 20000 characters") }
        let suggestions = specificSuggestions.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...20_000).contains(suggestions.count) else { throw .invalid("specificSuggestions", "must be 1 to 20000 characters") }
        guard let channel = Channel(rawValue: channel) else {
            throw .invalid("channel", "must be one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let source = SourceCategory(rawValue: sourceCategory) else {
            throw .invalid("sourceCategory", "must be one of \(SourceCategory.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let submitter: Submitter
        if anonymous == true {
            submitter = .anonymous
        } else {
            guard let contact, !contact.name.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw .invalid("contact.name", "is required unless anonymous is true")
            }
            if let phone = contact.phone, !phone.isEmpty, !phone.allSatisfy({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == " " }) {
                throw .invalid("contact.phone", "may contain digits, spaces, + and - only")
            }
            submitter = .named(contact)
        }
        return Valid(
            district: district, title: title, situationAnalysis: situation, specificSuggestions: suggestions,
            channel: channel, sourceCategory: source, submitter: submitter)
    }
}

struct ClueAccepted: Encodable, Sendable {
    var clueId: UUID
    var trackingNumber: String
    var receivedAt: Date
}
