import Foundation

/// Removes personal data from text before anything is published, in the forms residents type it:
/// phone numbers (mobile, landline, Hong Kong/Macau/Taiwan; any separators, full-width or Chinese
/// numerals, glued to Tel or wx), ID-card, passport and travel-permit numbers, bank cards, QQ and
/// WeChat ids, e-mail addresses, licence plates, the building/unit/room part of a home address and
/// names after 我叫, 联系人 and the like. Each is replaced by a label saying what was there; names by
/// their masked form (张*).
///
/// Ordinary numbers stay: dates, counts, amounts, years, articles of law, case numbers, postal codes,
/// model numbers, bus routes, and short public service numbers (12345, 110, 120, 12315, 400 lines),
/// which are published on purpose and are nobody's personal data. A number is masked only when its
/// shape is one of the above, or a short number stands right after a phone, card or document word.
public enum Redaction {
    public static let phoneLabel = "[电话已隐去]"
    public static let idCardLabel = "[身份证号已隐去]"
    public static let emailLabel = "[邮箱已隐去]"
    public static let qqLabel = "[QQ号已隐去]"
    public static let weChatLabel = "[微信号已隐去]"
    public static let bankCardLabel = "[银行卡号已隐去]"
    /// Passports and travel permits (港澳通行证, 回乡证, 台胞证).
    public static let documentLabel = "[证件号已隐去]"
    public static let plateLabel = "[车牌已隐去]"
    /// The building, unit and room of a home; the street or community before it stays.
    public static let addressLabel = "[门牌已隐去]"

    typealias Span = (range: Range<Int>, label: String)

    /// `text` with all personal data above replaced, and each of `names` (the people the store knows
    /// gave this text: contacts, resident proposers) masked.
    public static func redact(_ text: String, names: [String] = []) -> String {
        // Scalars, not Characters: every digit, letter and sign looked for is one scalar, and
        // this runs for every public text on every refresh.
        var characters = Array(text.unicodeScalars)
        let masked = maskNames(names, in: &characters)
        // A folded copy, index for index, so that every scanner sees ＱＱ, Ｔｅｌ and １３８ as qq, tel and 138.
        let folded = characters.map(fold)
        let found = [
            emailSpans(in: folded), keywordSpans(in: folded), plateSpans(in: folded), numberSpans(in: folded),
            addressSpans(in: folded), nameSpans(in: folded, original: characters),
        ]
        guard found.contains(where: { !$0.isEmpty }) else { return masked ? string(characters[...]) : text }
        // Earlier scanners win an overlap: an e-mail's digits are no QQ number, a WeChat id no plate.
        var covered = [Bool](repeating: false, count: characters.count)
        var spans: [Span] = []
        for span in found.joined() where !covered[span.range].contains(true) {
            covered.replaceSubrange(span.range, with: repeatElement(true, count: span.range.count))
            spans.append(span)
        }
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
        // Encoded straight into the string's storage: appending to a UnicodeScalarView cost about
        // 100 ns a scalar, more than all the scanning.
        String(unsafeUninitializedCapacity: scalars.count * 4) { buffer in
            var count = 0
            for scalar in scalars {
                UTF8.encode(scalar) { byte in
                    buffer[count] = byte
                    count += 1
                }
            }
            return count
        }
    }

