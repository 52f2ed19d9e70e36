import Crypto
import Foundation
import Models
import ServiceKit

/// The standard form (附件3) as submitted: the body of `POST /v1/clues`, and what a CSV row,
/// an Open311 request or the web form is turned into. Field limits are in docs/intake.md.
public struct ClueSubmission: Codable, Sendable, Hashable {
    public var district: String
    public var title: String?
    public var situationAnalysis: String?
    public var specificSuggestions: String?
    public var sourceCategory: String?
    public var channel: String?
    public var receiver: ReceiverInput?
    public var anonymous: Bool?
    public var contact: ContactInput?
    public var consentToPublish: Bool?
    /// The submitter agreed to the processing of the contact details given (个人信息保护法):
    /// the web form asks for it; an integration passes on what its user agreed to.
    public var consentToProcessing: Bool?
    public var themedCallID: String?
    public var attachments: [AttachmentInput]?

    public struct ReceiverInput: Codable, Sendable, Hashable {
        public var kind: String?
        public var name: String?
        public init(kind: String?, name: String?) {
            self.kind = kind
            self.name = name
        }
    }

    public struct ContactInput: Codable, Sendable, Hashable {
        public var name: String?
        public var phone: String?
        public var address: String?
        public init(name: String?, phone: String?, address: String?) {
            self.name = name
            self.phone = phone
            self.address = address
        }
    }

    public typealias AttachmentInput = ServiceKit.AttachmentInput

    public init(
        district: String, title: String?, situationAnalysis: String?, specificSuggestions: String?, sourceCategory: String? = nil,
        channel: String? = nil, receiver: ReceiverInput? = nil, anonymous: Bool? = nil, contact: ContactInput? = nil,
        consentToPublish: Bool? = nil, themedCallID: String? = nil, attachments: [AttachmentInput]? = nil, consentToProcessing: Bool? = nil
    ) {
        self.consentToProcessing = consentToProcessing
        self.district = district
        self.title = title
        self.situationAnalysis = situationAnalysis
        self.specificSuggestions = specificSuggestions
        self.sourceCategory = sourceCategory
        self.channel = channel
        self.receiver = receiver
        self.anonymous = anonymous
        self.contact = contact
        self.consentToPublish = consentToPublish
        self.themedCallID = themedCallID
        self.attachments = attachments
    }

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case district, title, situationAnalysis, specificSuggestions, sourceCategory, channel, receiver, anonymous, contact, consentToPublish,
            consentToProcessing, themedCallID = "themedCallId", attachments
    }
}

extension ClueSubmission {
    /// A title for a clue that came without one (GeoReport v2 clients send a description and no
    /// attributes): the description's first sentence, whitespace folded, at most
    /// `FieldLimits.title` characters. Nil when the description has no text.
    public static func title(fromDescription description: String?) -> String? {
        guard let description else { return nil }
        let sentenceEnds: Set<Character> = ["。", "！", "？", "!", "?", "；", ";", "\n", "\r"]
        let sentence = description.trimmingCharacters(in: .whitespacesAndNewlines).prefix { !sentenceEnds.contains($0) }
        let folded = sentence.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard !folded.isEmpty else { return nil }
        return String(folded.prefix(FieldLimits.title))
    }
}

/// A submission that passed every check that needs no database.
public struct ValidClue: Sendable, Hashable {
    public var district: DistrictCode
    public let title: String
    public let situationAnalysis: String
    public let specificSuggestions: String
    public var sourceCategory: SourceCategory
    public var channel: Models.Channel
    public var receiver: Receiver?
    public var submitter: Submitter
    public var consentToPublish: Bool
    /// Whether the named submitter agreed to the processing of their contact details; nil for
    /// an anonymous clue or when the channel did not say.
    public var consentToProcessing: Bool?
    public var themedCallID: UUID?
    public var attachments: [ValidAttachment]

    init(
        district: DistrictCode, title: String, situationAnalysis: String, specificSuggestions: String, sourceCategory: SourceCategory,
        channel: Models.Channel, receiver: Receiver?, submitter: Submitter, consentToPublish: Bool, themedCallID: UUID?,
        attachments: [ValidAttachment]
    ) {
        self.district = district
        self.title = title
        self.situationAnalysis = situationAnalysis
        self.specificSuggestions = specificSuggestions
        self.sourceCategory = sourceCategory
        self.channel = channel
        self.receiver = receiver
        self.submitter = submitter
        self.consentToPublish = consentToPublish
        self.themedCallID = themedCallID
        self.attachments = attachments
        contentFingerprint =
            if case .named = submitter {
                Self.sha256([title, situationAnalysis, specificSuggestions].map(ComparableText.of).joined(separator: "\u{1F}"))
            } else {
                nil
            }
    }

