// Hosts librdkafka's mock cluster: real Kafka brokers speaking the Kafka protocol over TCP on
// loopback, for local runs and tests where no Apache Kafka can be installed. Production uses
// Apache Kafka with the same client settings.
//
//   kafka-mock-broker [--brokers 3] [--bootstrap-file PATH] [--control-port 0] [--control-file PATH]
//
// Control: one command per line on the TCP control port, answered with one line:
//   down N | up N      take broker N (1-based) down or bring it back
//   rtt N MS           add MS milliseconds of round-trip time to broker N
//   topic NAME PARTITIONS [REPLICATION]
//                      create a topic (the mock has no CreateTopics API); an existing one is kept
//   bootstraps         print the bootstrap list
//   ping               answer "ok"
import CRdKafka
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("kafka-mock-broker: \(message)\n".utf8))
    exit(2)
}

struct Options {
    var brokers: Int32 = 3
    var bootstrapFile: String?
    var controlPort: UInt16 = 0
    var controlFile: String?

    init(arguments: [String]) {
        var rest = arguments.dropFirst()
        while let name = rest.popFirst() {
            if name == "--help" || name == "-h" {
                print("usage: kafka-mock-broker [--brokers N] [--bootstrap-file PATH] [--control-port PORT] [--control-file PATH]")
                exit(0)
            }
            guard let value = rest.popFirst() else { fail("\(name) needs a value") }
            switch name {
            case "--brokers":
                guard let count = Int32(value), count > 0 else { fail("--brokers must be a positive number") }
                brokers = count
            case "--bootstrap-file": bootstrapFile = value
            case "--control-port":
                guard let port = UInt16(value) else { fail("--control-port must be a port number") }
                controlPort = port
            case "--control-file": controlFile = value
            default: fail("unknown option \(name)")
            }
        }
    }
}

func writeAtomically(_ text: String, to path: String) {
    let temporary = path + ".tmp"
    do {
        try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else { fail("cannot write \(path)") }
    } catch {
        fail("cannot write \(path): \(error)")
    }
}

let options = Options(arguments: CommandLine.arguments)

// Signals are taken with sigwait on the main thread; block them before any thread starts.
var signals = sigset_t()
sigemptyset(&signals)
sigaddset(&signals, SIGTERM)
sigaddset(&signals, SIGINT)
pthread_sigmask(SIG_BLOCK, &signals, nil)

var errorText = [CChar](repeating: 0, count: 512)
let conf = rd_kafka_conf_new()
guard let host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorText, errorText.count) else {
    fail("cannot create the hosting client: \(errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })")
}
guard let clusterHandle = rd_kafka_mock_cluster_new(host, options.brokers) else {
    fail("cannot create the mock cluster")
}

/// The mock cluster's functions are thread-safe, so the control thread may call them.
final class MockCluster: @unchecked Sendable {
    let cluster: OpaquePointer
    let brokers: Int32
    let bootstraps: String

    init(cluster: OpaquePointer, brokers: Int32) {
        self.cluster = cluster
        self.brokers = brokers
        self.bootstraps = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    /// Handles one control line.
    func control(_ line: String) -> String {
        let words = line.split(separator: " ").map(String.init)
        func broker(_ index: Int) -> Int32? {
            guard words.count > index, let id = Int32(words[index]), (1...brokers).contains(id) else { return nil }
            return id
        }
        switch words.first {
        case "ping": return "ok"
        case "bootstraps": return "ok \(bootstraps)"
        case "down", "up":
            guard let id = broker(1) else { return "error broker must be 1...\(brokers)" }
            let code = words[0] == "down" ? rd_kafka_mock_broker_set_down(cluster, id) : rd_kafka_mock_broker_set_up(cluster, id)
            say("broker \(id) \(words[0])")
            return code == RD_KAFKA_RESP_ERR_NO_ERROR ? "ok" : "error \(String(cString: rd_kafka_err2str(code)))"
        case "rtt":
            guard let id = broker(1), words.count > 2, let milliseconds = Int32(words[2]) else { return "error usage: rtt BROKER MS" }
            let code = rd_kafka_mock_broker_set_rtt(cluster, id, milliseconds)
            return code == RD_KAFKA_RESP_ERR_NO_ERROR ? "ok" : "error \(String(cString: rd_kafka_err2str(code)))"
        case "topic":
            guard words.count >= 3, let partitions = Int32(words[2]), partitions > 0 else {
                return "error usage: topic NAME PARTITIONS [REPLICATION]"
            }
            let replication = words.count > 3 ? Int32(words[3]) ?? brokers : min(3, brokers)
            let code = rd_kafka_mock_topic_create(cluster, words[1], partitions, min(replication, brokers))
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS else {
                return "error \(String(cString: rd_kafka_err2str(code)))"
            }
            return "ok"
        default:
            return "error unknown command (down N, up N, rtt N MS, topic NAME PARTITIONS [RF], bootstraps, ping)"
        }
    }
}

let mock = MockCluster(cluster: clusterHandle, brokers: options.brokers)
let bootstraps = mock.bootstraps

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

// The control port: loopback only, one connection at a time is plenty for scripts and tests.
let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
guard listener >= 0 else { fail("cannot open the control socket") }
var reuse: Int32 = 1
setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
var address = sockaddr_in()
address.sin_family = sa_family_t(AF_INET)
address.sin_port = options.controlPort.bigEndian
address.sin_addr.s_addr = inet_addr("127.0.0.1")
let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
}
guard bound == 0, listen(listener, 8) == 0 else { fail("cannot listen on control port \(options.controlPort)") }
var boundAddress = sockaddr_in()
var boundLength = socklen_t(MemoryLayout<sockaddr_in>.size)
_ = withUnsafeMutablePointer(to: &boundAddress) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &boundLength) }
}
let controlPort = UInt16(bigEndian: boundAddress.sin_port)

let controlThread = Thread {
    while true {
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { continue }
        // One connection at a time: one that goes quiet (its client gone, the socket kept open by
        // a process it started) must not hold the port for good.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var pending = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 1024)
        reading: while true {
            let count = read(connection, &buffer, buffer.count)
            if count <= 0 { break }
            pending.append(contentsOf: buffer[0..<count])
            while let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<newline], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                pending.removeSubrange(...newline)
                let answer = Array((mock.control(line) + "\n").utf8)
                if write(connection, answer, answer.count) < 0 { break reading }
            }
        }
        close(connection)
    }
}
controlThread.start()

if let path = options.bootstrapFile { writeAtomically(bootstraps, to: path) }
if let path = options.controlFile { writeAtomically("127.0.0.1:\(controlPort)", to: path) }
say("mock Kafka cluster: \(options.brokers) brokers at \(bootstraps); control on 127.0.0.1:\(controlPort)")

var received: Int32 = 0
sigwait(&signals, &received)
say("stopping mock Kafka cluster (signal \(received))")
if let path = options.bootstrapFile { unlink(path) }
if let path = options.controlFile { unlink(path) }
rd_kafka_mock_cluster_destroy(clusterHandle)
rd_kafka_destroy(host)
exit(0)
