import Foundation
import Models

/// Finds, in one pass over a text, every phrase of a fixed set that the text contains
/// (Aho–Corasick over Unicode scalars). A rule set's phrases are searched together, so a clue
/// costs one pass per field however many rules there are.
struct PhraseMatcher: Sendable {
    /// Goto function: (state << 32 | scalar) → next state. State 0 is the root.
    private let transitions: [UInt64: Int32]
    /// Where to continue when a state has no transition for the next scalar.
    private let failure: [Int32]
    /// The phrases ending at each state, including those ending at its failure states.
    private let outputs: [[Int32]]
    let phraseCount: Int

    /// `phrases` in comparable form; a phrase's index is its id.
    init(phrases: [String]) {
        phraseCount = phrases.count
        var transitions: [UInt64: Int32] = [:]
        var children: [[(scalar: UInt32, state: Int32)]] = [[]]
        var outputs: [[Int32]] = [[]]
        for (id, phrase) in phrases.enumerated() where !phrase.isEmpty {
            var state: Int32 = 0
            for scalar in phrase.unicodeScalars {
                let key = Self.key(state, scalar.value)
                if let next = transitions[key] {
                    state = next
                } else {
                    let next = Int32(children.count)
                    children.append([])
                    outputs.append([])
                    children[Int(state)].append((scalar.value, next))
                    transitions[key] = next
                    state = next
                }
            }
            outputs[Int(state)].append(Int32(id))
        }
        // Breadth first, so a state's failure state (always shallower) is complete before it.
        var failure = [Int32](repeating: 0, count: children.count)
        var queue = children[0].map { $0.state }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            for (scalar, child) in children[Int(state)] {
                queue.append(child)
                var fallback = failure[Int(state)]
                while fallback != 0 && transitions[Self.key(fallback, scalar)] == nil {
                    fallback = failure[Int(fallback)]
                }
                let target = transitions[Self.key(fallback, scalar)] ?? 0
                failure[Int(child)] = target
                outputs[Int(child)] += outputs[Int(target)]
            }
        }
        self.transitions = transitions
        self.failure = failure
        self.outputs = outputs
    }

    private static func key(_ state: Int32, _ scalar: UInt32) -> UInt64 {
        UInt64(UInt32(bitPattern: state)) << 32 | UInt64(scalar)
    }

    /// Sets `bit` in `marks[id]` for every phrase `text` contains (`text` in comparable form).
    func mark(_ text: String, with bit: UInt8, in marks: inout [UInt8]) {
        var state: Int32 = 0
        for scalar in text.unicodeScalars {
            let value = scalar.value
            while true {
                if let next = transitions[Self.key(state, value)] {
                    state = next
                    break
                }
                if state == 0 { break }
                state = failure[Int(state)]
            }
            for id in outputs[Int(state)] { marks[Int(id)] |= bit }
        }
    }
}
