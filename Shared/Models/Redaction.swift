import Foundation

/// Removes personal data from text before anything is published: phone numbers (mobile and
/// landline, with or without separators, country code or full-width digits), ID-card numbers
/// (18 and 15 digits) and e-mail addresses are replaced by a label saying what was there.
/// Ordinary numbers (dates, counts, amounts, years) stay: a number is masked only when its
/// shape is a phone or ID number, or a short number stands right after a phone word.
public enum Redaction {
    public static let phoneLabel = "[电话已隐去]"
    public static let idCardLabel = "[身份证号已隐去]"
    public static let emailLabel = "[邮箱已隐去]"

    /// `text` with every phone number, ID-card number and e-mail address replaced, and each of
    /// `names` (the people the store knows gave this text: contacts, resident proposers) masked.
    public static func redact(_ text: String, names: [String] = []) -> String {
        // Scalars, not Characters: every digit, letter and sign looked for is one scalar, and
        // this runs for every public text on every refresh.
        var characters = Array(text.unicodeScalars)
        let masked = maskNames(names, in: &characters)
        var spans: [(range: Range<Int>, label: String)] = []
        spans += emailSpans(in: characters)
        for span in numberSpans(in: characters) where !spans.contains(where: { $0.range.overlaps(span.range) }) {
            spans.append(span)
        }
        guard !spans.isEmpty else { return masked ? string(characters[...]) : text }
        spans.sort { $0.range.lowerBound < $1.range.lowerBound }
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var index = 0
        for span in spans {
            result += string(characters[index..<span.range.lowerBound])
            result += span.label
            index = span.range.upperBound
        }
        result += string(characters[index...])
        return result
    }

