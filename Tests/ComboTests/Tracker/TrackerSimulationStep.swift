/// One random step of a ``TrackerSimulation``.
enum TrackerSimulationStep: Sendable, CustomStringConvertible {
    /// Tracks a key (or expects `alreadyTracked`).
    case join(node: Int, owner: Int, topic: Int, key: Int, value: Int)
    /// Stops tracking a key, if tracked.
    case leave(node: Int, owner: Int, topic: Int, key: Int)
    /// Stops tracking everything of an owner.
    case leaveOwner(node: Int, owner: Int)
    /// Updates a key's metadata, if tracked.
    case update(node: Int, owner: Int, topic: Int, key: Int, value: Int)
    /// Takes a node's delta and sends it to each peer: two bits of `fate` per
    /// peer say lost, once, or twice.
    case heartbeat(node: Int, fate: UInt64)
    /// Delivers one message waiting for `node`, chosen by `pick`: out of order.
    case deliver(node: Int, pick: Int)
    /// `to` asks `from` for what it lacks; `from` answers from its delta generations.
    case transfer(from: Int, to: Int)
    /// The node restarts: same name, new incarnation; the others forget the old one.
    case restart(node: Int)
    /// Each of two nodes marks the other down.
    case split(Int, Int)
    /// Each of two nodes marks the other up.
    case heal(Int, Int)
    /// `to` merges `from`'s whole state `budget` rows or values at a time,
    /// and `between` runs, one step after each merge step, what a shard
    /// allows meanwhile (a step that would merge into `to`, or restart it,
    /// is skipped).
    indirect case transferInSteps(from: Int, to: Int, budget: Int, between: [TrackerSimulationStep])

    var description: String {
        switch self {
        case .join(let node, let owner, let topic, let key, let value): "join(\(node),\(owner),t\(topic),k\(key),\(value))"
        case .leave(let node, let owner, let topic, let key): "leave(\(node),\(owner),t\(topic),k\(key))"
        case .leaveOwner(let node, let owner): "leaveOwner(\(node),\(owner))"
        case .update(let node, let owner, let topic, let key, let value): "update(\(node),\(owner),t\(topic),k\(key),\(value))"
        case .heartbeat(let node, let fate): "heartbeat(\(node),\(fate % 1024))"
        case .deliver(let node, let pick): "deliver(\(node),\(pick))"
        case .transfer(let from, let to): "transfer(\(from)->\(to))"
        case .restart(let node): "restart(\(node))"
        case .split(let a, let b): "split(\(a),\(b))"
        case .heal(let a, let b): "heal(\(a),\(b))"
        case .transferInSteps(let from, let to, let budget, let between):
            "transferInSteps(\(from)->\(to),\(budget),\(between))"
        }
    }
}
