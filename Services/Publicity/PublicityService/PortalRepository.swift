import Crypto
import Foundation
import Models
import Mustache
import PostgresNIO
import ServiceKit
import Storage

/// One proposal as the portal and the open data show it (the open data's fields are its
/// encoded form: see `CodingKeys`).
struct PublicProposal: Sendable, Encodable {
    var id: String
    var caseNumber: String
    var district: String
    var districtName: String
    var title: String
    var summary: String
    var domain: String?
    /// The domain's name in the district's rule set (the code when it has none).
    var domainName: String?
    var committee: String?
    var fastTrack: Bool
    var year: Int
    var proposers: String
    var status: String
    var statusLabel: String
    var units: String
    var unitList: [String]
    var deadline: String?
    var reply: String?
    var resultCategory: String?
    var category: String?
    var satisfactionCode: String?
    var satisfaction: String?
    var filedAt: Date
    var answeredAt: Date?
    var closedAt: Date?
    var closingReason: String?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: OpenDataKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(caseNumber, forKey: .caseNumber)
        try container.encode(district, forKey: .district)
        try container.encode(districtName, forKey: .districtName)
        try container.encode(title, forKey: .title)
        try container.encode(summary, forKey: .summary)
        try container.encode(domain, forKey: .domain)
        try container.encode(domainName, forKey: .domainName)
        try container.encode(committee, forKey: .committee)
        try container.encode(fastTrack, forKey: .fastTrack)
        try container.encode(year, forKey: .year)
        try container.encode(proposers, forKey: .proposers)
        try container.encode(status, forKey: .status)
        try container.encode(statusLabel, forKey: .statusLabel)
        try container.encode(unitList, forKey: .units)
        try container.encode(deadline, forKey: .deadline)
        try container.encode(reply, forKey: .reply)
        try container.encode(resultCategory, forKey: .resultCategory)
        try container.encode(satisfactionCode, forKey: .satisfactionCode)
        try container.encode(filedAt, forKey: .filedAt)
        try container.encode(answeredAt, forKey: .answeredAt)
        try container.encode(closedAt, forKey: .closedAt)
    }

    /// The open data's fields (documented at /open-data), with nulls written out.
    enum OpenDataKeys: String, CodingKey {
        case id, caseNumber, district, districtName, title, summary, domain, domainName, committee, fastTrack, year, proposers, status, statusLabel
        case units, deadline, reply, resultCategory, satisfactionCode, filedAt, answeredAt, closedAt
    }
}

/// The portal's reads. All of them go to the public tables (and themed calls and receipts in
/// the store), in transactions scoped to every district: the public tables hold nothing personal.
struct PortalRepository: Sendable {
    let database: Database
    /// Each district's domain names from its latest rule set (the built-in rules' without one).
    let domainNames: Remembered<[String: BuiltInClassificationRules.Names]>

    init(database: Database, lifetime: Duration) {
        self.database = database
        domainNames = Remembered(lifetime: lifetime, capacity: 1)
    }

    /// `proposals` with their domains named.
    func named(_ proposals: [PublicProposal]) async throws -> [PublicProposal] {
        let names = try await domainNames(for: "")
        return proposals.map { proposal in
            var named = proposal
            named.domainName = proposal.domain.map { Self.domainName($0, district: proposal.district, names: names) }
            return named
        }
    }

    func domainNames(for key: String) async throws -> [String: BuiltInClassificationRules.Names] {
        let database = self.database
        return try await domainNames.value(for: key) {
            try await database.transaction(.allDistricts) { transaction in
                var names: [String: BuiltInClassificationRules.Names] = [:]
                let rows = try await transaction.query(
                    """
                    SELECT DISTINCT ON (district) district, definition::text FROM classification_rule_sets ORDER BY district, version DESC
                    """)
                for try await (district, definition) in rows.decode((String, String).self) {
                    names[district] = BuiltInClassificationRules.names(in: Data(definition.utf8))
                }
                return names
            }
        }
    }

