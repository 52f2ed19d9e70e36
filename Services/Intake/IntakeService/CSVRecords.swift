/// A streaming CSV reader (RFC 4180: comma-separated, fields optionally in double quotes, `""`
/// for a quote, CRLF or LF line ends), fed bytes as they arrive so a large upload is never held
/// in memory. A UTF-8 byte-order mark at the start is skipped.
public struct CSVRecords: Sendable {
    public enum Problem: Error, Equatable, Sendable {
        case quoteInUnquotedField
        case textAfterClosingQuote
        case unterminatedQuote
        case invalidUTF8(column: Int)
        case fieldTooLong(column: Int, limit: Int)
    }

    /// One line of the file: its fields, or why it could not be read.
    public typealias Record = Result<[String], Problem>

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted, skipToRecordEnd }

    public let maximumFieldBytes: Int
    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fields: [String] = []
    private var problem: Problem?
    private var atFileStart = true
    private var bomBytesSeen = 0
    private var lastWasCR = false
    private var fieldOverflow = false

    public init(maximumFieldBytes: Int = 64 * 1024) {
        self.maximumFieldBytes = maximumFieldBytes
    }

    /// Reads `bytes`; returns the records they completed.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Record] {
        var records: [Record] = []
        for byte in bytes {
            if atFileStart {
                let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
                if byte == bom[bomBytesSeen] {
                    bomBytesSeen += 1
                    if bomBytesSeen == 3 { atFileStart = false }
                    continue
                }
                atFileStart = false
                // A partial BOM was ordinary text after all.
                for earlier in bom.prefix(bomBytesSeen) { consume(earlier, into: &records) }
            }
            consume(byte, into: &records)
        }
        return records
    }

    /// Ends the input; returns the last record when the file did not end with a line break.
    public mutating func finish() -> [Record] {
        var records: [Record] = []
        if atFileStart && bomBytesSeen > 0 {
            atFileStart = false
            for earlier in [UInt8]([0xEF, 0xBB, 0xBF]).prefix(bomBytesSeen) { consume(earlier, into: &records) }
        }
        switch state {
        case .quoted:
            problem = problem ?? .unterminatedQuote
            endRecord(into: &records)
        case .fieldStart where fields.isEmpty:
            break
        default:
            endRecord(into: &records)
        }
        return records
    }

    private mutating func consume(_ byte: UInt8, into records: inout [Record]) {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        defer { lastWasCR = byte == cr }
        if byte == lf && lastWasCR && state == .fieldStart && fields.isEmpty { return }
        switch state {
        case .fieldStart, .unquoted:
            if byte == comma {
                endField()
            } else if byte == cr || byte == lf {
                endRecord(into: &records)
            } else if byte == quote {
                if state == .fieldStart { state = .quoted } else { problem = problem ?? .quoteInUnquotedField; state = .skipToRecordEnd }
            } else {
                append(byte)
                state = .unquoted
            }
        case .quoted:
            if byte == quote { state = .quoteInQuoted } else { append(byte) }
        case .quoteInQuoted:
            if byte == quote {
                append(quote)
                state = .quoted
            } else if byte == comma {
                endField()
            } else if byte == cr || byte == lf {
                endRecord(into: &records)
            } else {
                problem = problem ?? .textAfterClosingQuote
                state = .skipToRecordEnd
            }
        case .skipToRecordEnd:
            if byte == cr || byte == lf { endRecord(into: &records) }
        }
    }

    private mutating func append(_ byte: UInt8) {
        if field.count < maximumFieldBytes { field.append(byte) } else { fieldOverflow = true }
    }

    private mutating func endField() {
        if fieldOverflow {
            problem = problem ?? .fieldTooLong(column: fields.count + 1, limit: maximumFieldBytes)
        }
        if let text = String(validating: field, as: UTF8.self) {
            fields.append(text)
        } else {
            problem = problem ?? .invalidUTF8(column: fields.count + 1)
            fields.append("")
        }
        field.removeAll(keepingCapacity: true)
        fieldOverflow = false
        state = .fieldStart
    }

    private mutating func endRecord(into records: inout [Record]) {
        if state != .skipToRecordEnd { endField() }
        // Blank lines are records too (of one empty field), so record numbers stay the
        // spreadsheet's row numbers; the reader's user decides to skip them.
        records.append(problem.map { .failure($0) } ?? .success(fields))
        fields.removeAll(keepingCapacity: true)
        field.removeAll(keepingCapacity: true)
        problem = nil
        fieldOverflow = false
        state = .fieldStart
    }
}

extension CSVRecords.Problem: CustomStringConvertible {
    public var description: String {
        switch self {
        case .quoteInUnquotedField: "a double quote inside a field that does not begin with one"
        case .textAfterClosingQuote: "text after a closing double quote"
        case .unterminatedQuote: "a quoted field is not closed before the end of the file"
        case .invalidUTF8(let column): "column \(column) is not valid UTF-8"
        case .fieldTooLong(let column, let limit): "column \(column) is longer than \(limit) bytes"
        }
    }
}
