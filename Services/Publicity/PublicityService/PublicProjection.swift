import EventPipeline
import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

/// Keeps the public read model (the `public_*` tables) from every lifecycle event, with personal
/// data left out, and queues the notifications the outcomes call for.
///
/// Topics are read in parallel, so one proposal's events may arrive in any interleaving of the
/// topics (a reply before its assignment on a replay). Every write is therefore order-free: a
/// field set by an event keeps that event's time and only a later event replaces it, and the
/// proposal's row is recomputed from those facts and the store. A replay from scratch ends in
/// the same tables as the incremental build.
struct PublicProjection: EventHandler {
    /// Whether outcomes are notified; a replay tells no one again.
    let notifies: Bool
    /// Where staff notices are also e-mailed from; nil sends none.
    var mail: MailSettings? = nil
    /// The workbench's address, for the links in messages.
    var workbenchURL = ""
    /// Derives proposers' evaluation links; nil sends none (a replay).
    var links: StaffTokenSigner? = nil

    func handle(_ events: [EventEnvelope], of district: DistrictCode, in transaction: Transaction) async throws {
        var batch = ProjectionBatch(district: district)
        // A payload that does not decode is dead-lettered by the consumer.
        for event in events { try batch.add(event) }
        // Instances (and a rebuild) applying events of one proposal at once would each recompute
        // its row from what they see; the second waits for the first to commit, then sees it.
        // Locks are per bucket of proposals, taken in one order so they never deadlock.
        let touched = batch.touchedProposals.union(batch.parts.values.map(\.proposal)).union(batch.superseded.values)
            .union(batch.deadlines.values.map(\.proposal)).union(batch.reopenings.values.map(\.proposal))
            .union(batch.replies.values.map(\.proposal)).union(batch.evaluations.values.map(\.proposal))
        if !touched.isEmpty {
            try await transaction.execute(
                """
                SELECT pg_advisory_xact_lock(7100000 + bucket)
                FROM (SELECT DISTINCT abs(hashtext(id::text)) % 4096 AS bucket FROM unnest(\(Array(touched))::uuid[]) AS t(id) ORDER BY 1) AS b
                """)
        }
        try await batch.write(in: transaction)
        try await PublicProposals.refresh(batch.touchedProposals, filed: batch.filedProposals, district: district, in: transaction)
        if notifies {
            let links = self.links, workbenchURL = self.workbenchURL
            try await Notices.enqueue(batch.notices, district: district, in: transaction) { link in
                links.map { workbenchURL + StaffNoticeRouting.evaluationPage($0.evaluationLinkToken(for: link)) }
            }
            try await StaffNoticeRepository.post(events, district: district, mail: mail, workbenchURL: workbenchURL, links: links, in: transaction)
        }
    }
}

/// What one batch of events changes, gathered so each kind of change is one statement.
struct ProjectionBatch {
    let district: DistrictCode

    struct ReceivedClue { var id: UUID; var channel: String; var receivedAt: Date; var call: UUID? }
    struct TriagedClue { var id: UUID; var domain: String?; var street: String?; var group: UUID; var at: Date }
    struct Part { var assignment: UUID; var proposal: UUID; var unit: AssignedUnit; var round: Int; var at: Date }
    struct Deadline { var assignment: UUID; var proposal: UUID; var deadline: LocalDate; var at: Date; var reopened: Bool }
    struct Reply { var assignment: UUID; var proposal: UUID; var reply: UUID; var onTime: Bool; var at: Date }
    struct Evaluation { var assignment: UUID; var proposal: UUID; var satisfaction: Satisfaction; var at: Date }
    struct TimelineEntry { var proposal: UUID; var entry: String; var stage: String; var at: Date; var assignment: UUID?; var detail: String }

