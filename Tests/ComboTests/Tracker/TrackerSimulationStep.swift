/// One random step of a ``TrackerSimulation``.
enum TrackerSimulationStep: Sendable, CustomStringConvertible {
    case join(node: Int, owner: Int, topic: Int, key: Int, value: Int)
    case leave(node: Int, owner: Int, topic: Int, key: Int)
    case leaveOwner(node: Int, owner: Int)
    case update(node: Int, owner: Int, topic: Int, key: Int, value: Int)
    /// Takes a node's delta and sends it to each peer: two bits of `fate` per
    /// peer say lost, once, or twice.
    case heartbeat(node: Int, fate: UInt64)
    /// Delivers one message waiting for `node`, chosen by `pick`: out of order.
    case deliver(node: Int, pick: Int)
    case transfer(from: Int, to: Int)
    case restart(node: Int)
    case split(Int, Int)
    case heal(Int, Int)

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
        }
    }
}
