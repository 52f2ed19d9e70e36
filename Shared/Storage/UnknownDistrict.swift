import Models

/// A district the store does not have (one never set up, or a mistyped code): 404 to a request,
/// and a rejection the consumer dead-letters, naming the district, for an event.
public struct UnknownDistrict: Error, Sendable, CustomStringConvertible {
    public let district: DistrictCode

    public init(_ district: DistrictCode) {
        self.district = district
    }

    public var description: String { "no district \(district.rawValue) in the store" }
}
