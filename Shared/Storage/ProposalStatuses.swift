import Foundation
import Models
import PostgresNIO

/// The one writer of `proposals.status`. Every service that moves a proposal through its
/// lifecycle calls `move`: it locks the row, asks `ProposalStatus.applying` for the next status
/// and writes it with a history row, so no service can put a proposal where the state machine
/// would not (and `proposal_transitions` shows how every proposal got where it is).
///
/// Lock order, for every writer: the proposal's row first (`lock`), then the rows that hang off
/// it (assignments, supervised parts, timers). Keeping one order is what keeps a unit's reply
/// and the timer pass from deadlocking.
public enum ProposalStatuses {
    /// The proposal is not in the store (or not in the transaction's district).
    public struct UnknownProposal: Error, Sendable, CustomStringConvertible {
        public let proposal: UUID
        public var description: String { "no proposal \(proposal)" }
    }

    /// Locks the proposal's row; its status, or nil when there is no such proposal.
    @discardableResult
    public static func lock(_ proposal: UUID, in transaction: Transaction) async throws -> ProposalStatus? {
        for try await text in try await transaction.query("SELECT status FROM proposals WHERE id = \(proposal) FOR UPDATE").decode(String.self) {
            guard let status = ProposalStatus(rawValue: text) else {
                throw UnknownStatus(proposal: proposal, status: text)
            }
            return status
        }
        return nil
    }

    /// Applies `transition` to the proposal; its new status. `IllegalTransition` when the
    /// lifecycle forbids it (409 on the API, a dead letter in a consumer).
    @discardableResult
    public static func apply(
        _ transition: ProposalTransition, to proposal: UUID, by actor: String, at now: Date, in transaction: Transaction
    ) async throws -> ProposalStatus {
        try await move(proposal, by: actor, at: now, in: transaction) { _ in transition }
    }

    /// Applies the transition `step` chooses for the proposal's current status, or nothing when
    /// it chooses none (e.g. a second contest of a proposal already contested); the status after.
    @discardableResult
    public static func move(
        _ proposal: UUID, by actor: String, at now: Date, in transaction: Transaction,
        _ step: (ProposalStatus) throws -> ProposalTransition?
    ) async throws -> ProposalStatus {
        guard let current = try await lock(proposal, in: transaction) else { throw UnknownProposal(proposal: proposal) }
        guard let transition = try step(current) else { return current }
        let next = try current.applying(transition)
        try await transaction.execute(
            """
            WITH moved AS (
                UPDATE proposals SET status = \(next.rawValue), updated_at = \(now) WHERE id = \(proposal) RETURNING district
            )
            INSERT INTO proposal_transitions (proposal_id, district, at, from_status, transition, to_status, actor)
            SELECT \(proposal), district, \(now), \(current.rawValue), \(transition.rawValue), \(next.rawValue), \(actor) FROM moved
            """)
        return next
    }

    /// A status this build does not know (written by a newer one, or by hand).
    public struct UnknownStatus: Error, Sendable, CustomStringConvertible {
        public let proposal: UUID
        public let status: String
        public var description: String { "proposal \(proposal) has a status this service does not know: \(status)" }
    }
}