    var received: [UUID: ReceivedClue] = [:]
    var triaged: [UUID: TriagedClue] = [:]
    var routes: [UUID: String] = [:]
    var clueProposals: [UUID: UUID] = [:]
    var reviews: [UUID: (year: Int, filed: Bool)] = [:]
    var parts: [UUID: Part] = [:]
    var superseded: [UUID: UUID] = [:]
    var deadlines: [UUID: Deadline] = [:]
    var reopenings: [UUID: Deadline] = [:]
    var replies: [UUID: Reply] = [:]
    var recategorised: Set<UUID> = []
    var evaluations: [UUID: Evaluation] = [:]
    var timeline: [TimelineEntry] = []
    var touchedProposals: Set<UUID> = []
    var filedProposals: Set<UUID> = []
    var notices: [Notice] = []

    init(district: DistrictCode) { self.district = district }

    mutating func add(_ event: EventEnvelope) throws {
        let at = event.occurredAt
        switch event.type {
        case ClueReceived.eventType:
            let clue = try event.decodePayload(as: ClueReceived.self)
            received[clue.clueID] = ReceivedClue(
                id: clue.clueID, channel: clue.channel.rawValue, receivedAt: clue.receivedAt, call: clue.themedCallID)
        case ClueTriaged.eventType:
            let clue = try event.decodePayload(as: ClueTriaged.self)
            mergeTriage(TriagedClue(id: clue.clueID, domain: clue.domain, street: clue.street, group: clue.groupID, at: at))
        case ClueGroupsChanged.eventType:
            let change = try event.decodePayload(as: ClueGroupsChanged.self)
            for clue in change.clueIDs {
                mergeTriage(TriagedClue(id: clue, domain: nil, street: nil, group: change.groupID, at: at))
            }
        case ClueRouted.eventType:
            let routed = try event.decodePayload(as: ClueRouted.self)
            routes[routed.clueID] = routed.route.rawValue
            notices.append(
                Notice(
                    event: event, kind: routed.route == .close ? .clueClosed : .clueRouted, clues: [routed.clueID], proposal: nil,
                    route: routed.route))
        case ProposalFiled.eventType:
            let filed = try event.decodePayload(as: ProposalFiled.self)
            for clue in filed.clueIDs { clueProposals[clue] = filed.proposalID }
            reviews[filed.proposalID] = (filed.year, true)
            touchedProposals.insert(filed.proposalID)
            filedProposals.insert(filed.proposalID)
            notices.append(Notice(event: event, kind: .proposalFiled, clues: filed.clueIDs, proposal: filed.proposalID, route: nil))
        case ProposalNotFiled.eventType:
            let notFiled = try event.decodePayload(as: ProposalNotFiled.self)
            reviews[notFiled.proposalID] = (LocalDate.on(at, in: .chinaTime).year, false)
        case ProposalAssigned.eventType:
            let assigned = try event.decodePayload(as: ProposalAssigned.self)
            addRound(assigned.units, proposal: assigned.proposalID, round: assigned.round, event: event)
        case ProposalReassigned.eventType:
            let reassigned = try event.decodePayload(as: ProposalReassigned.self)
            for assignment in reassigned.superseded { superseded[assignment] = reassigned.proposalID }
            addRound(reassigned.units, proposal: reassigned.proposalID, round: reassigned.round, event: event)
        case AssignmentDeadlineChanged.eventType:
            let changed = try event.decodePayload(as: AssignmentDeadlineChanged.self)
            keepLatest(
                &deadlines,
                Deadline(assignment: changed.assignmentID, proposal: changed.proposalID, deadline: changed.deadline, at: at, reopened: false),
                key: changed.assignmentID)
            touchedProposals.insert(changed.proposalID)
        case AssignmentReplied.eventType:
            let replied = try event.decodePayload(as: AssignmentReplied.self)
            keepLatest(
                &replies,
                Reply(assignment: replied.assignmentID, proposal: replied.proposalID, reply: replied.replyID, onTime: replied.onTime, at: at),
                key: replied.assignmentID)
            timeline.append(
                TimelineEntry(
                    proposal: replied.proposalID, entry: event.eventID.uuidString, stage: "replied", at: at,
                    assignment: replied.assignmentID, detail: replied.category.publicLabel))
            touchedProposals.insert(replied.proposalID)
            notices.append(
                Notice(
                    event: event, kind: .proposalAnswered, clues: [], proposal: replied.proposalID, route: nil,
                    assignment: replied.assignmentID))
        case ReplyRecategorised.eventType:
            let change = try event.decodePayload(as: ReplyRecategorised.self)
            recategorised.insert(change.replyID)
            touchedProposals.insert(change.proposalID)
        case AssignmentEvaluated.eventType:
            let evaluated = try event.decodePayload(as: AssignmentEvaluated.self)
            keepLatest(
                &evaluations, Evaluation(assignment: evaluated.assignmentID, proposal: evaluated.proposalID, satisfaction: evaluated.result, at: at),
                key: evaluated.assignmentID)
            timeline.append(
                TimelineEntry(
                    proposal: evaluated.proposalID, entry: event.eventID.uuidString, stage: "evaluated", at: at,
                    assignment: evaluated.assignmentID, detail: evaluated.result.label))
            touchedProposals.insert(evaluated.proposalID)
        case AssignmentReopened.eventType:
            let reopened = try event.decodePayload(as: AssignmentReopened.self)
            keepLatest(
                &reopenings,
                Deadline(assignment: reopened.assignmentID, proposal: reopened.proposalID, deadline: reopened.deadline, at: at, reopened: true),
                key: reopened.assignmentID)
            timeline.append(
                TimelineEntry(
                    proposal: reopened.proposalID, entry: event.eventID.uuidString, stage: "reopened", at: at,
                    assignment: reopened.assignmentID, detail: "提案人不满意，重新办理（第 \(reopened.rehandling) 次）"))
            touchedProposals.insert(reopened.proposalID)
        case ProposalClosed.eventType:
            let closed = try event.decodePayload(as: ProposalClosed.self)
            timeline.append(
                TimelineEntry(
                    proposal: closed.proposalID, entry: event.eventID.uuidString, stage: "closed", at: at, assignment: nil,
                    detail: closed.byDecision ? "经提案委员会决定办结" : "办理完毕"))
            touchedProposals.insert(closed.proposalID)
            notices.append(Notice(event: event, kind: .proposalClosed, clues: [], proposal: closed.proposalID, route: nil))
        case EvaluationRequested.eventType:
            // Not public: the proposer is sent their link (never a clue's submitter).
            let requested = try event.decodePayload(as: EvaluationRequested.self)
            var notice = Notice(event: event, kind: .evaluationRequested, clues: [], proposal: requested.proposalID, route: nil)
            notice.evaluationLink = requested.linkID
            notices.append(notice)
        case FollowUpRecorded.eventType:
            let review = try event.decodePayload(as: FollowUpRecorded.self)
            timeline.append(
                TimelineEntry(
                    proposal: review.proposalID, entry: event.eventID.uuidString, stage: "follow-up", at: at,
                    assignment: review.assignmentID, detail: "承诺事项（\(review.promised)）\(review.result.label)"))
            touchedProposals.insert(review.proposalID)
        default:
            // Drafts, claims, pre-assignments, contests, reminders and the like are not public.
            return
        }
    }

