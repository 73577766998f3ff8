/// One subscription as the registry stores it: 16 bytes.
struct RegistryEntry: Sendable {
    let inbox: Inbox
    let metadata: MetadataBox?
}
