/// The decoder returned by `superDecoder()`: it stands for one value of a container (the `super`
/// key, another key, or an array element) and can be used after further reads from that container.
final class MessagePackSuperDecoder: Decoder {
    let context: MessagePackDecodingContext
    let offset: Int
    let parent: Int
    let codingPath: [any CodingKey]

    init(context: MessagePackDecodingContext, offset: Int, parent: Int) {
        self.context = context
        self.offset = offset
        self.parent = parent
        self.codingPath = context.path(through: parent)
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        try context.keyedContainer(at: offset, parent: parent)
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try context.unkeyedContainer(at: offset, parent: parent)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        MessagePackSingleValueDecodingContainer(context: context, offset: offset, parent: parent)
    }
}