    mutating func addRound(_ units: [AssignedUnit], proposal: UUID, round: Int, event: EventEnvelope) {
        let final = units.filter { $0.status == .active && $0.deadline != nil }
        for unit in final {
            keepLatest(
                &parts, Part(assignment: unit.assignmentID, proposal: proposal, unit: unit, round: round, at: event.occurredAt),
                key: unit.assignmentID)
        }
        touchedProposals.insert(proposal)
        guard !final.isEmpty else { return }
        let lead = final.filter { $0.role == .lead }.map(\.unitName)
        let co = final.filter { $0.role == .coHandling }.map(\.unitName)
        var detail = "主办：" + lead.joined(separator: "、")
        if !co.isEmpty { detail += "；会办：" + co.joined(separator: "、") }
        timeline.append(
            TimelineEntry(
                proposal: proposal, entry: event.eventID.uuidString, stage: "assigned", at: event.occurredAt, assignment: nil, detail: detail))
    }

    /// Keeps, per key, the value of the latest event (the same event twice keeps one).
    private func keepLatest<Value: TimedFact>(_ values: inout [UUID: Value], _ value: Value, key: UUID) {
        if let existing = values[key], existing.at > value.at { return }
        values[key] = value
    }

    /// A clue's classification comes from its triage; its group from the latest grouping event.
    private mutating func mergeTriage(_ clue: TriagedClue) {
        guard var merged = triaged[clue.id] else {
            triaged[clue.id] = clue
            return
        }
        merged.domain = merged.domain ?? clue.domain
        merged.street = merged.street ?? clue.street
        if clue.domain != nil { merged.domain = clue.domain }
        if clue.street != nil { merged.street = clue.street }
        if clue.at >= merged.at {
            merged.group = clue.group
            merged.at = clue.at
        }
        triaged[clue.id] = merged
    }

