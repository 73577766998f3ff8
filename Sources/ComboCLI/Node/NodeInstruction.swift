/// One line a `combo node` reads on standard input.
enum NodeInstruction: Equatable {
    case subscribe(topic: String)
    case unsubscribe(topic: String)
    case publish(topic: String, text: String)
    case direct(node: String, topic: String, text: String)
    case nodes
    case track(topic: String, key: String, status: String?)
    case untrack(topic: String, key: String)
    case list(topic: String)
    case quit

    /// The commands, for the usage line printed on a bad command.
    static let usage =
        "commands: subscribe TOPIC | unsubscribe TOPIC | publish TOPIC TEXT | direct NODE TOPIC TEXT | nodes"
        + " | track TOPIC KEY [STATUS] | untrack TOPIC KEY | list TOPIC | quit"

    /// The command's first word, as typed (the `command` label of
    /// `combo_node_command_failures_total`).
    var verb: String {
        switch self {
        case .subscribe: "subscribe"
        case .unsubscribe: "unsubscribe"
        case .publish: "publish"
        case .direct: "direct"
        case .nodes: "nodes"
        case .track: "track"
        case .untrack: "untrack"
        case .list: "list"
        case .quit: "quit"
        }
    }

    /// Parses a line; `nil` for a blank line.
    ///
    /// - Throws: a description of what is wrong with the line.
    static func parse(_ line: String) throws(NodeInstructionError) -> NodeInstruction? {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let verb = words.first else { return nil }
        func rest(from index: Int) -> String { words.dropFirst(index).joined(separator: " ") }
        switch (verb.lowercased(), words.count) {
        case ("subscribe", 2): return .subscribe(topic: String(words[1]))
        case ("unsubscribe", 2): return .unsubscribe(topic: String(words[1]))
        case ("publish", 3...): return .publish(topic: String(words[1]), text: rest(from: 2))
        case ("direct", 4...): return .direct(node: String(words[1]), topic: String(words[2]), text: rest(from: 3))
        case ("nodes", 1): return .nodes
        case ("track", 3): return .track(topic: String(words[1]), key: String(words[2]), status: nil)
        case ("track", 4...): return .track(topic: String(words[1]), key: String(words[2]), status: rest(from: 3))
        case ("untrack", 3): return .untrack(topic: String(words[1]), key: String(words[2]))
        case ("list", 2): return .list(topic: String(words[1]))
        case ("quit", 1), ("exit", 1): return .quit
        default: throw NodeInstructionError(line: line)
        }
    }
}

/// A line that is not a ``NodeInstruction``.
struct NodeInstructionError: Error, CustomStringConvertible {
    let line: String

    var description: String { "cannot understand \(line.debugDescription); \(NodeInstruction.usage)" }
}
