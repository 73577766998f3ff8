/// Which end of a connection a node is: the one that dialled or the one that accepted.
///
/// Part of every proof, so that a proof made by one end can never be replayed as the other's.
enum MeshRole: UInt8, Sendable {
    case dialer = 1
    case listener = 2
}
