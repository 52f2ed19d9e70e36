import CRdKafka
import Foundation
import Logging
import Synchronization

/// The one owner of a librdkafka handle and the only place that touches its C pointers.
/// librdkafka handles are thread-safe, hence `@unchecked Sendable`.
final class RDKafkaClient: @unchecked Sendable {
    enum Kind { case producer, consumer }

    let handle: OpaquePointer
    let context: Unmanaged<ClientContext>
    private let destroyed = Atomic<Bool>(false)

    /// State that C callbacks reach through the client's opaque pointer.
    final class ClientContext: Sendable {
        let logger: Logger
        let assignment = Mutex<Set<TopicPartition>>([])
        let rebalances = Atomic<Int>(0)

        init(logger: Logger) { self.logger = logger }
    }

    init(kind: Kind, properties: [String: String], logger: Logger) throws(KafkaError) {
        let conf = rd_kafka_conf_new()!
        var errorText = [CChar](repeating: 0, count: 512)
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, name, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(code: -1, message: "invalid Kafka setting \(name): \(text(errorText))")
            }
        }
        let context = Unmanaged.passRetained(ClientContext(logger: logger))
        rd_kafka_conf_set_opaque(conf, context.toOpaque())
        rd_kafka_conf_set_log_cb(conf) { client, level, facility, message in
            guard let client, let opaque = rd_kafka_opaque(client) else { return }
            let context = Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
            let text = "\(facility.map { String(cString: $0) } ?? "rdkafka"): \(message.map { String(cString: $0) } ?? "")"
            switch level {
            case 0...3: context.logger.error("\(text)")
            case 4: context.logger.warning("\(text)")
            case 5, 6: context.logger.info("\(text)")
            default: context.logger.debug("\(text)")
            }
        }
        rd_kafka_conf_set_error_cb(conf) { client, code, reason, opaque in
            guard let opaque else { return }
            let context = Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
            let name = String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(code)))
            context.logger.warning("Kafka client error \(name): \(reason.map { String(cString: $0) } ?? "")")
        }
        switch kind {
        case .producer:
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
                guard let message, let ticket = message.pointee._private else { return }
                let delivery = Unmanaged<DeliveryTicket>.fromOpaque(ticket).takeRetainedValue()
                let report = message.pointee
                if report.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    let topic = String(cString: rd_kafka_topic_name(report.rkt))
                    delivery.complete(.success(DeliveryReport(topic: topic, partition: report.partition, offset: report.offset)))
                } else {
                    delivery.complete(.failure(RDKafkaClient.error(report.err)))
                }
            }
        case .consumer:
            rd_kafka_conf_set_rebalance_cb(conf) { client, code, partitions, opaque in
                guard let client, let opaque else { return }
                let context = Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
                RDKafkaClient.rebalance(client: client, code: code, partitions: partitions, context: context)
            }
        }

        let type = kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER
        // rd_kafka_new takes ownership of conf on success only.
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            context.release()
            throw KafkaError(code: -1, message: "cannot create Kafka client: \(text(errorText))")
        }
        self.handle = handle
        self.context = context
        if kind == .consumer {
            rd_kafka_poll_set_consumer(handle)
        }
    }

    deinit { destroy() }

    func destroy() {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        rd_kafka_destroy(handle)
        context.release()
    }

    var assignment: Set<TopicPartition> { context.takeUnretainedValue().assignment.withLock { $0 } }
    var rebalanceCount: Int { context.takeUnretainedValue().rebalances.load(ordering: .relaxed) }

    static func error(_ code: rd_kafka_resp_err_t) -> KafkaError {
        KafkaError(code: code.rawValue, message: String(cString: rd_kafka_err2str(code)))
    }

    static func partitions(of list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartition] {
        guard let list else { return [] }
        return (0..<Int(list.pointee.cnt)).map { index in
            let element = list.pointee.elems[index]
            return TopicPartition(topic: String(cString: element.topic), partition: element.partition)
        }
    }

    /// Applies a rebalance on librdkafka's request, for both the eager and the cooperative protocol.
    private static func rebalance(
        client: OpaquePointer, code: rd_kafka_resp_err_t,
        partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, context: ClientContext
    ) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(client)) == "COOPERATIVE"
        let changed = Self.partitions(of: partitions)
        context.rebalances.add(1, ordering: .relaxed)
        switch code {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if cooperative {
                if let error = rd_kafka_incremental_assign(client, partitions) { rd_kafka_error_destroy(error) }
            } else {
                rd_kafka_assign(client, partitions)
            }
            context.assignment.withLock { current in
                if !cooperative { current.removeAll() }
                current.formUnion(changed)
            }
            context.logger.info("partitions assigned", metadata: ["partitions": "\(changed.sorted().map(\.description))"])
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            // Offsets were committed after each batch's transaction, so nothing is pending here.
            if cooperative {
                if let error = rd_kafka_incremental_unassign(client, partitions) { rd_kafka_error_destroy(error) }
            } else {
                rd_kafka_assign(client, nil)
            }
            context.assignment.withLock { current in
                if cooperative { current.subtract(changed) } else { current.removeAll() }
            }
            context.logger.info("partitions revoked", metadata: ["partitions": "\(changed.sorted().map(\.description))"])
        default:
            context.logger.error("rebalance failed: \(String(cString: rd_kafka_err2str(code)))")
            rd_kafka_assign(client, nil)
            context.assignment.withLock { $0.removeAll() }
        }
    }

    // MARK: Producing

    /// Enqueues one message; `ticket` is completed from the delivery report.
    func produce(_ message: OutgoingMessage, ticket: DeliveryTicket) -> KafkaError? {
        let opaque = Unmanaged.passRetained(ticket).toOpaque()
        var headers: OpaquePointer? = nil
        if !message.headers.isEmpty {
            headers = rd_kafka_headers_new(message.headers.count)
            for header in message.headers {
                if let value = header.value {
                    _ = value.withUnsafeBytes { rd_kafka_header_add(headers, header.name, -1, $0.baseAddress, $0.count) }
                } else {
                    rd_kafka_header_add(headers, header.name, -1, nil, 0)
                }
            }
        }
        let key = message.key ?? Data()
        let error: OpaquePointer? = message.topic.withCString { topic in
            message.value.withUnsafeBytes { value in
                key.withUnsafeBytes { keyBytes in
                    var values = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 6)
                    values[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    values[0].u.cstr = topic
                    values[1].vtype = RD_KAFKA_VTYPE_VALUE
                    values[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                    values[1].u.mem.size = value.count
                    values[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    values[2].u.i = RD_KAFKA_MSG_F_COPY
                    values[3].vtype = RD_KAFKA_VTYPE_OPAQUE
                    values[3].u.ptr = opaque
                    var count = 4
                    if message.key != nil {
                        values[count].vtype = RD_KAFKA_VTYPE_KEY
                        values[count].u.mem.ptr = UnsafeMutableRawPointer(mutating: keyBytes.baseAddress)
                        values[count].u.mem.size = keyBytes.count
                        count += 1
                    }
                    if let headers {
                        values[count].vtype = RD_KAFKA_VTYPE_HEADERS
                        values[count].u.headers = headers
                        count += 1
                    }
                    return rd_kafka_produceva(handle, values, count)
                }
            }
        }
        guard let error else { return nil }
        // On failure nothing took ownership: release the ticket and the headers.
        Unmanaged<DeliveryTicket>.fromOpaque(opaque).release()
        if let headers { rd_kafka_headers_destroy(headers) }
        let code = rd_kafka_error_code(error)
        rd_kafka_error_destroy(error)
        return Self.error(code)
    }

    /// Serves delivery reports and other callbacks for up to `milliseconds`.
    func poll(milliseconds: Int32) {
        rd_kafka_poll(handle, milliseconds)
    }

    func flush(milliseconds: Int32) -> KafkaError? {
        let code = rd_kafka_flush(handle, milliseconds)
        return code == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : Self.error(code)
    }

    // MARK: Consuming

    func subscribe(to topics: [String]) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
        }
        let code = rd_kafka_subscribe(handle, list)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw Self.error(code) }
    }

    enum PollResult {
        case message(KafkaMessage)
        case error(KafkaError)
        case none
    }

    /// Blocks for up to `milliseconds`; call from a thread that may block.
    func consumerPoll(milliseconds: Int32) -> PollResult {
        guard let message = rd_kafka_consumer_poll(handle, milliseconds) else { return .none }
        defer { rd_kafka_message_destroy(message) }
        let raw = message.pointee
        if raw.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            return .error(Self.error(raw.err))
        }
        let topic = String(cString: rd_kafka_topic_name(raw.rkt))
        let value = raw.payload.map { Data(bytes: $0, count: raw.len) } ?? Data()
        let key = raw.key.map { Data(bytes: $0, count: raw.key_len) }
        var headers: [KafkaHeader] = []
        var headerList: OpaquePointer? = nil
        if rd_kafka_message_headers(message, &headerList) == RD_KAFKA_RESP_ERR_NO_ERROR, let headerList {
            var index = 0
            var name: UnsafePointer<CChar>? = nil
            var headerValue: UnsafeRawPointer? = nil
            var size = 0
            while rd_kafka_header_get_all(headerList, index, &name, &headerValue, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(
                    KafkaHeader(
                        name: name.map { String(cString: $0) } ?? "",
                        value: headerValue.map { Data(bytes: $0, count: size) }))
                index += 1
            }
        }
        return .message(KafkaMessage(topic: topic, partition: raw.partition, offset: raw.offset, key: key, value: value, headers: headers))
    }

    /// Commits `offsets` (the next offset to read, per partition) synchronously.
    func commit(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (partition, offset) in offsets {
            let element = rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)!
            element.pointee.offset = offset
        }
        let code = rd_kafka_commit(handle, list, 0)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw Self.error(code) }
    }

    /// Reads the given partitions from the given offsets without joining a group (readers of
    /// dead-letter topics and replays); replaces any earlier assignment.
    func assign(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        let list = Self.list(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let code = rd_kafka_assign(handle, list)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw Self.error(code) }
    }

    /// The offsets the client's group (its `group.id`) committed for `partitions`; a partition
    /// without a commit is absent. Blocks for up to `timeoutMilliseconds`.
    func committed(_ partitions: [TopicPartition], timeoutMilliseconds: Int32) throws(KafkaError) -> [TopicPartition: Int64] {
        let list = Self.list(Dictionary(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }, uniquingKeysWith: { first, _ in first }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let code = rd_kafka_committed(handle, list, timeoutMilliseconds)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw Self.error(code) }
        return Self.offsets(of: list).filter { $0.value >= 0 }
    }

    /// The next offset this consumer will fetch in each of `partitions` it knows one for.
    func positions(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        let list = Self.list(Dictionary(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }, uniquingKeysWith: { first, _ in first }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard rd_kafka_position(handle, list) == RD_KAFKA_RESP_ERR_NO_ERROR else { return [:] }
        return Self.offsets(of: list).filter { $0.value >= 0 }
    }

    private static func list(_ offsets: [TopicPartition: Int64]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(max(1, offsets.count)))!
        for (partition, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)!.pointee.offset = offset
        }
        return list
    }

    private static func offsets(of list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for index in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            guard element.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            result[TopicPartition(topic: String(cString: element.topic), partition: element.partition)] = element.offset
        }
        return result
    }

    /// Leaves the group; blocks until done.
    func closeConsumer() {
        rd_kafka_consumer_close(handle)
    }

    // MARK: Admin and metadata

    struct TopicMetadata: Sendable {
        var name: String
        var partitions: Int
        /// The broker id leading each partition, by partition.
        var leaders: [Int32: Int32]
        var error: KafkaError?
    }

    /// Topics and their partition counts; also the cheapest proof that a broker answers.
    func metadata(timeoutMilliseconds: Int32) throws(KafkaError) -> [TopicMetadata] {
        var pointer: UnsafePointer<rd_kafka_metadata>? = nil
        let code = rd_kafka_metadata(handle, 1, nil, &pointer, timeoutMilliseconds)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let pointer else { throw Self.error(code) }
        defer { rd_kafka_metadata_destroy(pointer) }
        let metadata = pointer.pointee
        return (0..<Int(metadata.topic_cnt)).map { index in
            let topic = metadata.topics[index]
            let leaders = (0..<Int(topic.partition_cnt)).map { (topic.partitions[$0].id, topic.partitions[$0].leader) }
            return TopicMetadata(
                name: String(cString: topic.topic), partitions: Int(topic.partition_cnt),
                leaders: Dictionary(leaders, uniquingKeysWith: { first, _ in first }),
                error: topic.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : Self.error(topic.err))
        }
    }

    func watermarks(topic: String, partition: Int32, timeoutMilliseconds: Int32) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        let code = rd_kafka_query_watermark_offsets(handle, topic, partition, &low, &high, timeoutMilliseconds)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw Self.error(code) }
        return (low, high)
    }

    /// Creates topics; those that already exist count as created.
    func createTopics(_ topics: [(name: String, partitions: Int, replicationFactor: Int)], timeoutMilliseconds: Int32) throws(KafkaError) {
        var errorText = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for topic in topics {
            guard
                let newTopic = rd_kafka_NewTopic_new(topic.name, Int32(topic.partitions), Int32(topic.replicationFactor), &errorText, errorText.count)
            else {
                throw KafkaError(code: -1, message: "topic \(topic.name): \(text(errorText))")
            }
            newTopics.append(newTopic)
        }
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
        rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds + 1000) else {
            throw KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, message: "creating topics timed out")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(code: eventError.rawValue, message: String(cString: rd_kafka_event_error_string(event)))
        }
        var count = 0
        guard let result = rd_kafka_event_CreateTopics_result(event),
            let results = rd_kafka_CreateTopics_result_topics(result, &count)
        else { return }
        for index in 0..<count {
            let code = rd_kafka_topic_result_error(results[index])
            if code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                let name = String(cString: rd_kafka_topic_result_name(results[index]))
                let reason = rd_kafka_topic_result_error_string(results[index]).map { String(cString: $0) } ?? ""
                throw KafkaError(code: code.rawValue, message: "topic \(name): \(reason)")
            }
        }
    }
}

/// The text of a NUL-terminated buffer librdkafka wrote an error into.
func text(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// Completes when librdkafka reports a message delivered or failed.
final class DeliveryTicket: Sendable {
    private let onComplete: @Sendable (Result<DeliveryReport, KafkaError>) -> Void

    init(_ onComplete: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void) {
        self.onComplete = onComplete
    }

    func complete(_ result: Result<DeliveryReport, KafkaError>) { onComplete(result) }
}