    static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars)
        return String(text)
    }

    /// Replaces each name of two or more characters by its masked form; longest first, so 欧阳娜娜
    /// is masked before a shorter name inside it. Whether anything was masked.
    static func maskNames(_ names: [String], in characters: inout [Unicode.Scalar]) -> Bool {
        let candidates = Set(names.map { $0.trimmedOfWhitespace }).filter { $0.unicodeScalars.count >= 2 }
        guard !candidates.isEmpty else { return false }
        var masked = false
        for name in candidates.sorted(by: { $0.unicodeScalars.count > $1.unicodeScalars.count }) {
            let pattern = Array(name.unicodeScalars)
            let replacement = Array(maskName(name).unicodeScalars)
            var index = 0
            var result: [Unicode.Scalar] = []
            while index < characters.count {
                if characters[index] == pattern[0], index + pattern.count <= characters.count,
                   characters[index..<(index + pattern.count)].elementsEqual(pattern) {
                    result += replacement
                    index += pattern.count
                    masked = true
                } else {
                    result.append(characters[index])
                    index += 1
                }
            }
            characters = result
        }
        return masked
    }

    /// A person's name as the public may see it: the family name and one star (王*, 欧阳*).
    public static func maskName(_ name: String) -> String {
        let trimmed = name.trimmedOfWhitespace
        guard let first = trimmed.first else { return "匿名" }
        if trimmed.count > 2, compoundFamilyNames.contains(String(trimmed.prefix(2))) { return String(trimmed.prefix(2)) + "*" }
        return String(first) + "*"
    }

    static let compoundFamilyNames: Set<String> = [
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐", "端木", "西门", "南宫",
    ]

    // MARK: numbers

    /// Words after which a short (7–8 digit) number is a phone number.
    static let phoneWords = ["电话", "手机", "热线", "座机", "联系", "号码", "致电", "拨打", "tel", "Tel", "TEL", "call"]

    static func digit(_ character: Unicode.Scalar) -> Unicode.Scalar? {
        if (48...57).contains(character.value) { return character }
        // Full-width digits (０–９) are common in text typed on Chinese keyboards.
        if (0xFF10...0xFF19).contains(character.value) { return Unicode.Scalar(character.value - 0xFF10 + 48) }
        return nil
    }

    static func isSeparator(_ character: Unicode.Scalar) -> Bool {
        character == " " || character == "-" || character == "－" || character == "\u{3000}"
    }

    /// Runs of digits joined by single separators (and an optional leading `+` or `(0xx)`),
    /// classified by the digits they hold.
    static func numberSpans(in characters: [Unicode.Scalar]) -> [(range: Range<Int>, label: String)] {
        var spans: [(range: Range<Int>, label: String)] = []
        var index = 0
        while index < characters.count {
            guard digit(characters[index]) != nil || isGroupOpening(characters, at: index) else {
                index += 1
                continue
            }
            var start = index
            var digits: [Int] = []
            var separators = 0
            var position = index
            if characters[position] == "+" || characters[position] == "＋" { position += 1 }
            if characters[position] == "(" || characters[position] == "（" {
                position += 1
                while position < characters.count, let d = digit(characters[position]) {
                    digits.append(Int(d.value) - 48)
                    position += 1
                }
                if position < characters.count, characters[position] == ")" || characters[position] == "）" { position += 1 }
            }
            while position < characters.count {
                if let d = digit(characters[position]) {
                    digits.append(Int(d.value) - 48)
                    position += 1
                } else if isSeparator(characters[position]), position + 1 < characters.count, digit(characters[position + 1]) != nil, !digits.isEmpty {
                    separators += 1
                    position += 1
                } else {
                    break
                }
            }
            var end = position
            var idCheckLetter = false
            if end < characters.count, characters[end] == "X" || characters[end] == "x" || characters[end] == "Ｘ", digits.count == 17 {
                idCheckLetter = true
                end += 1
            }
            // A number glued to Latin letters is a code (a model number, a plate), not a phone.
            let glued = (start > 0 && isLatinLetter(characters[start - 1])) || (end < characters.count && isLatinLetter(characters[end]))
            if !glued, let label = classify(digits, idCheckLetter: idCheckLetter, separators: separators,
                                            context: characters[max(0, start - 8)..<start]) {
                // A leading "+" belongs to the number.
                if start > 0, characters[start - 1] == "+" { start -= 1 }
                spans.append((start..<end, label))
            }
            index = max(end, index + 1)
        }
        return spans
    }

    /// A "+" before a number, or an area code in brackets: (020) or （0755）.
    static func isGroupOpening(_ characters: [Unicode.Scalar], at index: Int) -> Bool {
        let character = characters[index]
        guard index + 1 < characters.count, digit(characters[index + 1]) != nil else { return false }
        if character == "+" || character == "＋" { return true }
        guard character == "(" || character == "（", digit(characters[index + 1]) == "0" else { return false }
        var position = index + 1
        while position < characters.count, digit(characters[position]) != nil { position += 1 }
        return (3...4).contains(position - index - 1) && position < characters.count && (characters[position] == ")" || characters[position] == "）")
    }

    static func isLatinLetter(_ character: Unicode.Scalar) -> Bool {
        (65...90).contains(character.value) || (97...122).contains(character.value)
    }

    static func classify(_ bytes: [Int], idCheckLetter: Bool, separators: Int, context: ArraySlice<Unicode.Scalar>) -> String? {
        let count = bytes.count
        if idCheckLetter || count == 18 {
            if count == 17 || count == 18, plausibleBirthDate(bytes, at: 6, yearDigits: 4) { return idCardLabel }
        }
        if count == 15, bytes[0] != 0, plausibleBirthDate(bytes, at: 6, yearDigits: 2) { return idCardLabel }
        if count == 11, bytes[0] == 1, (3...9).contains(bytes[1]) { return phoneLabel }
        if count == 13, bytes[0] == 8, bytes[1] == 6, bytes[2] == 1, (3...9).contains(bytes[3]) { return phoneLabel }
        if count == 15, bytes[0] == 0, bytes[1] == 0, bytes[2] == 8, bytes[3] == 6 { return phoneLabel }
        // Landlines with their area code: 0 + 2–3 digits + 7–8 digits.
        if (10...12).contains(count), bytes[0] == 0, bytes[1] != 0 { return phoneLabel }
        // Service numbers such as 12345 and 400/800 lines are public; short local numbers only after a phone word.
        if (7...8).contains(count), !looksLikeDate(bytes), phoneWordPrecedes(context) { return phoneLabel }
        return nil
    }

    static func plausibleBirthDate(_ digits: [Int], at offset: Int, yearDigits: Int) -> Bool {
        guard digits.count >= offset + yearDigits + 4 else { return false }
        var position = offset
        if yearDigits == 4 {
            let century = digits[position] * 10 + digits[position + 1]
            guard century == 19 || century == 20 else { return false }
        }
        position += yearDigits
        let month = digits[position] * 10 + digits[position + 1]
        let day = digits[position + 2] * 10 + digits[position + 3]
        return (1...12).contains(month) && (1...31).contains(day)
    }

    /// 20260315 and the like.
    static func looksLikeDate(_ digits: [Int]) -> Bool {
        guard digits.count == 8 else { return false }
        let century = digits[0] * 10 + digits[1]
        let month = digits[4] * 10 + digits[5]
        let day = digits[6] * 10 + digits[7]
        return (century == 19 || century == 20) && (1...12).contains(month) && (1...31).contains(day)
    }

    static func phoneWordPrecedes(_ context: ArraySlice<Unicode.Scalar>) -> Bool {
        let before = string(context)
        return phoneWords.contains { before.contains($0) }
    }

    // MARK: e-mail

    static func emailSpans(in characters: [Unicode.Scalar]) -> [(range: Range<Int>, label: String)] {
        var spans: [(range: Range<Int>, label: String)] = []
        var searchFrom = 0
        for (at, character) in characters.enumerated() where at >= searchFrom && (character == "@" || character == "＠") {
            var start = at
            while start > 0, isLocalPartCharacter(characters[start - 1]) { start -= 1 }
            var end = at + 1
            while end < characters.count, isDomainCharacter(characters[end]) { end += 1 }
            // The domain ends with a dot and at least two letters; trailing dots belong to the sentence.
            while end > at + 1, characters[end - 1] == "." { end -= 1 }
            let domain = characters[(at + 1)..<end]
            guard start < at, let lastDot = domain.lastIndex(of: "."), lastDot > at + 1,
                  end - lastDot - 1 >= 2, characters[(lastDot + 1)..<end].allSatisfy(isLatinLetter)
            else { continue }
            spans.append((start..<end, emailLabel))
            searchFrom = end
        }
        return spans
    }

    static func isLocalPartCharacter(_ character: Unicode.Scalar) -> Bool {
        digit(character) != nil || isLatinLetter(character) || "._%+-".unicodeScalars.contains(character)
    }

    static func isDomainCharacter(_ character: Unicode.Scalar) -> Bool {
        isLatinLetter(character) || (48...57).contains(character.value) || character == "." || character == "-"
    }
}
