import EventPipeline
import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

/// Follows assignment's events: every final assignment is tracked with its timers; a
/// reassignment supersedes the round it replaces; a new deadline replans the timers.
struct AssignmentTracking: EventHandler {
    let clock: ServiceClock

    func handle(_ events: [EventEnvelope], of district: DistrictCode, in transaction: Transaction) async throws {
        let now = clock.now
        var settings: SupervisionSettings?
        func loadSettings() async throws -> SupervisionSettings {
            if let settings { return settings }
            let loaded = try await TimerRepository.settings(of: district, in: transaction)
            settings = loaded
            return loaded
        }
        // A payload that does not decode is dead-lettered by the consumer.
        for event in events {
            switch event.type {
            case ProposalAssigned.eventType:
                let assigned = try event.decodePayload(as: ProposalAssigned.self)
                try await track(
                    assigned.units, proposal: assigned.proposalID, caseNumber: assigned.caseNumber, round: assigned.round,
                    isKey: assigned.isKey, leader: assigned.supervisingLeader, settings: try await loadSettings(),
                    district: district, now: now, in: transaction)
            case ProposalReassigned.eventType:
                let reassigned = try event.decodePayload(as: ProposalReassigned.self)
                for superseded in reassigned.superseded {
                    try await transaction.execute(
                        """
                        UPDATE supervised_assignments SET state = \(SupervisedAssignmentState.superseded.rawValue), updated_at = \(now) WHERE assignment_id = \(superseded)
                        """)
                    try await TimerRepository.cancelDeadlineTimers(of: superseded, at: now, in: transaction)
                }
                let key = try await keyProposal(reassigned.proposalID, in: transaction)
                try await track(
                    reassigned.units, proposal: reassigned.proposalID, caseNumber: reassigned.caseNumber,
                    round: reassigned.round, isKey: key.isKey, leader: key.leader, settings: try await loadSettings(),
                    district: district, now: now, in: transaction)
            case AssignmentDeadlineChanged.eventType:
                let changed = try event.decodePayload(as: AssignmentDeadlineChanged.self)
                try await transaction.execute(
                    """
                    UPDATE supervised_assignments SET deadline = \(changed.deadline), escalation_level = NULL,
                           updated_at = \(now)
                    WHERE assignment_id = \(changed.assignmentID)
                    """)
                try await TimerRepository.cancelDeadlineTimers(of: changed.assignmentID, at: now, in: transaction)
                let tracked = try await transaction.query(
                    "SELECT 1 FROM supervised_assignments WHERE assignment_id = \(changed.assignmentID) AND state = \(SupervisedAssignmentState.handling.rawValue)"
                )
                var handling = false
                for try await _ in tracked { handling = true }
                if handling {
                    let settings = try await loadSettings()
                    try await TimerRepository.plan(
                        assignment: changed.assignmentID, proposal: changed.proposalID, deadline: changed.deadline,
                        today: LocalDate.on(now, in: settings.zone), settings: settings, district: district, in: transaction)
                }
            case ProposalMarkedKey.eventType:
                let key = try event.decodePayload(as: ProposalMarkedKey.self)
                try await transaction.execute(
                    """
                    UPDATE supervised_assignments SET is_key = true, supervising_leader = \(key.supervisingLeader), updated_at = \(now)
                    WHERE proposal_id = \(key.proposalID)
                    """)
            default:
                // Pre-assignments, contests and their rejection change nothing supervision tracks.
                continue
            }
        }
    }

    /// Starts tracking the final assignments of a round (again-delivered ones are skipped).
    func track(
        _ units: [AssignedUnit], proposal: UUID, caseNumber: String, round: Int, isKey: Bool, leader: String?,
        settings: SupervisionSettings, district: DistrictCode, now: Date, in transaction: Transaction
    ) async throws {
        let today = LocalDate.on(now, in: settings.zone)
        for unit in units {
            guard unit.status == .active, let assignedOn = unit.assignedOn, let deadline = unit.deadline else {
                throw EventRejection("assignment \(unit.assignmentID) is announced as final without a day of assignment and a deadline")
            }
            let opinionDue =
                unit.role == .coHandling
                ? HandlingRules.opinionDue(assignedOn: assignedOn, deadline: deadline, days: settings.coUnitOpinionDays) : nil
            var inserted = false
            for try await _ in try await transaction.query(
                """
                INSERT INTO supervised_assignments (assignment_id, district, proposal_id, case_number, unit_id, unit_name, role, round,
                                                    is_key, supervising_leader, assigned_on, deadline, state, updated_at, opinion_due)
                VALUES (\(unit.assignmentID), \(district.rawValue), \(proposal), \(caseNumber), \(unit.unitID), \(unit.unitName),
                        \(unit.role.rawValue), \(round), \(isKey), \(leader), \(assignedOn), \(deadline),
                        \(SupervisedAssignmentState.handling.rawValue), \(now), \(opinionDue)::date)
                ON CONFLICT (assignment_id) DO NOTHING
                RETURNING 1
                """)
            { inserted = true }
            guard inserted else { continue }
            try await TimerRepository.plan(
                assignment: unit.assignmentID, proposal: proposal, deadline: deadline, today: today,
                settings: settings, district: district, in: transaction)
        }
    }

    func keyProposal(_ proposal: UUID, in transaction: Transaction) async throws -> (isKey: Bool, leader: String?) {
        for try await (isKey, leader) in try await transaction.query(
            """
            SELECT bool_or(is_key), max(supervising_leader) FROM supervised_assignments WHERE proposal_id = \(proposal)
            """
        ).decode((Bool?, String?).self) {
            return (isKey ?? false, leader)
        }
        return (false, nil)
    }
}
