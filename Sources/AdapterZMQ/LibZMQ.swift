import CZMQ

/// Facts about the libzmq library this module is linked against (the adapter
/// needs 4.x, and CURVE for authenticated clusters).
public enum LibZMQ {
    /// The linked libzmq version as `(major, minor, patch)`.
    public static var version: (major: Int, minor: Int, patch: Int) {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (Int(major), Int(minor), Int(patch))
    }

    /// Whether the linked libzmq was built with CURVE security (needed for authenticated clusters).
    public static var hasCurve: Bool {
        zmq_has("curve") != 0
    }
}