    /// Identifies "the same contact" for resubmission: the phone number, else name and address;
    /// nil for anonymous clues, which are never merged.
    public var contactFingerprint: Data? {
        guard case .named(let contact) = submitter else { return nil }
        if let phone = contact.phone { return Self.sha256("phone:\(phone)") }
        guard let address = contact.address else { return nil }
        return Self.sha256("name:\(ComparableText.of(contact.name))\u{1F}\(ComparableText.of(address))")
    }

    /// The text with case, width, spacing and punctuation ignored, so "near-exact" resubmissions
    /// match; only for clues with a contact, since anonymous ones are never merged.
    public let contentFingerprint: Data?

    static func sha256(_ text: String) -> Data { Data(SHA256.hash(data: Data(text.utf8))) }
}

/// Field limits, in characters. Documented in docs/intake.md and openapi.json.
public enum FieldLimits {
    public static let title = 100
    public static let situationAnalysis = 5_000
    public static let specificSuggestions = 5_000
    public static let contactName = 50
    public static let contactAddress = 200
    public static let receiverName = 100
}

/// Mainland phone numbers: mobile (1[3-9] and nine digits, optionally +86) or landline (area
/// code 0XX or 0XXX, seven or eight digits, optional extension).
public enum PhoneNumber {
    /// The normalised number (`13800138000`, `020-12345678`, `0757-1234567-801`), or nil.
    public static func normalized(_ raw: String) -> String? {
        var text = raw.trimmingCharacters(in: .whitespaces)
        text = text.replacingOccurrences(of: "（", with: "(").replacingOccurrences(of: "）", with: ")")
        guard text.unicodeScalars.allSatisfy({ $0.isASCIIDigit || " -+()#".unicodeScalars.contains($0) || $0 == "转" }) else { return nil }
        // Mobile: digits only after removing separators and the country code.
        var digits = String(text.unicodeScalars.filter(\.isASCIIDigit).map(Character.init))
        if text.hasPrefix("+") && !text.hasPrefix("+86") { return nil }
        if text.hasPrefix("+86") || text.hasPrefix("0086") || (digits.hasPrefix("86") && digits.count == 13) {
            digits = String(digits.dropFirst(digits.hasPrefix("0086") ? 4 : 2))
            return isMobile(digits) ? digits : nil
        }
        if isMobile(digits) && !text.contains("转") && !text.contains("#") { return digits }
        // Landline: area code, number, optional extension after 转, # or a second hyphen.
        let unified = text.replacingOccurrences(of: "转", with: "#").replacingOccurrences(of: "(", with: "").replacingOccurrences(of: ")", with: "-")
        let extensionParts = unified.split(separator: "#", omittingEmptySubsequences: false)
        guard extensionParts.count <= 2 else { return nil }
        var groups = extensionParts[0].split(whereSeparator: { $0 == "-" || $0 == " " }).map(String.init)
        var extensionNumber = extensionParts.count == 2 ? extensionParts[1].trimmingCharacters(in: .whitespaces) : nil
        if groups.count == 3 && extensionNumber == nil { extensionNumber = groups.removeLast() }
        let area: String
        let local: String
        if groups.count == 2 {
            (area, local) = (groups[0], groups[1])
        } else if groups.count == 1, let single = groups.first, single.hasPrefix("0") {
            let areaLength = single.hasPrefix("01") || single.hasPrefix("02") ? 3 : 4
            guard single.count > areaLength else { return nil }
            (area, local) = (String(single.prefix(areaLength)), String(single.dropFirst(areaLength)))
        } else {
            return nil
        }
        let areaOK =
            area.allSatisfy(\.isASCIIDigitCharacter) && area.hasPrefix("0")
            && area.count == (area.hasPrefix("01") || area.hasPrefix("02") ? 3 : 4)
        let localOK = local.allSatisfy(\.isASCIIDigitCharacter) && (7...8).contains(local.count) && !local.hasPrefix("0") && !local.hasPrefix("1")
        guard areaOK, localOK else { return nil }
        if let extensionNumber {
            guard (1...6).contains(extensionNumber.count), extensionNumber.allSatisfy(\.isASCIIDigitCharacter) else { return nil }
            return "\(area)-\(local)-\(extensionNumber)"
        }
        return "\(area)-\(local)"
    }

