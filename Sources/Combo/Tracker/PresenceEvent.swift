/// What a ``PresenceEvents`` sequence yields.
public enum PresenceEvent: Hashable, Sendable {
    /// The presences of the watched topics at the moment listening began: the
    /// first event, always. Empty topics are absent.
    case snapshot([String: [Presence]])
    /// A change after the snapshot (or after the previous diff).
    case diff(PresenceDiff)
}
