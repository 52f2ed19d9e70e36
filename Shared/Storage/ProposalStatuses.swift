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

    /// One proposal's move for `moveAll`: the transition `step` chooses for its status then.
    public struct Move: Sendable {
        public var proposal: UUID
        public var actor: String
        public var step: @Sendable (ProposalStatus) -> ProposalTransition?

        public init(_ proposal: UUID, by actor: String, _ step: @escaping @Sendable (ProposalStatus) -> ProposalTransition?) {
            self.proposal = proposal
            self.actor = actor
            self.step = step
        }
    }

    /// `move` for many proposals in two statements instead of two each: their rows locked in id
    /// order (every writer of several locks in that order), then every status and history row
    /// written at once. A batch's moves ran one after the other under assignment's district
    /// lock, which kept a second instance waiting (the assignment benchmark: 1,372 filings/s
    /// with two instances fell to about 700). Moves of one proposal apply in their order.
    public static func moveAll(_ moves: [Move], at now: Date, in transaction: Transaction) async throws {
        guard !moves.isEmpty else { return }
        var status: [UUID: ProposalStatus] = [:]
        let ids = Array(Set(moves.map(\.proposal))).sorted { $0.uuidString < $1.uuidString }
        for try await (id, text) in try await transaction.query(
            "SELECT id, status FROM proposals WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE"
        ).decode((UUID, String).self) {
            guard let current = ProposalStatus(rawValue: text) else { throw UnknownStatus(proposal: id, status: text) }
            status[id] = current
        }
        var rows: [(proposal: UUID, from: ProposalStatus, transition: ProposalTransition, to: ProposalStatus, actor: String)] = []
        for move in moves {
            guard let current = status[move.proposal] else { throw UnknownProposal(proposal: move.proposal) }
            guard let transition = move.step(current) else { continue }
            let next = try current.applying(transition)
            rows.append((move.proposal, current, transition, next, move.actor))
            status[move.proposal] = next
        }
        guard !rows.isEmpty else { return }
        try await transaction.execute(
            """
            WITH r AS (
                SELECT * FROM unnest(\(rows.map(\.proposal))::uuid[], \(rows.map(\.from.rawValue))::text[],
                                     \(rows.map(\.transition.rawValue))::text[], \(rows.map(\.to.rawValue))::text[],
                                     \(rows.map(\.actor))::text[]) WITH ORDINALITY AS r(id, from_status, transition, to_status, actor, n)
            ),
            moved AS (
                UPDATE proposals p SET status = last.to_status, updated_at = \(now)
                FROM (SELECT DISTINCT ON (id) id, to_status FROM r ORDER BY id, n DESC) last
                WHERE p.id = last.id
                RETURNING p.id, p.district
            )
            INSERT INTO proposal_transitions (proposal_id, district, at, from_status, transition, to_status, actor)
            SELECT r.id, moved.district, \(now), r.from_status, r.transition, r.to_status, r.actor
            FROM r JOIN moved ON moved.id = r.id ORDER BY r.n
            """)
    }

    /// A status this build does not know (written by a newer one, or by hand).
    public struct UnknownStatus: Error, Sendable, CustomStringConvertible {
        public let proposal: UUID
        public let status: String
        public var description: String { "proposal \(proposal) has a status this service does not know: \(status)" }
    }
}
