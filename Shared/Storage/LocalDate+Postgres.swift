import Models
import NIOCore
import PostgresNIO

/// A calendar day crosses to PostgreSQL as its `date` type, in the binary form (days since
/// 2000-01-01), so statements bind and read `LocalDate` directly instead of formatting text
/// with `to_char` and casting it back with `::date`.
extension LocalDate: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresArrayDecodable {
    /// 2000-01-01, day 0 of PostgreSQL's dates, as a day number since 1970-01-01.
    private static let postgresEpoch = 10_957

    public static var psqlType: PostgresDataType { .date }
    public static var psqlFormat: PostgresFormat { .binary }
    public static var psqlArrayType: PostgresDataType { .dateArray }

    public func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeInteger(Int32(dayNumber - Self.postgresEpoch))
    }

    public init<JSONDecoder: PostgresJSONDecoder>(
        from buffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat, context: PostgresDecodingContext<JSONDecoder>
    ) throws {
        guard type == .date else { throw PostgresDecodingError.Code.typeMismatch }
        switch format {
        case .binary:
            // `infinity` and `-infinity` are Int32's extremes: no calendar day.
            guard buffer.readableBytes == 4, let days = buffer.readInteger(as: Int32.self), days != .max, days != .min else {
                throw PostgresDecodingError.Code.failure
            }
            self.init(dayNumber: Int(days) + Self.postgresEpoch)
        case .text:
            guard let text = buffer.readString(length: buffer.readableBytes), let date = LocalDate(text) else {
                throw PostgresDecodingError.Code.failure
            }
            self = date
        }
    }
}
