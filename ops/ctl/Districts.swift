import ArgumentParser
import Foundation
import Logging
import Messaging
import Models
import ServiceKit
import Storage

struct Districts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Configure districts.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a district, or rename one that exists.")

        @Argument(help: "District code: lower-case letters, digits and hyphens (e.g. haizhu).")
        var code: String
        @Argument(help: "Display name (e.g. 海珠区).")
        var name: String
        @Option(help: "Tracking-number prefix: 1-8 upper-case letters or digits, starting with a letter (e.g. HZ).")
        var trackingPrefix: String
        @Flag(help: "Let residents submit through the public web form without credentials.")
        var publicSubmission = false
        @Option(help: "Public submissions allowed per client address and hour.")
        var publicSubmissionsPerHour = 20
        @Option(help: "The municipal tenant of this deployment that the through train (直通车) sends clues up to.")
        var parent: String?
        @Option(help: "The committee's current session (届), the first part of filed proposals' case numbers.")
        var session = 1
        @Option(help: "Similarity (Jaccard, 0.2-0.95) at which a clue joins a group of near-duplicates.")
        var similarityThreshold = 0.5
        @Flag(help: "Let several claimants hold one reference topic at once (co-claiming).")
        var coClaiming = false

        func validate() throws {
            guard DistrictCode(rawValue: code) != nil else { throw ValidationError("code: 2-32 lower-case letters, digits or hyphens") }
            guard trackingPrefix.range(of: "^[A-Z][A-Z0-9]{0,7}$", options: .regularExpression) != nil else {
                throw ValidationError("--tracking-prefix: 1-8 upper-case letters or digits, starting with a letter")
            }
            guard publicSubmissionsPerHour > 0 else { throw ValidationError("--public-submissions-per-hour: must be positive") }
            if let parent {
                guard DistrictCode(rawValue: parent) != nil, parent != code else { throw ValidationError("--parent: another district's code") }
            }
            guard session > 0 else { throw ValidationError("--session: must be positive") }
            guard (0.2...0.95).contains(similarityThreshold) else { throw ValidationError("--similarity-threshold: between 0.2 and 0.95") }
        }

        func run() async throws {
            let district = DistrictCode(rawValue: code)!
            let (name, prefix, open, perHour) = (self.name, trackingPrefix, publicSubmission, publicSubmissionsPerHour)
            let (parent, session, threshold, coClaiming) = (self.parent, self.session, similarityThreshold, self.coClaiming)
            try await withDatabase { database in
                try await database.transaction(.none) { transaction in
                    try await transaction.execute(
                        """
                        INSERT INTO districts (code, name, tracking_prefix, public_submission, public_submissions_per_hour, parent,
                                               current_session, similarity_threshold, co_claiming)
                        VALUES (\(district.rawValue), \(name), \(prefix), \(open), \(perHour), \(parent), \(session), \(threshold)::real,
                                \(coClaiming))
                        ON CONFLICT (code) DO UPDATE SET name = excluded.name, tracking_prefix = excluded.tracking_prefix,
                            public_submission = excluded.public_submission, public_submissions_per_hour = excluded.public_submissions_per_hour,
                            parent = excluded.parent, current_session = excluded.current_session,
                            similarity_threshold = excluded.similarity_threshold, co_claiming = excluded.co_claiming
                        """)
                }
            }
            print(
                "district \(district) \(name), tracking numbers \(prefix)-YYYY-NNNNNN, public submission \(open ? "on (\(perHour)/hour per address)" : "off")"
                    + (parent.map { ", through train to \($0)" } ?? "") + ", session \(session), grouping at similarity \(threshold)")
        }
    }
}
