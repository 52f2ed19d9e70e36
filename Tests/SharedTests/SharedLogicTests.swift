import Foundation
import Messaging
import Models
import ServiceKit
import Storage
import Testing

@Suite struct SQLScriptTests {
    @Test func splitsAtTopLevelSemicolonsOnly() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'a;b');
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
            CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 2; END $body$;
            /* block; comment */ SELECT "odd;name" FROM a;
            -- trailing comment only
            """
        let statements = SQLScript.statements(in: script)
        #expect(statements.count == 4)
        #expect(statements[0].hasSuffix("CREATE TABLE a (x text DEFAULT 'a;b')"))
        #expect(statements[1] == "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$")
        #expect(statements[2] == "CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 2; END $body$")
        #expect(statements[3] == #"/* block; comment */ SELECT "odd;name" FROM a"#)
    }

    @Test func bundledMigrationsAreNumberedInOrder() {
        let migrations = Migrator.bundled()
        #expect(!migrations.isEmpty)
        #expect(migrations.map(\.version) == Array(1...migrations.count))
    }
}

@Suite struct ConfigurationTests {
    let valid = [
        "DATABASE_URL": "postgres://proposals:secret@127.0.0.1:5432/proposals",
        "KAFKA_BROKERS": "127.0.0.1:9092,127.0.0.1:9093",
        "TOKEN_SECRET": String(repeating: "k", count: 32),
    ]

    @Test func readsAValidEnvironment() throws {
        var environment = valid
        environment["TRIAGE_HTTP_PORT"] = "9000"
        environment["LOG_FORMAT"] = "json"
        environment["KAFKA_PROPERTIES"] = "security.protocol=SASL_SSL;sasl.mechanisms=PLAIN"
        let configuration = try ServiceConfiguration.fromEnvironment(.triage, environment: environment)
        #expect(configuration.httpPort == 9000)
        #expect(configuration.logFormat == .json)
        #expect(configuration.database.port == 5432)
        #expect(configuration.database.password == "secret")
        #expect(configuration.kafka.brokers == ["127.0.0.1:9092", "127.0.0.1:9093"])
        #expect(configuration.kafka.properties == ["security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN"])
        #expect(try ServiceConfiguration.fromEnvironment(.intake, environment: valid).httpPort == 8081)
    }

    @Test func namesEveryBadVariableOnItsOwnLine() {
        let environment = [
            "DATABASE_URL": "mysql://nowhere",
            "KAFKA_BROKERS": "localhost",
            "TOKEN_SECRET": "short",
            "HTTP_PORT": "eighty",
            "LOG_LEVEL": "loud",
        ]
        #expect {
            try ServiceConfiguration.fromEnvironment(.intake, environment: environment)
        } throws: { error in
            let lines = (error as? ConfigurationError)?.description.split(separator: "\n").map(String.init) ?? []
            let named = ["HTTP_PORT", "DATABASE_URL", "KAFKA_BROKERS", "LOG_LEVEL", "TOKEN_SECRET"]
            return lines.count == named.count && named.allSatisfy { name in lines.contains { $0.hasPrefix("configuration error: \(name):") } }
        }
    }

    @Test func missingRequiredVariablesAreNamed() {
        #expect {
            try ServiceConfiguration.fromEnvironment(.intake, environment: [:])
        } throws: { error in
            let text = (error as? ConfigurationError)?.description ?? ""
            return text.contains("DATABASE_URL: required") && text.contains("KAFKA_BROKERS: required") && text.contains("TOKEN_SECRET: required")
        }
    }
}

@Suite struct CredentialTests {
    let signer = StaffTokenSigner(secret: String(repeating: "s", count: 40))
    let claims = StaffClaims(
        subject: "li.lei", role: .clueHandler, district: DistrictCode(rawValue: "haizhu")!, expiresAt: Date().addingTimeInterval(3600))

    @Test func aSignedTokenVerifies() throws {
        let token = try signer.token(for: claims)
        #expect(signer.verify(token)?.subject == "li.lei")
        #expect(signer.verify(token)?.district.rawValue == "haizhu")
    }

    @Test func tamperedExpiredOrForeignTokensAreRefused() throws {
        let token = try signer.token(for: claims)
        var parts = token.split(separator: ".").map(String.init)
        var forged = claims
        forged.role = .administrator
        parts[1] = String(try StaffTokenSigner(secret: "x").token(for: forged).split(separator: ".")[1])
        #expect(signer.verify(parts.joined(separator: ".")) == nil)
        #expect(signer.verify(token, now: Date().addingTimeInterval(7200)) == nil)
        #expect(StaffTokenSigner(secret: String(repeating: "t", count: 40)).verify(token) == nil)
        #expect(signer.verify("v1.garbage") == nil)
    }

    @Test func requestSignatureCoversMethodPathTimeNonceAndBody() {
        let base = RequestSignature.sign(secret: "k", method: "POST", path: "/v1/clues", timestamp: "1", nonce: "n", body: Data("{}".utf8))
        #expect(base.count == 64)
        #expect(base == RequestSignature.sign(secret: "k", method: "POST", path: "/v1/clues", timestamp: "1", nonce: "n", body: Data("{}".utf8)))
        #expect(base != RequestSignature.sign(secret: "k", method: "PUT", path: "/v1/clues", timestamp: "1", nonce: "n", body: Data("{}".utf8)))
        #expect(base != RequestSignature.sign(secret: "k", method: "POST", path: "/v1/clue", timestamp: "1", nonce: "n", body: Data("{}".utf8)))
        #expect(base != RequestSignature.sign(secret: "k", method: "POST", path: "/v1/clues", timestamp: "2", nonce: "n", body: Data("{}".utf8)))
        #expect(base != RequestSignature.sign(secret: "k", method: "POST", path: "/v1/clues", timestamp: "1", nonce: "m", body: Data("{}".utf8)))
        #expect(base != RequestSignature.sign(secret: "k", method: "POST", path: "/v1/clues", timestamp: "1", nonce: "n", body: Data("{ }".utf8)))
    }
}

@Suite struct MessagingLogicTests {
    @Test func shardsAreStableAndSpread() {
        #expect(Outbox.shard(of: "a") == Outbox.shard(of: "a"))
        let shards = Set((0..<1000).map { Outbox.shard(of: "proposal-\($0)") })
        #expect(shards == Set(0..<Int16(Outbox.shardCount)))
    }

    @Test func deadLetterKeepsTheMessageAndSaysWhy() {
        let original = KafkaMessage(
            topic: "p-intake-events", partition: 4, offset: 77, key: Data("k".utf8), value: Data("oops".utf8),
            headers: [KafkaHeader(name: "event-type", string: "clue.received")])
        let letter = DeadLetter.message(for: original, reason: "malformed JSON", consumerGroup: "triage")
        #expect(letter.topic == "p-intake-events.dlq")
        #expect(letter.key == original.key)
        #expect(letter.value == original.value)
        let headers = Dictionary(uniqueKeysWithValues: letter.headers.map { ($0.name, $0.stringValue ?? "") })
        #expect(headers["dlq-reason"] == "malformed JSON")
        #expect(headers["dlq-origin-topic"] == "p-intake-events")
        #expect(headers["dlq-origin-partition"] == "4")
        #expect(headers["dlq-origin-offset"] == "77")
        #expect(headers["dlq-consumer-group"] == "triage")
        #expect(headers["event-type"] == "clue.received")
    }

    @Test func databaseURLsParse() {
        let configuration = DatabaseConfiguration(url: "postgres://u:p%40ss@db.example:6543/store?sslmode=require")
        #expect(configuration?.host == "db.example")
        #expect(configuration?.port == 6543)
        #expect(configuration?.password == "p@ss")
        #expect(configuration?.database == "store")
        #expect(configuration?.requireTLS == true)
        #expect(DatabaseConfiguration(url: "postgres://u@host") == nil)
        #expect(DatabaseConfiguration(url: "http://u@host/db") == nil)
    }
}