    // MARK: names

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
                    characters[index..<(index + pattern.count)].elementsEqual(pattern)
                {
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

    /// Names the text introduces: 我叫王小明, 联系人：李四, 姓名：欧阳娜娜, 我是张三。 A family name with
    /// a title (联系人：王先生) names nobody and stays, and so does 姓王 alone; 姓王名小明 keeps 姓王.
    static func nameSpans(in s: [Unicode.Scalar], original: [Unicode.Scalar]) -> [Span] {
        var spans: [Span] = []
        let initials = nameInitials
        var index = 0
        while index < s.count {
            let character = s[index]
            guard character.value >= 0x4E00, initials.contains(character) else {
                index += 1
                continue
            }
            if character == "姓", let span = givenNameSpan(in: s, at: index) {
                spans.append(span)
                index = span.range.upperBound
                continue
            }
            var next = index + 1
            for trigger in nameTriggers where matches(trigger.word, s, at: index) {
                var position = index + trigger.word.count
                let fillerStart = position
                while position < s.count, position - fillerStart < 3,
                    s[position] == ":" || s[position] == " " || (!trigger.weak && (s[position] == "是" || s[position] == "为"))
                {
                    position += 1
                }
                next = position
                if let length = nameLength(in: s, at: position, weak: trigger.weak) {
                    let name = string(original[position..<(position + length)])
                    spans.append((position..<(position + length), maskName(name)))
                    next = position + length
                }
                break
            }
            index = next
        }
        return spans
    }

    /// The length of the name at `start`: a common family name and one or two characters (a compound
    /// family name and one or two), ended by punctuation, a title or a word that cannot be part of it.
    static func nameLength(in s: [Unicode.Scalar], at start: Int, weak: Bool) -> Int? {
        guard start + 1 < s.count else { return nil }
        let compound = compoundFamilyNames.contains(string(s[start...(start + 1)]))
        guard compound || familyNames.contains(s[start]) else { return nil }
        let family = compound ? 2 : 1
        var length = family
        var endedByWord = false
        while start + length < s.count, isIdeograph(s[start + length]) {
            if startsWithAny(nameTitles, s, at: start + length) || (length > family && startsWithAny(nameStops, s, at: start + length)) {
                endedByWord = true
                break
            }
            length += 1
            if length > family + 2 { return nil }
        }
        guard length > family else { return nil }
        if weak {
            // After 我是 or 本人 so much else follows that only a name closed by punctuation, or by a
            // word such as 电话, is taken.
            if endedByWord, !startsWithAny(weakNameStops, s, at: start + length), !startsWithAny(nameTitles, s, at: start + length) { return nil }
            let candidate = string(s[start..<(start + length)])
            if notNames.contains(where: { candidate.hasPrefix($0) }) { return nil }
            if notNameEndings.contains(s[start + length - 1]) { return nil }
        }
        return length
    }

    /// 姓王名小明: the given name after 名 (the family name alone names nobody).
    static func givenNameSpan(in s: [Unicode.Scalar], at index: Int) -> Span? {
        var position = index + 1
        guard position + 1 < s.count else { return nil }
        if compoundFamilyNames.contains(string(s[position...(position + 1)])) {
            position += 2
        } else if familyNames.contains(s[position]) {
            position += 1
        } else {
            return nil
        }
        while position < s.count, s[position] == "," || s[position] == " " { position += 1 }
        guard position < s.count, s[position] == "名" else { return nil }
        position += 1
        var end = position
        while end < s.count, isIdeograph(s[end]), end - position < 2, !startsWithAny(nameStops, s, at: end) { end += 1 }
        guard end > position,
            end == s.count || !isIdeograph(s[end]) || startsWithAny(nameStops, s, at: end) || startsWithAny(weakNameStops, s, at: end)
        else { return nil }
        return (position..<end, "*")
    }

    static func isIdeograph(_ character: Unicode.Scalar) -> Bool {
        (0x4E00...0x9FFF).contains(character.value) || (0x3400...0x4DBF).contains(character.value)
    }

    // MARK: scalars

    /// Full-width forms as ASCII, other white space as a space and Latin letters in lower case; one
    /// scalar for one, so that positions in the folded text are positions in the original.
    static func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        var value = scalar.value
        if value >= 0x80 {
            if (0xFF01...0xFF5E).contains(value) {
                value -= 0xFEE0
            } else if value == 0x3000 || value == 0xA0 {
                return " "
            } else {
                return scalar
            }
        } else if value == 0x09 {
            return " "
        }
        if (65...90).contains(value) { value += 32 }
        return Unicode.Scalar(UInt8(value))
    }

    /// A digit in folded text: ASCII, or a Chinese numeral as phone numbers are spelled out
    /// (一三八…, 幺 for one, 〇/○/零 for nought). 十 and 百 make numbers, not digit strings, and 两
    /// counts things: none of them is a digit.
    static func digit(_ character: Unicode.Scalar) -> Int? {
        let value = character.value
        if value >= 48, value <= 57 { return Int(value - 48) }
        guard value >= 0x25CB else { return nil }
        switch value {
        case 0x25CB, 0x3007, 0x96F6: return 0
        case 0x4E00, 0x5E7A: return 1
        case 0x4E8C: return 2
        case 0x4E09: return 3
        case 0x56DB: return 4
        case 0x4E94: return 5
        case 0x516D: return 6
        case 0x4E03: return 7
        case 0x516B: return 8
        case 0x4E5D: return 9
        default: return nil
        }
    }

    static func isASCIIDigit(_ character: Unicode.Scalar) -> Bool {
        (48...57).contains(character.value)
    }

    static func isLatinLetter(_ character: Unicode.Scalar) -> Bool {
        (65...90).contains(character.value) || (97...122).contains(character.value)
    }

    static func isAlphanumeric(_ character: Unicode.Scalar) -> Bool {
        isLatinLetter(character) || isASCIIDigit(character)
    }

