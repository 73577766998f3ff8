/// The encoder returned by `superEncoder()`: it writes the value of the `super` key (or array
/// position) that was reserved when it was created.
///
/// Unlike the shared context, its lifetime is not bounded by a call of the codec, so it carries its
/// own slot. If it is never used, or used only after its container moved on, the reserved position
/// receives an empty map (as with JSONEncoder) and later use is reported as an error.
final class MessagePackSuperEncoder: Encoder {
    let context: MessagePackEncodingContext
    var slot: MessagePackEncodingContext.Slot
    let codingPath: [any CodingKey]

    init(context: MessagePackEncodingContext, slot: MessagePackEncodingContext.Slot) {
        self.context = context
        self.slot = slot
        self.codingPath = context.path(throughFrame: slot.parentIndex)
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let (index, id) = context.openContainer(isMap: true, slot: &slot, isSuperSlot: true)
        return KeyedEncodingContainer(MessagePackKeyedEncodingContainer<Key>(context: context, frameIndex: index, frameID: id))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let (index, id) = context.openContainer(isMap: false, slot: &slot, isSuperSlot: true)
        return MessagePackUnkeyedEncodingContainer(context: context, frameIndex: index, frameID: id)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        context.claimSingleValue(slot: &slot)
        return MessagePackSingleValueEncodingContainer(context: context, superEncoder: self, slotID: slot.id)
    }
}