    /// Every domain any district names, for the list's filter.
    func domainChoices() async throws -> [(code: String, name: String)] {
        var choices = BuiltInClassificationRules.names.domains
        for names in try await domainNames(for: "").values { choices.merge(names.domains) { kept, _ in kept } }
        return choices.map { (code: $0.key, name: $0.value) }.sorted { $0.code < $1.code }
    }

    static func domainName(_ code: String, district: String, names: [String: BuiltInClassificationRules.Names]) -> String {
        names[district]?.domains[code] ?? BuiltInClassificationRules.names.domains[code] ?? code
    }

    static let columns = """
        p.proposal_id, p.case_number, p.district, coalesce(d.name, p.district), p.title, p.summary, p.domain, p.committee, p.fast_track, p.year,
        p.proposers, p.status, p.units, p.deadline::text, p.reply_summary, p.result_category, p.satisfaction, p.filed_at, p.answered_at,
        p.closed_at, p.closing_reason
        """

    typealias ProposalRow = (
        UUID, String, String, String, String, String, String?, String?, Bool, Int, String, String, [String], String?, String?,
        String?, String?, Date, Date?, Date?, String?
    )

    static func proposal(_ row: ProposalRow) -> PublicProposal {
        let status = PublicProposalStatus(rawValue: row.11) ?? .filed
        return PublicProposal(
            id: row.0.uuidString.lowercased(), caseNumber: row.1, district: row.2, districtName: row.3, title: row.4, summary: row.5, domain: row.6,
            domainName: row.6, committee: row.7, fastTrack: row.8, year: row.9, proposers: row.10, status: status.rawValue, statusLabel: status.label,
            units: row.12.joined(separator: "、"), unitList: row.12, deadline: row.13, reply: row.14, resultCategory: row.15,
            category: row.15.flatMap(ReplyCategory.init(rawValue:))?.publicLabel, satisfactionCode: row.16,
            satisfaction: row.16.flatMap(Satisfaction.init(rawValue:))?.label, filedAt: row.17, answeredAt: row.18, closedAt: row.19,
            closingReason: row.20)
    }

    /// The proposals with these ids, in the order given.
    func proposals(_ ids: [UUID]) async throws -> [PublicProposal] {
        guard !ids.isEmpty else { return [] }
        let found = try await database.unscopedReads { reads in
            let rows = try await reads.query(
                """
                SELECT \(unescaped: Self.columns) FROM public_proposals p LEFT JOIN districts d ON d.code = p.district
                WHERE p.proposal_id = ANY(\(ids)::uuid[])
                """)
            var found: [UUID: PublicProposal] = [:]
            for try await row in rows.decode(ProposalRow.self) { found[row.0] = Self.proposal(row) }
            return ids.compactMap { found[$0] }
        }
        return try await named(found)
    }

    /// What changes whenever a proposal joins or leaves the list, in one aggregate query: the read
    /// model only inserts proposals (a rebuild empties the table first), and a proposal's filing
    /// time and district, which place it in the list, are the store's and never change.
    struct ListStamp: Equatable, Sendable {
        var count: Int
        var newest: Date?
    }

    func listStamp() async throws -> ListStamp {
        try await database.unscopedReads { reads in
            let rows = try await reads.query("SELECT count(*)::int, max(filed_at) FROM public_proposals")
            for try await (count, newest) in rows.decode((Int, Date?).self) { return ListStamp(count: count, newest: newest) }
            return ListStamp(count: 0, newest: nil)
        }
    }

    /// The whole list's order (newest filing first) with each proposal's district.
    func listOrder() async throws -> [(id: UUID, district: String)] {
        try await database.unscopedReads { reads in
            var order: [(id: UUID, district: String)] = []
            order.reserveCapacity(100_000)
            let rows = try await reads.query("SELECT proposal_id, district FROM public_proposals ORDER BY filed_at DESC, proposal_id")
            for try await (id, district) in rows.decode((UUID, String).self) { order.append((id, district)) }
            return order
        }
    }