    static func matches(_ word: [Unicode.Scalar], _ s: [Unicode.Scalar], at index: Int) -> Bool {
        guard index >= 0, index + word.count <= s.count else { return false }
        for offset in word.indices where s[index + offset] != word[offset] { return false }
        return true
    }

    static func startsWithAny(_ words: [[Unicode.Scalar]], _ s: [Unicode.Scalar], at index: Int) -> Bool {
        words.contains { matches($0, s, at: index) }
    }

    static func endsWithAny(_ words: [[Unicode.Scalar]], _ s: [Unicode.Scalar], before index: Int) -> Bool {
        words.contains { matches($0, s, at: index - $0.count) }
    }

    /// Where the first of `words` found at `index` ends; a Latin word must stand alone (wx, not the wx of wxyz).
    static func keywordEnd(_ words: [[Unicode.Scalar]], _ s: [Unicode.Scalar], at index: Int) -> Int? {
        for word in words where matches(word, s, at: index) {
            if isLatinLetter(word[0]), index > 0, isLatinLetter(s[index - 1]) { continue }
            let end = index + word.count
            if isLatinLetter(word[word.count - 1]), end < s.count, isLatinLetter(s[end]) { continue }
            return end
        }
        return nil
    }

    /// Past what people put between a word and its number: 号, 号码, a colon, 是, 为, spaces.
    /// Whether any of it was more than a space, which makes a bare word id after 微信 an id.
    static func fillerEnd(_ s: [Unicode.Scalar], from start: Int) -> (end: Int, marked: Bool) {
        var position = start
        var marked = false
        while position < s.count, position - start < 5 {
            switch s[position] {
            case " ": break
            case ":", "号", "码", "是", "为": marked = true
            default: return (position, marked)
            }
            position += 1
        }
        return (position, marked)
    }

    // MARK: numbers

    /// Between digit groups: a space, -, ., _, /, a middle dot or a dash, full- or half-width.
    static func isSeparator(_ character: Unicode.Scalar) -> Bool {
        switch character.value {
        case 0x20, 0x2D, 0x2E, 0x2F, 0x5F, 0xB7, 0x2010...0x2015, 0x2022, 0x2027, 0x2212, 0x30FB, 0xFE63: true
        default: false
        }
    }

    /// Where the next digit group starts after `start`: one separator, spaces, or one separator between
    /// spaces (138 - 1234), four scalars at most.
    static func gapEnd(_ s: [Unicode.Scalar], from start: Int) -> Int? {
        var position = start
        var marks = 0
        while position < s.count, position - start < 4, isSeparator(s[position]) {
            if s[position] != " " { marks += 1 }
            position += 1
        }
        guard position > start, marks <= 1, position < s.count, digit(s[position]) != nil else { return nil }
        return position
    }

    /// Digit groups joined by gaps, with an optional leading + or bracketed code: (020), (852), (+86).
    struct NumberRun {
        var start: Int
        var plus = false
        var groups: [Range<Int>] = []
        var digits: [Int] = []
        /// How many digits the groups before each group hold, and all of them at the end.
        var digitOffsets: [Int] = [0]

        /// The last group from `first` on such that the groups hold at most `limit` digits (at least `first`).
        func lastGroup(from first: Int, digits limit: Int) -> Int {
            var low = first
            var high = groups.count - 1
            while low < high {
                let middle = (low + high + 1) / 2
                if digitOffsets[middle + 1] - digitOffsets[first] <= limit { low = middle } else { high = middle - 1 }
            }
            return low
        }
    }

    static func numberRun(in s: [Unicode.Scalar], at index: Int) -> NumberRun? {
        var run = NumberRun(start: index)
        var position = index
        if s[position] == "+" {
            run.plus = true
            position += 1
        }
        if position < s.count, s[position] == "(" {
            var inner = position + 1
            if inner < s.count, s[inner] == "+" {
                run.plus = true
                inner += 1
            }
            var code: [Int] = []
            while inner < s.count, isASCIIDigit(s[inner]) {
                code.append(Int(s[inner].value) - 48)
                inner += 1
            }
            guard inner < s.count, s[inner] == ")", isBracketedCode(code, plus: run.plus) else { return nil }
            // A country code in brackets is as plain as one after a +.
            if code[0] == 8 { run.plus = true }
            run.groups.append(position..<(inner + 1))
            run.digits += code
            run.digitOffsets.append(run.digits.count)
            position = inner + 1
            if let next = gapEnd(s, from: position) { position = next }
        }
        guard position < s.count, digit(s[position]) != nil else { return nil }
        while true {
            let groupStart = position
            while position < s.count, let value = digit(s[position]) {
                run.digits.append(value)
                position += 1
            }
            run.groups.append(groupStart..<position)
            run.digitOffsets.append(run.digits.count)
            guard let next = gapEnd(s, from: position) else { break }
            position = next
        }
        return run
    }

