import Foundation

/// Text as compared for duplicates: compatibility-normalised (full-width to half-width),
/// lower-cased, letters and digits only, so case, width, spacing and punctuation do not count.
/// Intake's resubmission check and triage's near-duplicate grouping both compare this form.
public enum ComparableText {
    public static func of(_ text: String) -> String {
        commonScalarsOnly(text) ?? normalisedInFull(text)
    }

    /// The definition: NFKC, lower case, alphabetic and numeric scalars kept.
    static func normalisedInFull(_ text: String) -> String {
        var kept = String.UnicodeScalarView()
        for scalar in text.precomposedStringWithCompatibilityMapping.lowercased().unicodeScalars {
            let properties = scalar.properties
            if properties.isAlphabetic || properties.numericType != nil { kept.append(scalar) }
        }
        return String(kept)
    }

    /// The scalar values of `of(text)`, without building the string: what similarity's
    /// shingles are made of.
    public static func scalarValues(of text: String) -> [UInt32] {
        var values: [UInt32] = []
        values.reserveCapacity(text.utf8.count / 3 + 1)
        if keepingCommonScalars(of: text, { values.append($0) }) { return values }
        return normalisedInFull(text).unicodeScalars.map(\.value)
    }

    /// The same result for text made only of ASCII, common CJK ideographs, full-width ASCII and
    /// common punctuation (nearly every clue), without normalising the whole string, which was
    /// most of the cost of triage's similarity core. Nil when any other scalar occurs.
    static func commonScalarsOnly(_ text: String) -> String? {
        var kept = String.UnicodeScalarView()
        guard keepingCommonScalars(of: text, { kept.append(Unicode.Scalar($0)!) }) else { return nil }
        return String(kept)
    }

    /// Hands `keep` the values the definition keeps, in order, while every scalar is a common
    /// one; false at the first that is not (the caller then normalises in full).
    @inline(__always)
    static func keepingCommonScalars(of text: String, _ keep: (UInt32) -> Void) -> Bool {
        for scalar in text.unicodeScalars {
            let value = scalar.value
            switch value {
            case 0x30...0x39, 0x61...0x7A, 0x4E00...0x9FEF:
                keep(value)
            case 0x41...0x5A:
                keep(value + 0x20)
            case 0xFF10...0xFF19, 0xFF41...0xFF5A:
                // Full-width digits and small letters: NFKC maps them to ASCII.
                keep(value - 0xFEE0)
            case 0xFF21...0xFF3A:
                keep(value - 0xFEE0 + 0x20)
            case 0x00...0x7F, 0xFF01...0xFF5E, 0x3000...0x3003, 0x3008...0x3011, 0x3014...0x301F,
                0x2014, 0x2018...0x201F, 0x2026, 0x00B7:
                // Spaces, controls and punctuation (full-width punctuation becomes ASCII
                // punctuation under NFKC): dropped either way.
                continue
            default:
                return false
            }
        }
        return true
    }
}

extension String {
    /// Without leading and trailing white space (Unicode's), like `trimmingCharacters(in:
    /// .whitespacesAndNewlines)` without its detour through NSString on Linux, which showed up
    /// in the public read model's profile.
    public var trimmedOfWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        if first == scalars.startIndex && last == scalars.index(before: scalars.endIndex) { return self }
        return String(scalars[first...last])
    }
}
