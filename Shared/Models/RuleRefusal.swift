/// Why a step of the workflow is refused by its rules (an assignment, a contest, a reply, an
/// extension): the field it concerns, if one, and the reason, which the API answers with
/// (422 naming the field, 409 otherwise).
public struct RuleRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String?
    public var reason: String

    public init(field: String? = nil, _ reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { reason }
}
