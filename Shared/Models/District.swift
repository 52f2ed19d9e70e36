/// A district committee (区政协) is the unit of tenancy: every row of district data and every
/// event carries its code, and staff see only their own district's work.
public struct DistrictCode: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible, Comparable {
    public let rawValue: String

    /// Lower-case ASCII letters, digits and hyphens, 2 to 32 characters (e.g. `haizhu`).
    public init?(rawValue: String) {
        guard (2...32).contains(rawValue.utf8.count),
            rawValue.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }),
            rawValue.first != "-", rawValue.last != "-"
        else { return nil }
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let code = DistrictCode(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "district code must be 2-32 lower-case letters, digits or hyphens")
        }
        self = code
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

public struct District: Codable, Sendable, Hashable {
    public var code: DistrictCode
    public var name: String

    public init(code: DistrictCode, name: String) {
        self.code = code
        self.name = name
    }
}