    /// An area code, (020) or (0755), or a country code, (86), (852), (853), (886).
    static func isBracketedCode(_ code: [Int], plus: Bool) -> Bool {
        if !plus, (3...4).contains(code.count), code[0] == 0, code[1] != 0 { return true }
        return code == [8, 6] || code == [8, 5, 2] || code == [8, 5, 3] || code == [8, 8, 6]
    }

    /// Each run of digit groups, split into the longest stretches of whole groups that are a phone, ID
    /// or card number: two phone numbers a space apart are two numbers, and 12345 / 110 none.
    static func numberSpans(in s: [Unicode.Scalar]) -> [Span] {
        var spans: [Span] = []
        var index = 0
        while index < s.count {
            let character = s[index]
            guard digit(character) != nil || character == "+" || character == "(" else {
                index += 1
                continue
            }
            // Most runs are a year or a count: those are passed without building a run.
            if character != "+", character != "(" {
                var end = index
                var count = 0
                while true {
                    while end < s.count, digit(s[end]) != nil {
                        count += 1
                        end += 1
                    }
                    guard count < 7, let next = gapEnd(s, from: end) else { break }
                    end = next
                }
                if count < 7 {
                    index = end
                    continue
                }
            }
            guard let run = numberRun(in: s, at: index) else {
                index += 1
                continue
            }
            var first = 0
            while first < run.groups.count {
                let start = first == 0 ? run.start : run.groups[first].lowerBound
                // Nothing personal is longer than 25 digits; this also keeps long tables of numbers linear.
                var last = run.lastGroup(from: first, digits: 25)
                // People group digits in twos or more (138 1234 5678, +1 415 555…); single digits apart
                // are a list (1 1 1 …), whatever they add up to.
                if let single = run.groups[(first + 1)..<(last + 1)].firstIndex(where: { $0.count < 2 }) { last = single - 1 }
                // A number glued to Latin letters is a code (a model or case number), unless the
                // letters are Tel or wx.
                var matched = false
                if run.digitOffsets[last + 1] - run.digitOffsets[first] >= 7,
                    latinWord(before: start, in: s).map({ contactWords.contains($0) }) ?? true
                {
                    let cue = self.cue(before: start, in: s)
                    while last >= first {
                        if let span = classify(run, first: first, last: last, start: start, cue: cue, in: s) {
                            spans.append(span)
                            matched = true
                            break
                        }
                        last -= 1
                    }
                }
                first = matched ? last + 1 : first + 1
            }
            index = max(run.groups[run.groups.count - 1].upperBound, index + 1)
        }
        return spans
    }

    static func classify(_ run: NumberRun, first: Int, last: Int, start: Int, cue: Cue, in s: [Unicode.Scalar]) -> Span? {
        var end = run.groups[last].upperBound
        let digits = run.digits[run.digitOffsets[first]..<run.digitOffsets[last + 1]]
        guard digits.count >= 7 else { return nil }
        var idCheckLetter = false
        if digits.count == 17, end < s.count, s[end] == "x" {
            idCheckLetter = true
            end += 1
        }
        if end < s.count, isLatinLetter(s[end]) { return nil }
        // A short number must be the whole run: 830-1234 of 400-830-1234 is no local number.
        let short = first == 0 && last == run.groups.count - 1 && !(start > 0 && (s[start - 1] == "第" || s[start - 1] == "#"))
        let groups = run.groups[first...last]
        guard let label = classify(Array(digits), idCheckLetter: idCheckLetter, plus: first == 0 && run.plus, groups: groups, cue: cue, short: short)
        else { return nil }
        return (start..<end, label)
    }

    /// The Latin word right before `start`, or before a separator before it (HZ-14-…, Tel.138…).
    static func latinWord(before start: Int, in s: [Unicode.Scalar]) -> String? {
        var end = start
        if end > 1, isSeparator(s[end - 1]), s[end - 1] != " ", isLatinLetter(s[end - 2]) { end -= 1 }
        guard end > 0, isLatinLetter(s[end - 1]) else { return nil }
        var wordStart = end - 1
        while wordStart > 0, isLatinLetter(s[wordStart - 1]) { wordStart -= 1 }
        return string(s[wordStart..<end])
    }

