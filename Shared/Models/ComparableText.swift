import Foundation

/// Text as compared for duplicates: compatibility-normalised (full-width to half-width),
/// lower-cased, letters and digits only, so case, width, spacing and punctuation do not count.
/// Intake's resubmission check and triage's near-duplicate grouping both compare this form.
public enum ComparableText {
    public static func of(_ text: String) -> String {
        var kept = String.UnicodeScalarView()
        for scalar in text.precomposedStringWithCompatibilityMapping.lowercased().unicodeScalars {
            let properties = scalar.properties
            if properties.isAlphabetic || properties.numericType != nil { kept.append(scalar) }
        }
        return String(kept)
    }
}