    static func isMobile(_ digits: String) -> Bool {
        let bytes = Array(digits.utf8)
        return bytes.count == 11 && bytes[0] == UInt8(ascii: "1") && (UInt8(ascii: "3")...UInt8(ascii: "9")).contains(bytes[1])
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}

extension ClueSubmission {
    /// Checks every field that needs no database; the first problem becomes a 4xx naming it.
    /// `defaultChannel` and `defaultCategory` fill what the caller's route implies.
    public func validated(settings: IntakeSettings, defaultChannel: Models.Channel? = nil, defaultCategory: SourceCategory? = nil) throws(APIError)
        -> ValidClue
    {
        guard let district = DistrictCode(rawValue: district) else {
            throw .invalid("district", "must be a district code such as haizhu (lower-case letters, digits, hyphens)")
        }
        let title = try Self.required(title, "title", limit: FieldLimits.title, multiline: false)
        let situation = try Self.optional(situationAnalysis, "situationAnalysis", limit: FieldLimits.situationAnalysis, multiline: true) ?? ""
        let suggestions = try Self.required(specificSuggestions, "specificSuggestions", limit: FieldLimits.specificSuggestions, multiline: true)

        let channel: Models.Channel
        if let code = self.channel {
            guard let known = Channel(rawValue: code) else {
                throw .invalid("channel", "unknown channel; one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            channel = known
        } else if let defaultChannel {
            channel = defaultChannel
        } else {
            throw .invalid("channel", "is required")
        }
        let category: SourceCategory
        if let code = self.sourceCategory {
            guard let known = SourceCategory(rawValue: code) else {
                throw .invalid("sourceCategory", "unknown source category; one of \(SourceCategory.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            category = known
        } else if let implied = defaultCategory ?? Self.impliedCategory(of: channel) {
            category = implied
        } else {
            throw .invalid("sourceCategory", "is required for channel \(channel.rawValue)")
        }

        var validReceiver: Receiver?
        if let receiver {
            guard let kindText = receiver.kind, let kind = Receiver.Kind(rawValue: kindText) else {
                throw .invalid("receiver.kind", "must be member or studio")
            }
            let name = try Self.required(receiver.name, "receiver.name", limit: FieldLimits.receiverName, multiline: false)
            validReceiver = Receiver(kind: kind, name: name)
        }
        if channel == .staffEntry && validReceiver == nil {
            throw .invalid("receiver", "is required when a clue is entered on someone's behalf (接收人)")
        }

        let submitter: Submitter
        if anonymous == true {
            submitter = .anonymous
        } else {
            guard let contact else { throw .invalid("contact.name", "is required unless anonymous is true") }
            let name = try Self.required(contact.name, "contact.name", limit: FieldLimits.contactName, multiline: false)
            var phone: String?
            if let raw = contact.phone, !raw.trimmingCharacters(in: .whitespaces).isEmpty {
                guard let normalized = PhoneNumber.normalized(raw) else {
                    throw .invalid("contact.phone", "must be a mainland mobile (13800138000, +86 allowed) or landline number (020-12345678)")
                }
                phone = normalized
            }
            let address = try Self.optional(contact.address, "contact.address", limit: FieldLimits.contactAddress, multiline: false)
            submitter = .named(Contact(name: name, phone: phone, address: address))
        }

        var themedCall: UUID?
        if let themedCallID, !themedCallID.isEmpty {
            guard let id = UUID(uuidString: themedCallID) else { throw .invalid("themedCallId", "must be the id of a themed call (a UUID)") }
            themedCall = id
        }

        let validAttachments = try Attachments.validate(attachments, limits: settings.attachmentLimits)

        var valid = ValidClue(
            district: district, title: title, situationAnalysis: situation, specificSuggestions: suggestions,
            sourceCategory: category, channel: channel, receiver: validReceiver, submitter: submitter,
            consentToPublish: consentToPublish ?? false, themedCallID: themedCall, attachments: validAttachments)
        if case .named = submitter { valid.consentToProcessing = consentToProcessing }
        return valid
    }

    /// Residents' own channels imply the online platform; entries on someone's behalf must say where from.
    static func impliedCategory(of channel: Models.Channel) -> SourceCategory? {
        switch channel {
        case .web, .wechat, .governmentServiceApp, .qrCode, .open311: .onlinePlatform
        case .batchImport: .streetStudio
        case .staffEntry: nil
        }
    }

    static func required(_ text: String?, _ field: String, limit: Int, multiline: Bool) throws(APIError) -> String {
        try FieldText.required(text, field, limit: limit, multiline: multiline)
    }

    static func optional(_ text: String?, _ field: String, limit: Int, multiline: Bool) throws(APIError) -> String? {
        try FieldText.optional(text, field, limit: limit, multiline: multiline)
    }
}