    struct Cue {
        /// A phone word anywhere in the eight scalars before.
        var phone = false
        /// A card word closer to the number than any ID-card or phone word.
        var card = false
    }

    static func cue(before start: Int, in s: [Unicode.Scalar]) -> Cue {
        let from = max(0, start - 8)
        func lastEnd(_ words: [[Unicode.Scalar]]) -> Int {
            var best = -1
            for word in words {
                let initial = word[0]
                var position = start - word.count
                while position >= from {
                    if s[position] == initial, matches(word, s, at: position),
                        !isLatinLetter(initial) || position == 0 || !isLatinLetter(s[position - 1])
                    {
                        best = max(best, position + word.count)
                        break
                    }
                    position -= 1
                }
            }
            return best
        }
        let phone = lastEnd(phoneWords)
        let card = lastEnd(cardWords)
        let idCard = lastEnd(idCardWords)
        // ≥: 卡号码 holds 号码 too.
        return Cue(phone: phone >= 0, card: card >= 0 && card >= phone && card >= idCard)
    }

    static func classify(_ d: [Int], idCheckLetter: Bool, plus: Bool, groups: ArraySlice<Range<Int>>, cue: Cue, short: Bool) -> String? {
        let count = d.count
        // After 卡号 or 账号 the number is an account, whatever its check digit: accounts come in many lengths.
        if cue.card, (12...25).contains(count) { return bankCardLabel }
        if idCheckLetter || count == 18 {
            if count == 17 || count == 18, plausibleBirthDate(d, at: 6, yearDigits: 4) { return idCardLabel }
        }
        if count == 15, d[0] != 0, plausibleBirthDate(d, at: 6, yearDigits: 2) { return idCardLabel }
        if count == 11, d[0] == 1, (3...9).contains(d[1]) { return phoneLabel }
        if count == 13, d.starts(with: [8, 6, 1]), (3...9).contains(d[3]) { return phoneLabel }
        if count == 15, d.starts(with: [0, 0, 8, 6]) { return phoneLabel }
        // Mainland landlines after 86 (86-20-87654321): with the + or 86 standing apart, as long serials start with 86 too.
        if (12...13).contains(count), d.starts(with: [8, 6]), d[2] >= 2, plus || groups.first?.count == 2 { return phoneLabel }
        if count == 14, d.starts(with: [0, 0, 8, 6]), d[4] >= 2 { return phoneLabel }
        // Hong Kong and Macau (852/853 and eight digits), Taiwan (886 and eight or nine).
        if count == 11, d.starts(with: [8, 5]), d[2] == 2 || d[2] == 3, d[3] != 0, d[3] != 1 { return phoneLabel }
        if count == 13, d.starts(with: [0, 0, 8, 5]), d[4] == 2 || d[4] == 3 { return phoneLabel }
        if (11...12).contains(count), d.starts(with: [8, 8, 6]), d[3] != 0 { return phoneLabel }
        if (13...14).contains(count), d.starts(with: [0, 0, 8, 8, 6]) { return phoneLabel }
        // Other countries: only with their +.
        if plus, (10...15).contains(count) { return phoneLabel }
        // Landlines with their area code: 0 + 2–3 digits + 7–8 digits.
        if (10...12).contains(count), d[0] == 0, d[1] != 0 { return phoneLabel }
        // Cards without a card word: the Luhn check, a card network's first digit and the usual 4-4-4-4
        // grouping keep out other long numbers (most start with a year, 2026…).
        if (16...19).contains(count), [3, 4, 5, 6, 9].contains(d[0]), luhn(d),
            groups.dropLast().allSatisfy({ $0.count == 4 })
        {
            return bankCardLabel
        }
        // Service numbers such as 12345 and 400/800 lines are public; short local numbers (also Hong
        // Kong's eight digits) only after a phone word, and only as one group or as 3–4 + 4.
        if (7...8).contains(count), short, cue.phone, !looksLikeDate(d),
            groups.count == 1 || (groups.count == 2 && groups.last?.count == 4 && groups.first!.count >= 3)
        {
            return phoneLabel
        }
        return nil
    }

