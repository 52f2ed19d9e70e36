/// The services of the pipeline; each owns one output topic named after it.
public enum ServiceName: String, Sendable, CaseIterable, Codable {
    case intake, triage, assignment, supervision, publicity
    /// The staff web application: it consumes nothing yet and publishes nothing; it is a
    /// service like the others (configuration, health, metrics, the shared store).
    case workbench
}

/// An event type and the schema versions consumers accept.
public struct EventTypeSpec: Sendable, Hashable {
    public let name: String
    public let versions: Set<Int>

    public init<P: EventPayload>(_ payload: P.Type) {
        self.name = P.eventType
        self.versions = [P.schemaVersion]
    }
}

public struct TopicSpec: Sendable, Hashable {
    /// The topic's name before any deployment prefix.
    public let name: String
    public let partitions: Int
    public let producer: ServiceName
    public let eventTypes: [EventTypeSpec]

    public init(name: String, partitions: Int, producer: ServiceName, eventTypes: [EventTypeSpec]) {
        self.name = name
        self.partitions = partitions
        self.producer = producer
        self.eventTypes = eventTypes
    }

    public var deadLetterName: String { name + ".dlq" }

    /// Whether events of `type` in `version` may appear on this topic.
    public func accepts(type: String, version: Int) -> Bool {
        eventTypes.contains { $0.name == type && $0.versions.contains(version) }
    }

    public func knows(type: String) -> Bool {
        eventTypes.contains { $0.name == type }
    }
}

/// Every topic of the system, its partition count and its event types. Partition counts bound
/// how many instances of a consuming service can share work, so they are generous.
public enum TopicCatalogue {
    public static let intakeEvents = TopicSpec(
        name: "intake-events", partitions: 6, producer: .intake,
        eventTypes: [EventTypeSpec(ClueReceived.self)])

    public static let triageEvents = TopicSpec(
        name: "triage-events", partitions: 6, producer: .triage,
        eventTypes: [
            EventTypeSpec(ClueTriaged.self), EventTypeSpec(ClueGroupsChanged.self), EventTypeSpec(ClueRouted.self),
            EventTypeSpec(TopicClaimed.self), EventTypeSpec(ProposalDrafted.self), EventTypeSpec(ProposalFiled.self),
            EventTypeSpec(ProposalNotFiled.self), EventTypeSpec(ProposalReturned.self),
        ])

    public static let assignmentEvents = TopicSpec(
        name: "assignment-events", partitions: 6, producer: .assignment,
        eventTypes: [
            EventTypeSpec(ProposalAssigned.self), EventTypeSpec(ProposalPreAssigned.self), EventTypeSpec(AssignmentContested.self),
            EventTypeSpec(ProposalReassigned.self), EventTypeSpec(ContestRejected.self), EventTypeSpec(AssignmentDeadlineChanged.self),
            EventTypeSpec(ProposalMarkedKey.self),
        ])

    public static let supervisionEvents = TopicSpec(
        name: "supervision-events", partitions: 6, producer: .supervision,
        eventTypes: [
            EventTypeSpec(ReminderDue.self), EventTypeSpec(AssignmentEscalated.self), EventTypeSpec(FollowUpDue.self),
            EventTypeSpec(AssignmentReplied.self), EventTypeSpec(CoUnitOpinionGiven.self), EventTypeSpec(ExtensionDecided.self),
            EventTypeSpec(AssignmentEvaluated.self), EventTypeSpec(AssignmentReopened.self), EventTypeSpec(ProposalClosed.self),
            EventTypeSpec(ReplyRecategorised.self), EventTypeSpec(QuotaReminderDue.self), EventTypeSpec(FollowUpRecorded.self),
            EventTypeSpec(ExtensionRequested.self), EventTypeSpec(EvaluationRequested.self),
        ])

    public static let publicityEvents = TopicSpec(
        name: "publicity-events", partitions: 3, producer: .publicity, eventTypes: [])

    public static let all: [TopicSpec] = [intakeEvents, triageEvents, assignmentEvents, supervisionEvents, publicityEvents]

    public static func topic(named name: String) -> TopicSpec? { all.first { $0.name == name } }

    /// The topic a service publishes to; nil for the workbench, which publishes none.
    public static func output(of service: ServiceName) -> TopicSpec? {
        all.first { $0.producer == service }
    }

    /// The topics a service consumes, in pipeline order.
    public static func inputs(of service: ServiceName) -> [TopicSpec] {
        switch service {
        case .intake: []
        case .triage: [intakeEvents]
        case .assignment: [triageEvents]
        case .supervision: [assignmentEvents]
        case .publicity: [intakeEvents, triageEvents, assignmentEvents, supervisionEvents]
        case .workbench: []
        }
    }
}