    /// `head`, then the rows of `public_proposals p` that `filter` keeps, then `tail`.
    /// Without `bounds`, every row (LIMIT NULL and OFFSET NULL bound no rows).
    static func filtered(_ head: String, _ filter: FeedbackFilter, _ tail: String, _ bounds: (limit: Int, offset: Int)? = nil) -> PostgresQuery {
        """
        \(unescaped: head)
        WHERE (\(filter.district)::text IS NULL OR p.district = \(filter.district))
          AND (\(filter.domain)::text IS NULL OR p.domain = \(filter.domain))
          AND (\(filter.status?.rawValue)::text IS NULL OR p.status = \(filter.status?.rawValue))
          AND (\(filter.year)::int IS NULL OR p.year = \(filter.year))
          AND (\(filter.call)::uuid IS NULL OR p.themed_call_id = \(filter.call))
          AND (\(filter.unit)::text IS NULL OR \(filter.unit) = ANY(p.units))
          AND (\(filter.text)::text IS NULL OR strpos(p.title, \(filter.text)) > 0 OR strpos(p.summary, \(filter.text)) > 0
               OR strpos(coalesce(p.reply_summary, ''), \(filter.text)) > 0 OR p.case_number = \(filter.text))
        \(unescaped: tail)
        LIMIT \(bounds?.limit) OFFSET \(bounds?.offset)
        """
    }

    /// `filter`'s page of the feedback list, newest filing first; `limit` rows from `offset`.
    func feedback(_ filter: FeedbackFilter, offset: Int, limit: Int) async throws -> [PublicProposal] {
        try await named(
            try await database.unscopedReads { reads in
                let rows = try await reads.query(
                    Self.filtered(
                        "SELECT \(Self.columns) FROM public_proposals p LEFT JOIN districts d ON d.code = p.district", filter,
                        "ORDER BY p.filed_at DESC, p.proposal_id", (limit, offset)))
                var proposals: [PublicProposal] = []
                for try await row in rows.decode(ProposalRow.self) { proposals.append(Self.proposal(row)) }
                return proposals
            })
    }

