import EventPipeline
import Foundation
import Logging
import Models
import Mustache
import ServiceKit
import Storage

/// Publicity (宣传、公开): the public read model built from every lifecycle event, the portal and
/// open data residents read, and the notifications that tell submitters and proposers of outcomes.
public enum PublicityService {
    public static let definition = definition(channels: [:])

    /// The service with extra notification channels (SMS, WeChat) beside the webhook ones.
    public static func definition(channels extra: [String: any NotificationChannel]) -> ServiceDefinition {
        ServiceDefinition(
            name: .publicity,
            handler: { parts in
                let settings = parts.settings(as: PublicitySettings.self)
                return PublicProjection(notifies: true, mail: settings.mail, workbenchURL: settings.workbenchURL, links: parts.tokens)
            },
            settings: PublicitySettings.self,
            background: { parts in
                let settings = parts.settings(as: PublicitySettings.self)
                let webhook = WebhookChannel(timeout: TimeInterval(settings.webhookTimeoutSeconds), targets: settings.targets, logger: parts.logger)
                var channels: [String: any NotificationChannel] = ["webhook": webhook, "integration-callback": webhook]
                if let mail = settings.mail { channels["email"] = MailChannel(settings: mail, logger: parts.logger) }
                channels.merge(extra) { _, new in new }
                let retention = PeriodicJob("pruning delivered notifications", every: .seconds(3_600), firstAfter: .seconds(60), logger: parts.logger)
                {
                    try await NotificationRetention.prune(olderThan: settings.notificationRetentionDays, in: parts.database)
                }
                return [
                    retention,
                    NotificationDispatcher(
                        database: parts.database, channels: channels,
                        policy: RetryPolicy(maximumAttempts: settings.maximumAttempts, base: TimeInterval(settings.retryBaseSeconds)),
                        timeout: TimeInterval(settings.webhookTimeoutSeconds), concurrency: settings.deliveryConcurrency,
                        interval: .milliseconds(settings.notifyIntervalMilliseconds), logger: parts.logger),
                ]
            },
            routes: { router, parts in
                let settings = parts.settings(as: PublicitySettings.self)
                let queries = PortalRepository(database: parts.database, lifetime: .seconds(settings.pageCacheSeconds))
                let portal = PortalController(
                    queries: queries, templates: templates(logger: parts.logger),
                    cache: PageCache(lifetime: .seconds(settings.pageCacheSeconds)))
                portal.register(on: router)
                OpenDataController(queries: queries, portal: portal, publicURL: settings.publicURL).register(on: router)
                PublicityController(
                    database: parts.database, signer: parts.tokens, targets: settings.targets,
                    adapters: Set(extra.keys).union(["webhook"])
                ).register(on: router)
                InboxController(inbox: StaffNoticeRepository(database: parts.database), signer: parts.tokens).register(on: router)
            })
    }

    /// The portal's templates, shipped with the module.
    static func templates(logger: Logger) -> MustacheLibrary {
        var library = MustacheLibrary()
        let names = ["base", "home", "feedback", "proposal", "calls", "track", "statistics", "showcase", "problem", "opendata"]
        for name in names {
            guard let url = Bundle.module.url(forResource: name, withExtension: "mustache", subdirectory: "templates"),
                let text = try? String(contentsOf: url, encoding: .utf8)
            else {
                logger.critical("portal template missing", metadata: ["template": "\(name)"])
                continue
            }
            do {
                try library.register(text, named: name)
            } catch {
                logger.critical("portal template does not parse", metadata: ["template": "\(name)", "error": "\(error)"])
            }
        }
        return library
    }
}

/// The service's own environment settings (all optional).
struct PublicitySettings: ServiceSettings {
    /// Seconds a rendered public page is reused; 0 renders every request.
    var pageCacheSeconds: Int
    /// The portal's address as residents reach it, for absolute links in the Atom feed.
    var publicURL: String
    var webhookTimeoutSeconds: Int
    /// Attempts before a notification is dead-lettered.
    var maximumAttempts: Int
    /// The first retry's delay; each further one doubles (at most six hours).
    var retryBaseSeconds: Int
    var deliveryConcurrency: Int
    var notifyIntervalMilliseconds: Int
    /// Hosts taken as they are: `http` and private addresses allowed (see NotificationTargets).
    var targets: NotificationTargets
    /// Days a delivered (or given-up) notification keeps its body, which names people.
    var notificationRetentionDays: Int
    /// The mail server staff notices are e-mailed through; nil (no `PUBLICITY_SMTP_HOST`) sends none.
    var mail: MailSettings?
    /// The workbench's address as its people reach it, for the links in notices.
    var workbenchURL: String

    init(_ reader: EnvironmentReader) {
        pageCacheSeconds = reader.integer("PUBLICITY_PAGE_CACHE_SECONDS", default: 5, range: 0...3_600)
        publicURL = reader.string("PUBLICITY_PUBLIC_URL", default: "http://localhost:8085", help: "the portal's public address")
        webhookTimeoutSeconds = reader.integer("PUBLICITY_WEBHOOK_TIMEOUT_SECONDS", default: 10, range: 1...120)
        maximumAttempts = reader.integer("PUBLICITY_NOTIFY_MAX_ATTEMPTS", default: 8, range: 1...50)
        retryBaseSeconds = reader.integer("PUBLICITY_NOTIFY_RETRY_SECONDS", default: 30, range: 1...86_400)
        deliveryConcurrency = reader.integer("PUBLICITY_NOTIFY_CONCURRENCY", default: 64, range: 1...256)
        notifyIntervalMilliseconds = reader.integer("PUBLICITY_NOTIFY_INTERVAL_MS", default: 1_000, range: 50...60_000)
        let trusted = reader.string(
            "PUBLICITY_NOTIFY_TRUSTED_HOSTS", default: "",
            help: "comma-separated hosts notifications may reach over http or at a private address")
        notificationRetentionDays = reader.integer("PUBLICITY_NOTIFY_RETENTION_DAYS", default: 30, range: 1...3_650)
        targets = NotificationTargets(trustedHosts: trusted.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let smtpHost = reader.string("PUBLICITY_SMTP_HOST", default: "", help: "the mail server for staff notices; empty sends no e-mail")
        let username = reader.string("PUBLICITY_SMTP_USERNAME", default: "", help: "the mail server's user, if it asks for one")
        let password = reader.string("PUBLICITY_SMTP_PASSWORD", default: "", help: "that user's password")
        mail =
            smtpHost.isEmpty
            ? nil
            : MailSettings(
                host: smtpHost, port: reader.integer("PUBLICITY_SMTP_PORT", default: 587, range: 1...65_535),
                security: reader.choice("PUBLICITY_SMTP_SECURITY", default: MailSettings.Security.startTLS),
                username: username.isEmpty ? nil : username, password: password.isEmpty ? nil : password,
                from: reader.string("PUBLICITY_MAIL_FROM", default: "noreply@localhost", help: "the notices' sender address"))
        // Without a trailing slash: links append their own path.
        workbenchURL = String(
            reader.string("PUBLICITY_WORKBENCH_URL", default: "http://localhost:8080", help: "the workbench's address, for links")
                .reversed().drop { $0 == "/" }.reversed())
    }
}
