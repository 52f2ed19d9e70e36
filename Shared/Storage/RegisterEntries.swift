import Foundation
import Models
import PostgresNIO

/// The register of members and studios (`register_entries`) as every service reads it: intake
/// to credit clues, supervision to count quotas and performance records.
public enum RegisterEntries {
    /// The district's entries (the transaction's scope), studios first, then by name.
    public static func all(in transaction: Transaction) async throws -> [RegisterEntry] {
        var entries: [RegisterEntry] = []
        let rows = try await transaction.query(
            """
            SELECT code, kind, name, sector, special_committee, studio_code, street, active FROM register_entries ORDER BY kind DESC, name, code
            """)
        for try await (code, kind, name, sector, committee, studio, street, active)
            in rows.decode((String, String, String, String?, String?, String?, String?, Bool).self)
        {
            guard let kind = Receiver.Kind(rawValue: kind) else { continue }
            entries.append(
                RegisterEntry(
                    code: code, kind: kind, name: name, sector: sector, specialCommittee: committee, studio: studio,
                    street: street, active: active))
        }
        return entries
    }
}
