import EventPipeline
import Foundation
import Models
import PostgresNIO
import Similarity
import Storage

/// Suggestions for filed proposals, and taking them into the queue.
struct SuggestionRepository: Sendable {
    let indexes: PastProposalIndexes
    let hasher = MinHasher()
    let weights = SuggestionWeights()

    static func proposals(_ ids: [UUID], in transaction: Transaction) async throws -> [UUID: FiledProposal] {
        var found: [UUID: FiledProposal] = [:]
        let rows = try await transaction.query(
            """
            SELECT id, case_number, title, case_summary, reasons, suggestions, domain, fast_track, coalesce(reviewed_at, updated_at)
            FROM proposals WHERE id = ANY(\(ids)) AND status IN ('filed', 'assigned', 'contested')
            """)
        for try await (id, caseNumber, title, summary, reasons, suggestions, domain, fastTrack, filedAt)
            in rows.decode((UUID, String?, String, String, String, String, String?, Bool, Date).self)
        {
            guard let caseNumber else { continue }
            found[id] = FiledProposal(
                id: id, caseNumber: caseNumber, title: title, text: [title, summary, reasons, suggestions].joined(separator: "\n"),
                domain: domain, kind: fastTrack ? .citizen : .ordinary, filedAt: filedAt)
        }
        return found
    }

    func takeIn(_ filed: [(EventEnvelope, ProposalFiled)], of district: DistrictCode, in transaction: Transaction) async throws {
        let now = Date()
        let texts = try await Self.proposals(filed.map(\.1.proposalID), in: transaction)
        var seen: Set<UUID> = []
        var incoming: [(EventEnvelope, FiledProposal)] = []
        for (event, payload) in filed {
            guard let proposal = texts[payload.proposalID] else {
                throw EventRejection("proposal \(payload.proposalID) of \(district) is not filed in the store")
            }
            if seen.insert(proposal.id).inserted { incoming.append((event, proposal)) }
        }
        // Taken in already (the same filing announced twice under different event ids).
        var known: Set<UUID> = []
        for try await id in try await transaction.query(
            "SELECT proposal_id FROM assignment_cases WHERE proposal_id = ANY(\(incoming.map(\.1.id)))"
        ).decode(UUID.self) { known.insert(id) }
        incoming.removeAll { known.contains($0.1.id) }
        guard !incoming.isEmpty else { return }

        let rules = try await DistrictRules.load(for: district, now: now, in: transaction)
        let units = try await HandlingUnitRepository.all(in: transaction)
        let suggester = UnitSuggester(units: units.map(\.profile), weights: weights)
        let names = Dictionary(uniqueKeysWithValues: units.map { ($0.id, $0.name) })
        let signatures = incoming.map { hasher.signature(ofText: $0.1.text) }

        // Suggestions need no lock: they may miss a past proposal assigned a moment ago.
        try await indexes.catchUp(district, in: transaction)
        let neighbours = indexes.nearest(to: signatures, in: district, weights: weights, excluding: incoming.map { $0.1.id })
        var suggestions: [Suggestion] = []
        for (index, (_, proposal)) in incoming.enumerated() {
            suggestions.append(suggester.suggest(text: proposal.text, domain: proposal.domain, similar: neighbours[index]))
        }
        // From the first change of `change_seq` to the commit, one transaction of the district at a time.
        try await CaseRepository.lockHandlers(of: district, in: transaction)
        try await transaction.execute(
            """
            INSERT INTO assignment_cases (proposal_id, district, case_number, title, kind, domain, state, filed_at, suggestion, signature)
            SELECT id, \(district.rawValue), case_number, title, kind, nullif(domain, ''), 'awaiting-assignment', filed_at, suggestion::jsonb,
                   decode(signature, 'hex')
            FROM unnest(\(incoming.map(\.1.id))::uuid[], \(incoming.map(\.1.caseNumber))::text[], \(incoming.map(\.1.title))::text[],
                        \(incoming.map(\.1.kind.rawValue))::text[], \(incoming.map { $0.1.domain ?? "" })::text[],
                        \(incoming.map(\.1.filedAt))::timestamptz[], \(suggestions.map(\.json))::text[],
                        \(signatures.map(SignatureCoding.hex))::text[])
                 AS n(id, case_number, title, kind, domain, filed_at, suggestion, signature)
            """)

        var writes = RoundWrites(district: district, now: now)
        for (index, (event, proposal)) in incoming.enumerated() {
            let suggestion = suggestions[index]
            try writes.record(
                proposal.id, actor: "assignment-service", action: "suggested",
                detail: SuggestedDetail(
                    lead: suggestion.lead.first?.code, score: suggestion.topScore, runnerUp: suggestion.runnerUpScore))
            guard let top = suggestion.lead.first,
                rules.settings.autoAssignment.isConfident(top: suggestion.topScore, runnerUp: suggestion.runnerUpScore)
            else { continue }
            let record = CaseRecord(
                proposalID: proposal.id, caseNumber: proposal.caseNumber, title: proposal.title, kind: proposal.kind,
                domain: proposal.domain, state: "awaiting-assignment", filedAt: proposal.filedAt, isKey: false,
                supervisingLeader: nil, ownLimit: nil, round: 0, handledBy: [], suggestion: suggestion)
            let confirmBy = rules.settings.preAssignmentWorkingDays.map { rules.calendar.adding(workingDays: $0, to: rules.today) }
            let coUnits = suggestion.coUnits.map(\.unitID)
            let (round, assigned) = writes.addRound(
                for: record, lead: top.unitID, coUnits: coUnits, names: names, rules: rules, explicitDeadline: nil,
                confirmBy: confirmBy, notes: "assigned automatically: \(top.name) scored \(top.score)", actor: "assignment-service")
            try writes.record(
                proposal.id, actor: "assignment-service", action: confirmBy == nil ? "assigned" : "pre-assigned",
                detail: RoundDetail(round: round, units: assigned, automatic: true, note: nil))
            if let confirmBy {
                try writes.announce(
                    ProposalPreAssigned(
                        proposalID: proposal.id, caseNumber: proposal.caseNumber, round: round,
                        units: assigned, confirmBy: confirmBy), proposal: proposal.id, causedBy: event)
            } else {
                try writes.announce(
                    ProposalAssigned(
                        proposalID: proposal.id, caseNumber: proposal.caseNumber, kind: proposal.kind, round: round, units: assigned,
                        isKey: false, supervisingLeader: nil, automatic: true, confirmedPreAssignment: false),
                    proposal: proposal.id, causedBy: event)
            }
        }
        try await writes.write(in: transaction)
    }

    /// The suggestion for a case, computed anew (the directory or the past may have changed).
    func suggest(for record: CaseRecord, district: DistrictCode, in transaction: Transaction) async throws -> Suggestion {
        guard let proposal = try await Self.proposals([record.proposalID], in: transaction)[record.proposalID] else { return record.suggestion }
        let units = try await HandlingUnitRepository.all(in: transaction)
        try await indexes.catchUp(district, in: transaction)
        let signature = hasher.signature(ofText: proposal.text)
        let neighbours = indexes.nearest(to: [signature], in: district, weights: weights, excluding: [record.proposalID])[0]
        return UnitSuggester(units: units.map(\.profile), weights: weights).suggest(text: proposal.text, domain: proposal.domain, similar: neighbours)
    }
}

struct SuggestedDetail: Encodable {
    var lead: String?
    var score: Double
    var runnerUp: Double?
}

struct RoundDetail: Encodable {
    var round: Int
    var units: [AssignedUnit]
    var automatic: Bool
    var note: String?
}