    static func luhn(_ digits: [Int]) -> Bool {
        var sum = 0
        for (position, value) in digits.reversed().enumerated() {
            if position % 2 == 1 {
                let doubled = value * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += value
            }
        }
        return sum % 10 == 0
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

    // MARK: accounts and documents

    /// QQ numbers, WeChat ids and passport or permit numbers: each only right after its word.
    static func keywordSpans(in s: [Unicode.Scalar]) -> [Span] {
        var spans: [Span] = []
        let documentInitials = self.documentInitials
        var index = 0
        while index < s.count {
            let character = s[index]
            let span: Span?
            switch character {
            case "q", "扣": span = qqSpan(in: s, at: index)
            case "微", "威", "薇", "v", "w": span = weChatSpan(in: s, at: index)
            default: span = documentInitials.contains(character) ? documentSpan(in: s, at: index) : nil
            }
            if let span {
                spans.append(span)
                index = span.range.upperBound
            } else {
                index += 1
            }
        }
        return spans
    }

    /// QQ：12345678, 扣扣 987654321, ＱＱ号１２３４５: five to eleven digits; QQ群 and QQ邮箱 are not matched.
    static func qqSpan(in s: [Unicode.Scalar], at index: Int) -> Span? {
        guard let word = keywordEnd(qqWords, s, at: index) else { return nil }
        let start = fillerEnd(s, from: word).end
        var end = start
        while end < s.count, digit(s[end]) != nil { end += 1 }
        guard (5...11).contains(end - start), digit(s[start]) != 0 else { return nil }
        if end < s.count, isLatinLetter(s[end]) || s[end] == "@" { return nil }
        return (start..<end, qqLabel)
    }

    /// A WeChat id after 微信, wx, vx or V信: a letter, then 6–20 letters, digits, - and _. Without 号 or a
    /// colon between, the id must hold a digit, - or _, so that 用微信 wechat 扫码 stays. A phone number
    /// after 微信 is the phone scanner's.
    static func weChatSpan(in s: [Unicode.Scalar], at index: Int) -> Span? {
        guard let word = keywordEnd(weChatWords, s, at: index) else { return nil }
        var (start, marked) = fillerEnd(s, from: word)
        // 微信ID：abc123
        if matches(["i", "d"], s, at: start), start + 2 < s.count, !isAlphanumeric(s[start + 2]) {
            (start, marked) = fillerEnd(s, from: start + 2)
            marked = true
        }
        guard start < s.count, isLatinLetter(s[start]) else { return nil }
        var end = start
        var hasMark = false
        while end < s.count, isAlphanumeric(s[end]) || s[end] == "_" || s[end] == "-" {
            if !isLatinLetter(s[end]) { hasMark = true }
            end += 1
        }
        guard (6...20).contains(end - start), marked || hasMark else { return nil }
        if end < s.count, s[end] == "@" || (s[end] == "." && end + 1 < s.count && isLatinLetter(s[end + 1])) { return nil }
        return (start..<end, weChatLabel)
    }

    /// Passports (E12345678, G12345678) and travel permits (C12345678, H12345678901) after their word.
    static func documentSpan(in s: [Unicode.Scalar], at index: Int) -> Span? {
        let lettered: Bool
        let word: Int
        if let end = keywordEnd(documentWords, s, at: index) {
            lettered = false
            word = end
        } else if let end = keywordEnd(letteredDocumentWords, s, at: index) {
            lettered = true
            word = end
        } else {
            return nil
        }
        let start = fillerEnd(s, from: word).end
        var position = start
        while position < s.count, position - start < 2, isLatinLetter(s[position]) { position += 1 }
        let letters = position - start
        let digitsStart = position
        while position < s.count, isASCIIDigit(s[position]) { position += 1 }
        let digits = position - digitsStart
        guard letters > 0 ? (7...11).contains(digits) : (!lettered && (8...11).contains(digits)) else { return nil }
        if position < s.count, isAlphanumeric(s[position]) { return nil }
        return (start..<position, documentLabel)
    }

    // MARK: plates

    /// 粤A12345, 粤A·D12345, 粤AD12345 (new energy), 粤B1234学. Every plate is masked, not only after 车牌 or
    /// 我的车: a plate identifies its keeper whoever writes it (a neighbour's car in a parking complaint is
    /// exactly what must not be published), and a bus's plate looks like any other. Bus routes (12路,
    /// B12路) have no province and stay.
    static func plateSpans(in s: [Unicode.Scalar]) -> [Span] {
        var spans: [Span] = []
        let provinces = self.provinces
        var index = 0
        while index + 6 < s.count {
            guard isLatinLetter(s[index + 1]), s[index].value >= 0x4E00, provinces.contains(s[index]) else {
                index += 1
                continue
            }
            var position = index + 2
            if position < s.count, isSeparator(s[position]) { position += 1 }
            let start = position
            var digits = 0
            while position < s.count, position - start < 6, isAlphanumeric(s[position]) {
                if isASCIIDigit(s[position]) { digits += 1 }
                position += 1
            }
            let suffixed = position < s.count && plateSuffixes.contains(s[position])
            guard (suffixed ? 4...6 : 5...6).contains(position - start), digits >= 2, position == s.count || !isAlphanumeric(s[position]) else {
                index += 1
                continue
            }
            if suffixed { position += 1 }
            spans.append((index..<position, plateLabel))
            index = position
        }
        return spans
    }

    // MARK: addresses

    enum AddressLevel { case outer, room }

    static let addressSuffixes: [(word: [Unicode.Scalar], level: AddressLevel)] =
        scalars(["号楼", "单元", "栋", "幢", "座", "楼", "梯", "层"]).map { (word: $0, level: AddressLevel.outer) }
        + scalars(["号房", "室", "房"]).map { (word: $0, level: AddressLevel.room) }

    /// The building, unit and room of a home: 5栋1203房, 3座2单元501室, 8号楼3单元402, 5栋2-1203, 3-2-501.
    /// Only a room makes a home: 5栋 or 3栋2单元 alone says where an issue is and stays, like the street
    /// and community before it. A lone room number needs a home before it (住, 地址, 花园…), and a
    /// room right after a public office (区政府3楼301室, 中心B座301室) stays.
    static func addressSpans(in s: [Unicode.Scalar]) -> [Span] {
        var spans: [Span] = []
        var index = 0
        while index < s.count {
            let character = s[index]
            guard digit(character) != nil || isLatinLetter(character),
                index == 0 || !(isAlphanumeric(s[index - 1]) || digit(s[index - 1]) != nil || s[index - 1] == "-"),
                let end = dwelling(in: s, at: index) ?? roomTriple(in: s, at: index)
            else {
                index += 1
                continue
            }
            spans.append((index..<end, addressLabel))
            index = end
        }
        return spans
    }

    /// A building, unit or room number: up to five digits (Arabic or Chinese) with at most one Latin
    /// letter before or after (A座, 12B室), or a letter alone.
    static func addressToken(in s: [Unicode.Scalar], at start: Int) -> (end: Int, digits: Int, arabic: Bool, lettered: Bool)? {
        var position = start
        var lettered = false
        if position < s.count, isLatinLetter(s[position]) {
            lettered = true
            position += 1
        }
        let digitsStart = position
        var arabic = true
        while position < s.count, position - digitsStart < 5, digit(s[position]) != nil {
            if !isASCIIDigit(s[position]) { arabic = false }
            position += 1
        }
        let digits = position - digitsStart
        if digits > 0, !lettered, position < s.count, isLatinLetter(s[position]) {
            lettered = true
            position += 1
        }
        guard digits > 0 || lettered, position == s.count || !(isAlphanumeric(s[position]) || digit(s[position]) != nil) else { return nil }
        return (position, digits, arabic && digits > 0, lettered)
    }

    static func dwelling(in s: [Unicode.Scalar], at start: Int) -> Int? {
        var position = start
        var outer = false
        var room = false
        var elements = 0
        // Building, unit, floor and room: six elements are more than any home has, and the bound keeps
        // a text of a thousand 5栋 linear.
        while elements < 6, let token = addressToken(in: s, at: position) {
            elements += 1
            if token.end < s.count, "号单栋幢座楼梯层室房".unicodeScalars.contains(s[token.end]),
                let suffix = addressSuffixes.first(where: { matches($0.word, s, at: token.end) })
            {
                let end = token.end + suffix.word.count
                if suffix.level == .outer {
                    outer = true
                    position = end
                    // 3座 2单元, 5栋-1203
                    if position + 1 < s.count, s[position] == " " || s[position] == "-", addressToken(in: s, at: position + 1) != nil {
                        position += 1
                    }
                    continue
                }
                guard token.digits >= (outer ? 2 : 3) || (outer && token.lettered),
                    suffix.word != ["房"] || end == s.count || !notRoomAfterFang.contains(s[end])
                else { break }
                room = true
                position = end
                break
            }
            // A bare number after a building or unit is the room: 8号楼3单元402, 5栋2-1203, 5栋1203号.
            guard outer, token.arabic, !token.lettered else { break }
            var end = token.end
            var digits = token.digits
            if token.digits <= 2, end + 1 < s.count, s[end] == "-", isASCIIDigit(s[end + 1]) {
                var after = end + 1
                while after < s.count, isASCIIDigit(s[after]) { after += 1 }
                digits = after - end - 1
                end = after
            }
            guard (3...4).contains(digits),
                end == s.count || !(isAlphanumeric(s[end]) || measureWords.contains(s[end]) || s[end] == "." || s[end] == ":")
            else { break }
            if end < s.count, s[end] == "号", end + 1 == s.count || !"楼线院路".unicodeScalars.contains(s[end + 1]) { end += 1 }
            room = true
            position = end
            break
        }
        guard room, !endsWithAny(publicBuildingWords, s, before: start) else { return nil }
        if !outer {
            let from = max(0, start - 10)
            let home = residenceWords.contains { word in (from...max(from, start - word.count)).contains { matches(word, s, at: $0) } }
            guard home || endsWithAny(residenceSuffixes, s, before: start) else { return nil }
        }
        return position
    }

    /// 3-2-501: building, unit and room with hyphens. Dates start with their year (2026-11-25) and fail
    /// the lengths; a day-first 25-11-2026 would be taken for a room on the 20th floor.
    static func roomTriple(in s: [Unicode.Scalar], at start: Int) -> Int? {
        guard start == 0 || s[start - 1] != "第" else { return nil }
        var position = start
        func group(_ lengths: ClosedRange<Int>) -> Bool {
            let groupStart = position
            while position < s.count, isASCIIDigit(s[position]) { position += 1 }
            return lengths.contains(position - groupStart)
        }
        func dash() -> Bool {
            guard position < s.count, s[position] == "-" else { return false }
            position += 1
            return true
        }
        guard group(1...3), dash(), group(1...2), dash(), group(3...4),
            position == s.count || !(isAlphanumeric(s[position]) || s[position] == "-" || measureWords.contains(s[position])),
            !endsWithAny(publicBuildingWords, s, before: start)
        else { return nil }
        return position
    }

    // MARK: e-mail

    /// wang@163.com, zhang＠qq．com, zhang@qq。com, zhang at qq dot com.
    static func emailSpans(in s: [Unicode.Scalar]) -> [Span] {
        var spans: [Span] = []
        var index = 0
        while index < s.count {
            guard isLocalPartCharacter(s[index]), index == 0 || !isLocalPartCharacter(s[index - 1]) else {
                index += 1
                continue
            }
            var localEnd = index
            while localEnd < s.count, isLocalPartCharacter(s[localEnd]) { localEnd += 1 }
            if let at = atSignEnd(s, at: localEnd), let end = domainEnd(s, from: at.end, spelled: at.spelled) {
                spans.append((index..<end, emailLabel))
                index = end
            } else {
                index = localEnd
            }
        }
        return spans
    }

    static func atSignEnd(_ s: [Unicode.Scalar], at index: Int) -> (end: Int, spelled: Bool)? {
        guard index < s.count else { return nil }
        if s[index] == "@" { return (index + 1, false) }
        guard s[index] == " " || s[index] == "(" || s[index] == "[" || s[index] == "{" else { return nil }
        return spelledAtSigns.first { matches($0, s, at: index) }.map { (index + $0.count, true) }
    }

    /// The end of a domain of at least two labels whose last is two or more letters. Written out
    /// (at, dot, 。) it must end in a known top-level domain, or ordinary words would pass.
    static func domainEnd(_ s: [Unicode.Scalar], from start: Int, spelled: Bool) -> Int? {
        var position = start
        var labels = 0
        var lastLabel = start..<start
        while true {
            let labelStart = position
            while position < s.count, isAlphanumeric(s[position]) || s[position] == "-" { position += 1 }
            guard position > labelStart else { break }
            labels += 1
            lastLabel = labelStart..<position
            guard position < s.count else { break }
            var next: Int?
            var spelledDot = false
            if s[position] == "." {
                next = position + 1
            } else if s[position] == "。" || s[position] == " " || s[position] == "(" || s[position] == "[" || s[position] == "{" {
                next = s[position] == "。" ? position + 1 : spelledDots.first { matches($0, s, at: position) }.map { position + $0.count }
                spelledDot = true
            }
            guard let label = next, label < s.count, isAlphanumeric(s[label]) else { break }
            if spelledDot {
                var labelEnd = label
                while labelEnd < s.count, isAlphanumeric(s[labelEnd]) || s[labelEnd] == "-" { labelEnd += 1 }
                guard topLevelDomains.contains(string(s[label..<labelEnd])) else { break }
            }
            position = label
        }
        guard labels >= 2, lastLabel.count >= 2, s[lastLabel].allSatisfy(isLatinLetter) else { return nil }
        if spelled, !topLevelDomains.contains(string(s[lastLabel])) { return nil }
        return lastLabel.upperBound
    }

    static func isLocalPartCharacter(_ character: Unicode.Scalar) -> Bool {
        isAlphanumeric(character) || character == "." || character == "_" || character == "%" || character == "+" || character == "-"
    }
}