    // MARK: writing

    func write(in transaction: Transaction) async throws {
        let district = self.district.rawValue
        if !received.isEmpty {
            let clues = Array(received.values)
            try await transaction.execute(
                """
                INSERT INTO public_clues (clue_id, district, channel, received_at, themed_call_id)
                SELECT id, \(district), channel, received_at, nullif(call, '')::uuid
                FROM unnest(\(clues.map(\.id))::uuid[], \(clues.map(\.channel))::text[], \(clues.map(\.receivedAt))::timestamptz[],
                            \(clues.map { $0.call?.uuidString ?? "" })::text[]) AS c(id, channel, received_at, call)
                ON CONFLICT (clue_id) DO UPDATE SET channel = EXCLUDED.channel, received_at = EXCLUDED.received_at,
                                                    themed_call_id = EXCLUDED.themed_call_id
                """)
        }
        if !triaged.isEmpty {
            let clues = Array(triaged.values)
            // A regrouping carries no classification: it keeps what the clue's triage set.
            try await transaction.execute(
                """
                INSERT INTO public_clues (clue_id, district, domain, street, group_id, group_set_at)
                SELECT id, \(district), nullif(domain, ''), nullif(street, ''), group_id, at
                FROM unnest(\(clues.map(\.id))::uuid[], \(clues.map { $0.domain ?? "" })::text[], \(clues.map { $0.street ?? "" })::text[],
                            \(clues.map(\.group))::uuid[], \(clues.map(\.at))::timestamptz[]) AS c(id, domain, street, group_id, at)
                ON CONFLICT (clue_id) DO UPDATE SET
                    domain = coalesce(EXCLUDED.domain, public_clues.domain), street = coalesce(EXCLUDED.street, public_clues.street),
                    group_id = CASE WHEN public_clues.group_set_at IS NULL OR public_clues.group_set_at <= EXCLUDED.group_set_at
                                    THEN EXCLUDED.group_id ELSE public_clues.group_id END,
                    group_set_at = greatest(public_clues.group_set_at, EXCLUDED.group_set_at)
                """)
        }
        if !routes.isEmpty {
            try await transaction.execute(
                """
                INSERT INTO public_clues (clue_id, district, route)
                SELECT id, \(district), route FROM unnest(\(Array(routes.keys))::uuid[], \(Array(routes.values))::text[]) AS c(id, route)
                ON CONFLICT (clue_id) DO UPDATE SET route = EXCLUDED.route
                """)
        }
        if !clueProposals.isEmpty {
            try await transaction.execute(
                """
                INSERT INTO public_clues (clue_id, district, proposal_id)
                SELECT id, \(district), proposal FROM unnest(\(Array(clueProposals.keys))::uuid[], \(Array(clueProposals.values))::uuid[]) AS c(id, proposal)
                ON CONFLICT (clue_id) DO UPDATE SET proposal_id = EXCLUDED.proposal_id
                """)
        }
        if !reviews.isEmpty {
            let ids = Array(reviews.keys)
            try await transaction.execute(
                """
                INSERT INTO public_reviews (proposal_id, district, year, filed)
                SELECT id, \(district), year, filed FROM unnest(\(ids)::uuid[], \(ids.map { reviews[$0]!.year })::int[], \(ids.map { reviews[$0]!.filed })::boolean[])
                     AS r(id, year, filed)
                ON CONFLICT (proposal_id) DO UPDATE SET year = EXCLUDED.year, filed = EXCLUDED.filed OR public_reviews.filed
                """)
        }
        if !parts.isEmpty {
            let rows = Array(parts.values)
            try await transaction.execute(
                """
                INSERT INTO public_assignments (assignment_id, district, proposal_id, unit_id, unit_name, role, round, assigned_on, deadline, deadline_set_at)
                SELECT id, \(district), proposal, unit, name, role, round, nullif(assigned_on, '')::date, deadline::date, at
                FROM unnest(\(rows.map(\.assignment))::uuid[], \(rows.map(\.proposal))::uuid[], \(rows.map(\.unit.unitID))::uuid[],
                            \(rows.map(\.unit.unitName))::text[], \(rows.map(\.unit.role.rawValue))::text[], \(rows.map(\.round))::int[],
                            \(rows.map { $0.unit.assignedOn?.description ?? "" })::text[], \(rows.map { $0.unit.deadline!.description })::text[],
                            \(rows.map(\.at))::timestamptz[]) AS a(id, proposal, unit, name, role, round, assigned_on, deadline, at)
                ON CONFLICT (assignment_id) DO UPDATE SET
                    unit_id = EXCLUDED.unit_id, unit_name = EXCLUDED.unit_name, role = EXCLUDED.role, round = EXCLUDED.round,
                    assigned_on = EXCLUDED.assigned_on,
                    deadline = CASE WHEN public_assignments.deadline_set_at IS NULL OR public_assignments.deadline_set_at <= EXCLUDED.deadline_set_at
                                    THEN EXCLUDED.deadline ELSE public_assignments.deadline END,
                    deadline_set_at = greatest(public_assignments.deadline_set_at, EXCLUDED.deadline_set_at)
                """)
        }
        if !superseded.isEmpty {
            try await transaction.execute(
                """
                INSERT INTO public_assignments (assignment_id, district, proposal_id, superseded)
                SELECT id, \(district), proposal, true FROM unnest(\(Array(superseded.keys))::uuid[], \(Array(superseded.values))::uuid[]) AS a(id, proposal)
                ON CONFLICT (assignment_id) DO UPDATE SET superseded = true
                """)
        }
        // A reopening sets a new deadline too; it is a statement of its own as it may touch the same row.
        for rows in [Array(deadlines.values), Array(reopenings.values)] where !rows.isEmpty {
            try await transaction.execute(
                """
                INSERT INTO public_assignments (assignment_id, district, proposal_id, deadline, deadline_set_at, reopened_at)
                SELECT id, \(district), proposal, deadline::date, at, CASE WHEN reopened THEN at END
                FROM unnest(\(rows.map(\.assignment))::uuid[], \(rows.map(\.proposal))::uuid[], \(rows.map(\.deadline.description))::text[],
                            \(rows.map(\.at))::timestamptz[], \(rows.map(\.reopened))::boolean[]) AS d(id, proposal, deadline, at, reopened)
                ON CONFLICT (assignment_id) DO UPDATE SET
                    deadline = CASE WHEN public_assignments.deadline_set_at IS NULL OR public_assignments.deadline_set_at <= EXCLUDED.deadline_set_at
                                    THEN EXCLUDED.deadline ELSE public_assignments.deadline END,
                    deadline_set_at = greatest(public_assignments.deadline_set_at, EXCLUDED.deadline_set_at),
                    reopened_at = greatest(public_assignments.reopened_at, EXCLUDED.reopened_at)
                """)
        }
        if !replies.isEmpty {
            let rows = Array(replies.values)
            try await transaction.execute(
                """
                INSERT INTO public_assignments (assignment_id, district, proposal_id, replied_at, reply_id, on_time)
                SELECT id, \(district), proposal, at, reply, on_time
                FROM unnest(\(rows.map(\.assignment))::uuid[], \(rows.map(\.proposal))::uuid[], \(rows.map(\.at))::timestamptz[],
                            \(rows.map(\.reply))::uuid[], \(rows.map(\.onTime))::boolean[]) AS r(id, proposal, at, reply, on_time)
                ON CONFLICT (assignment_id) DO UPDATE SET replied_at = EXCLUDED.replied_at, reply_id = EXCLUDED.reply_id, on_time = EXCLUDED.on_time
                WHERE public_assignments.replied_at IS NULL OR public_assignments.replied_at <= EXCLUDED.replied_at
                """)
        }
        if !replies.isEmpty || !recategorised.isEmpty {
            // The category as it stands in the store: the committee's re-categorisation, if any.
            let replyIDs = Array(recategorised.union(replies.values.map(\.reply)))
            try await transaction.execute(
                """
                UPDATE public_assignments a SET category = coalesce(r.reviewed_category, r.category)
                FROM replies r
                WHERE a.reply_id = ANY(\(replyIDs)::uuid[]) AND r.id = a.reply_id
                """)
        }
        if !evaluations.isEmpty {
            let rows = Array(evaluations.values)
            try await transaction.execute(
                """
                INSERT INTO public_assignments (assignment_id, district, proposal_id, satisfaction, evaluated_at)
                SELECT id, \(district), proposal, satisfaction, at
                FROM unnest(\(rows.map(\.assignment))::uuid[], \(rows.map(\.proposal))::uuid[], \(rows.map(\.satisfaction.rawValue))::text[],
                            \(rows.map(\.at))::timestamptz[]) AS e(id, proposal, satisfaction, at)
                ON CONFLICT (assignment_id) DO UPDATE SET satisfaction = EXCLUDED.satisfaction, evaluated_at = EXCLUDED.evaluated_at
                WHERE public_assignments.evaluated_at IS NULL OR public_assignments.evaluated_at <= EXCLUDED.evaluated_at
                """)
        }
        if !timeline.isEmpty {
            try await transaction.execute(
                """
                INSERT INTO public_timeline (proposal_id, entry, stage, occurred_at, assignment_id, detail)
                SELECT proposal, entry, stage, at, nullif(assignment, '')::uuid, detail
                FROM unnest(\(timeline.map(\.proposal))::uuid[], \(timeline.map(\.entry))::text[], \(timeline.map(\.stage))::text[],
                            \(timeline.map(\.at))::timestamptz[], \(timeline.map { $0.assignment?.uuidString ?? "" })::text[],
                            \(timeline.map(\.detail))::text[]) AS t(proposal, entry, stage, at, assignment, detail)
                ON CONFLICT (proposal_id, entry) DO NOTHING
                """)
        }
    }
}

/// A fact that carries the time of the event that stated it.
protocol TimedFact { var at: Date { get } }
extension ProjectionBatch.TriagedClue: TimedFact {}
extension ProjectionBatch.Part: TimedFact {}
extension ProjectionBatch.Deadline: TimedFact {}
extension ProjectionBatch.Reply: TimedFact {}
extension ProjectionBatch.Evaluation: TimedFact {}