    func count(_ filter: FeedbackFilter) async throws -> Int {
        try await database.unscopedReads { reads in
            let rows = try await reads.query(Self.filtered("SELECT count(*)::int FROM public_proposals p", filter, ""))
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }

    func answered(limit: Int) async throws -> [PublicProposal] {
        try await named(
            try await database.unscopedReads { reads in
                let rows = try await reads.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM public_proposals p LEFT JOIN districts d ON d.code = p.district
                    WHERE p.answered_at IS NOT NULL ORDER BY p.answered_at DESC, p.proposal_id LIMIT \(limit)
                    """)
                var proposals: [PublicProposal] = []
                for try await row in rows.decode(ProposalRow.self) { proposals.append(Self.proposal(row)) }
                return proposals
            })
    }

    struct TimelineStep: Sendable {
        var stage: String
        var date: String
        var iso: String
        var unit: String?
        var detail: String?
    }

    func proposal(_ id: UUID) async throws -> (PublicProposal, [TimelineStep])? {
        let found: (PublicProposal, [TimelineStep])? = try await database.unscopedReads { reads in
            var found: PublicProposal?
            let rows = try await reads.query(
                """
                SELECT \(unescaped: Self.columns) FROM public_proposals p LEFT JOIN districts d ON d.code = p.district WHERE p.proposal_id = \(id)
                """)
            for try await row in rows.decode(ProposalRow.self) { found = Self.proposal(row) }
            guard let proposal = found else { return nil }
            var steps: [TimelineStep] = []
            let timeline = try await reads.query(
                """
                SELECT t.stage, t.occurred_at, a.unit_name, t.detail FROM public_timeline t
                LEFT JOIN public_assignments a ON a.assignment_id = t.assignment_id
                WHERE t.proposal_id = \(id)
                ORDER BY t.occurred_at, array_position(ARRAY['received', 'triaged', 'filed', 'assigned', 'replied', 'evaluated', 'reopened', 'closed', 'follow-up'], t.stage),
                         t.entry
                """)
            for try await (stage, at, unit, detail) in timeline.decode((String, Date, String?, String).self) {
                steps.append(
                    TimelineStep(
                        stage: PublicStage.label(stage), date: PortalFormat.day(at), iso: PortalFormat.iso(at), unit: unit,
                        detail: detail.isEmpty ? nil : detail))
            }
            return (proposal, steps)
        }
        guard let (proposal, steps) = found, let named = try await named([proposal]).first else { return nil }
        return (named, steps)
    }

    struct District: Sendable {
        var code: String
        var name: String
        /// The municipal tenant it belongs to; nil for a top-level one.
        var parent: String?
    }

    func districts() async throws -> [District] {
        try await database.unscopedReads { reads in
            var districts: [District] = []
            let rows = try await reads.query("SELECT code, name, parent FROM districts ORDER BY code")
            for try await (code, name, parent) in rows.decode((String, String, String?).self) {
                districts.append(District(code: code, name: name, parent: parent))
            }
            return districts
        }
    }

    struct Call: Sendable {
        var id: String
        var title: String
        var description: String
        var districtName: String
        var period: String
        var state: String
        var clues: Int
        var groups: Int
        var proposals: Int
        var selected = false
    }

    /// Themed calls with their counts of clues, issues (groups) and proposals.
    func calls(district: String?) async throws -> [Call] {
        try await database.transaction(.allDistricts) { transaction in
            let rows = try await transaction.query(
                """
                SELECT t.id, t.title, t.description, coalesce(d.name, t.district), t.opens_at, t.closes_at, t.closed_at,
                       (SELECT count(*)::int FROM public_clues c WHERE c.themed_call_id = t.id),
                       (SELECT count(DISTINCT c.group_id)::int FROM public_clues c WHERE c.themed_call_id = t.id),
                       (SELECT count(*)::int FROM public_proposals p WHERE p.themed_call_id = t.id)
                FROM themed_calls t LEFT JOIN districts d ON d.code = t.district
                WHERE \(district)::text IS NULL OR t.district = \(district)
                ORDER BY t.opens_at DESC, t.id
                """)
            var calls: [Call] = []
            let now = Date()
            for try await row in rows.decode((UUID, String, String, String, Date, Date?, Date?, Int, Int, Int).self) {
                let open = row.6 == nil && row.4 <= now && (row.5.map { now < $0 } ?? true)
                calls.append(
                    Call(
                        id: row.0.uuidString.lowercased(), title: row.1, description: Redaction.redact(row.2), districtName: row.3,
                        period: PortalFormat.day(row.4) + " 至 " + (row.5.map(PortalFormat.day) ?? "长期"), state: open ? "征集中" : "已结束",
                        clues: row.7, groups: row.8, proposals: row.9))
            }
            return calls
        }
    }

    struct Tracked: Sendable {
        var trackingNumber: String
        var title: String
        var receivedAt: String
        var status: String
        var route: String?
        var reason: String?
        var proposalID: String?
    }

    /// The clue behind a tracking number, for the holder of its receipt token only.
    func track(number: String, token: String) async throws -> Tracked? {
        guard TrackingNumber.isWellFormed(number), (1...200).contains(token.utf8.count) else { return nil }
        let hash = Data(SHA256.hash(data: Data(token.utf8)))
        return try await database.transaction(.allDistricts) { transaction in
            let rows = try await transaction.query(
                """
                SELECT c.tracking_number, c.title, c.received_at, \(unescaped: ClueStatusLabel.column), t.route, t.decision_note,
                       coalesce(pc.proposal_id, t.proposal_id)
                FROM clues c
                JOIN clue_receipts r ON r.clue_id = c.id AND r.token_hash = \(hash)
                LEFT JOIN triage_clues t ON t.clue_id = c.id
                LEFT JOIN public_clues pc ON pc.clue_id = c.id
                WHERE c.tracking_number = \(number)
                """)
            for try await row in rows.decode((String, String, Date, String, String?, String?, UUID?).self) {
                let route = row.4.flatMap(ClueRoute.Kind.init(rawValue:))
                var proposal: String?
                if let id = row.6 {
                    // Only a filed proposal has a public page.
                    let filed = try await transaction.query("SELECT 1 FROM public_proposals WHERE proposal_id = \(id)")
                    for try await _ in filed { proposal = id.uuidString.lowercased() }
                }
                return Tracked(
                    trackingNumber: row.0, title: row.1, receivedAt: PortalFormat.day(row.2), status: ClueStatusLabel.chinese(row.3),
                    route: route.map { Notices.routeLabel($0) }, reason: route == .close ? row.5.map { Redaction.redact($0) } : nil,
                    proposalID: proposal)
            }
            return nil
        }
    }

    /// Headline figures of one district, or of all of a statistics page's.
    struct Figures: Sendable {
        var clues = 0
        var reviewed = 0
        var filed = 0
        var replied = 0
        var repliedOnTime = 0
        var evaluated = 0
        var satisfied = 0

        mutating func add(_ other: Figures) {
            clues += other.clues
            reviewed += other.reviewed
            filed += other.filed
            replied += other.replied
            repliedOnTime += other.repliedOnTime
            evaluated += other.evaluated
            satisfied += other.satisfied
        }
    }

    struct Statistics: Sendable {
        var totals = Figures()
        var byDistrict: [String: Figures] = [:]
        var byChannel: [(label: String, value: Int)] = []
        var byStreet: [(label: String, value: Int)] = []
        var byDomain: [(label: String, value: Int)] = []
        var byMonth: [(label: String, value: Int)] = []
        var units: [(district: String, name: String, assignments: Int, replied: Int, onTime: Int, evaluated: Int, satisfied: Int)] = []
    }

    /// The year's figures summed over `districts`: one district's, or a municipal tenant's with
    /// its member districts' (the roll-up), with each district's headline figures as well.
    func statistics(districts codes: [String], year: Int) async throws -> Statistics {
        let names = try await domainNames(for: "")
        return try await database.transaction(.allDistricts) { transaction in
            var statistics = Statistics()
            func counts(_ query: PostgresQuery) async throws -> [(label: String, value: Int)] {
                var values: [(label: String, value: Int)] = []
                for try await (label, value) in try await transaction.query(query).decode((String, Int).self) { values.append((label, value)) }
                return values
            }
            // Clues of the districts received in the year, counted by `expression`.
            func clueCounts(_ expression: String, limit: Int = 15) -> PostgresQuery {
                """
                SELECT \(unescaped: expression), count(*)::int FROM public_clues
                WHERE district = ANY(\(codes)::text[]) AND received_at IS NOT NULL
                  AND extract(year FROM received_at AT TIME ZONE 'Asia/Shanghai')::int = \(year)
                GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT \(limit)
                """
            }
            for (district, clues) in try await counts(clueCounts("district", limit: codes.count)) {
                statistics.byDistrict[district, default: Figures()].clues = clues
            }
            statistics.byChannel = try await counts(clueCounts("coalesce(channel, '')", limit: 50))
                .map { (Channel(rawValue: $0.label)?.chineseName ?? ($0.label.isEmpty ? "未知" : $0.label), $0.value) }
            statistics.byStreet = try await counts(clueCounts("coalesce(street, '未注明')"))
            // A domain is counted across the districts: named by the first of them (the tenant first)
            // whose rules name it.
            statistics.byDomain = try await counts(clueCounts("coalesce(domain, '')")).map { domain -> (label: String, value: Int) in
                guard !domain.label.isEmpty else { return ("未分类", domain.value) }
                let namer = codes.first { names[$0]?.domains[domain.label] != nil } ?? ""
                return (Self.domainName(domain.label, district: namer, names: names), domain.value)
            }
            let months = try await counts(clueCounts("extract(month FROM received_at AT TIME ZONE 'Asia/Shanghai')::int::text", limit: 12))
            statistics.byMonth = (1...12).map { month in ("\(month) 月", months.first { $0.label == String(month) }?.value ?? 0) }

            for try await (district, reviewed, filed) in try await transaction.query(
                """
                SELECT district, count(*)::int, count(*) FILTER (WHERE filed)::int FROM public_reviews
                WHERE district = ANY(\(codes)::text[]) AND year = \(year) GROUP BY district
                """
            ).decode((String, Int, Int).self) {
                statistics.byDistrict[district, default: Figures()].reviewed = reviewed
                statistics.byDistrict[district, default: Figures()].filed = filed
            }
            // Per district and unit: districts' units share names (区交通运输局) but are not the same unit.
            let units = try await transaction.query(
                """
                SELECT p.district, a.unit_name, count(*)::int, count(a.replied_at)::int, count(*) FILTER (WHERE a.on_time)::int,
                       count(a.satisfaction)::int, count(*) FILTER (WHERE a.satisfaction IN ('satisfied', 'basically-satisfied'))::int
                FROM public_assignments a JOIN public_proposals p ON p.proposal_id = a.proposal_id
                WHERE p.district = ANY(\(codes)::text[]) AND p.year = \(year) AND NOT a.superseded AND a.unit_name IS NOT NULL
                GROUP BY p.district, a.unit_name ORDER BY 3 DESC, 2, 1
                """)
            for try await unit in units.decode((String, String, Int, Int, Int, Int, Int).self) {
                statistics.units.append(unit)
                statistics.byDistrict[unit.0, default: Figures()].replied += unit.3
                statistics.byDistrict[unit.0, default: Figures()].repliedOnTime += unit.4
                statistics.byDistrict[unit.0, default: Figures()].evaluated += unit.5
                statistics.byDistrict[unit.0, default: Figures()].satisfied += unit.6
            }
            statistics.totals = statistics.byDistrict.values.reduce(into: Figures()) { $0.add($1) }
            return statistics
        }
    }

    struct ShowcaseEntry: Sendable {
        var proposal: PublicProposal
        var citation: String
    }

    func showcase() async throws -> [ShowcaseEntry] {
        try await database.transaction(.allDistricts) { transaction in
            let rows = try await transaction.query(
                """
                SELECT \(unescaped: Self.columns), s.citation
                FROM showcase_entries s JOIN public_proposals p ON p.proposal_id = s.proposal_id LEFT JOIN districts d ON d.code = p.district
                ORDER BY s.added_at DESC, s.proposal_id
                """)
            var entries: [ShowcaseEntry] = []
            for try await row in rows.decode(
                (
                    UUID, String, String, String, String, String, String?, String?, Bool, Int, String, String, [String], String?,
                    String?, String?, String?, Date, Date?, Date?, String?, String
                ).self)
            {
                let proposal = Self.proposal(
                    (
                        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10, row.11, row.12, row.13,
                        row.14, row.15, row.16, row.17, row.18, row.19, row.20
                    ))
                entries.append(ShowcaseEntry(proposal: proposal, citation: Redaction.redact(row.21)))
            }
            return entries
        }
    }
}

/// Dates as residents read them, in China time.
enum PortalFormat {
    static func day(_ date: Date) -> String {
        LocalDate.on(date, in: .chinaTime).description
    }

    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

// The templates look values up by name; a switch does it without reflecting the whole value
// for every name, which was most of a page's rendering time.
extension PublicProposal: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "caseNumber": caseNumber
        case "district": district
        case "districtName": districtName
        case "title": title
        case "summary": summary
        case "domain": domain
        case "domainName": domainName
        case "committee": committee
        case "fastTrack": fastTrack
        case "year": year
        case "proposers": proposers
        case "status": status
        case "statusLabel": statusLabel
        case "units": units
        case "unitList": unitList
        case "deadline": deadline
        case "reply": reply
        case "resultCategory": resultCategory
        case "category": category
        case "satisfactionCode": satisfactionCode
        case "satisfaction": satisfaction
        case "closingReason": closingReason
        default: nil
        }
    }
}

extension PortalRepository.TimelineStep: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "stage": stage
        case "date": date
        case "iso": iso
        case "unit": unit
        case "detail": detail
        default: nil
        }
    }
}
