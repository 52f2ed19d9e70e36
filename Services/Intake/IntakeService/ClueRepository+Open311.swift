import Foundation
import HTTPTypes
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

extension ClueRepository {
    /// Statuses in which the clue's own handling is over: closed with a reason, or handed on
    /// (to a body, up the through train, into a proposal that has its own page).
    static let closedStatuses: Set<String> = ["closed", "not-adopted", "merged", "forwarded", "sent-to-municipal", "in-proposal"]

    /// The integration's own requests in the district, newest first (at most 1,000).
    func open311Requests(
        district: DirectoryRepository.DistrictView, submittedBy: String, ids: [String]?, from: Date?, to: Date?
    ) async throws -> [Open311Controller.ServiceRequest] {
        let code = DistrictCode(rawValue: district.code)!
        return try await database.transaction(.district(code)) { transaction in
            let rows = try await transaction.query(
                """
                SELECT c.tracking_number, \(unescaped: ClueStatusLabel.column), c.source_category, c.themed_call_id, call.title,
                       c.situation_analysis, c.received_at, \(unescaped: ClueStatusLabel.changedColumn)
                FROM clues c LEFT JOIN triage_clues t ON t.clue_id = c.id LEFT JOIN themed_calls call ON call.id = c.themed_call_id
                WHERE c.submitted_by = \(submittedBy)
                  AND (\(ids)::text[] IS NULL OR c.tracking_number = ANY(\(ids)::text[]))
                  AND (\(from)::timestamptz IS NULL OR c.received_at >= \(from))
                  AND (\(to)::timestamptz IS NULL OR c.received_at <= \(to))
                ORDER BY c.received_at DESC LIMIT 1000
                """)
            var requests: [Open311Controller.ServiceRequest] = []
            for try await (number, status, category, callID, callTitle, description, receivedAt, updatedAt)
                in rows.decode((String, String, String, UUID?, String?, String, Date, Date).self)
            {
                let serviceCode = callID.map { "call-\($0.uuidString.lowercased())" } ?? category
                let serviceName = callTitle ?? SourceCategory(rawValue: category)?.chineseName ?? category
                requests.append(
                    .init(
                        service_request_id: number, status: Self.closedStatuses.contains(status) ? "closed" : "open",
                        status_notes: ClueStatusLabel.chinese(status), service_name: serviceName, service_code: serviceCode,
                        description: description, agency_responsible: "\(district.name)政协", service_notice: nil,
                        requested_datetime: Open311Time.format(receivedAt), updated_datetime: Open311Time.format(updatedAt),
                        expected_datetime: nil, address: nil, media_url: nil))
            }
            return requests
        }
    }
}
