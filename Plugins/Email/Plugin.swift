import Foundation
import HeraldPluginKit

/// The email channel: one mail per alert over SMTP (STARTTLS or SMTPS).
final class EmailChannel: BlockingChannelPlugin {
    static let info = PluginInfo(
        channel: "email", version: "1.0.0",
        description: "Mails each alert over SMTP (STARTTLS or SMTPS, optional AUTH); 4xx replies are retried.",
        configSchema: Config.schema, defaultTemplates: Config.defaultTemplates)

    private let config: Config
    private let client: SMTPClient
    let workers: BlockingWorkers

    static func validate(_ config: Config) throws(ConfigProblem) { try config.validate() }

    init(config: Config, host: HostServices) throws(ConfigProblem) {
        try config.validate()
        self.config = config
        client = SMTPClient(config: config)
        workers = BlockingWorkers(count: config.maxConnections)
    }

    func deliver(_ message: Message) -> Outcome {
        let event: Event
        do { event = try message.event() } catch { return .fail("event: \(error)") }
        let mail = MailMessage(
            from: config.from, to: config.to,
            subject: message.rendered["subject"] ?? "[\(event.level.rawValue)] \(event.name) on \(event.objectID)",
            text: message.rendered["body"] ?? event.name, html: message.rendered["html"],
            // The same on every attempt, so a receiver can drop a repeat.
            messageID: "\(Self.dotAtom(message.deliveryID))@\(config.from.address.split(separator: "@").last ?? "herald")",
            date: Date(),
            extraHeaders: [("X-Herald-Event-ID", event.id), ("X-Herald-Level", event.level.rawValue)])
        return client.send(SMTPClient.Envelope(from: config.from.address, recipients: config.to.map(\.address),
                                               message: mail.bytes, timeoutMs: Int(message.timeout * 1000)))
    }

    /// The delivery id as Message-ID's left part: only RFC 5322 atext and dots
    /// (the host's ids are `herald-N`; anything else is dropped, never sent raw).
    static func dotAtom(_ id: String) -> String {
        let kept = id.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
            || "!#$%&'*+-/=?^_`{|}~.".unicodeScalars.contains($0)) }
        return kept.isEmpty ? "herald" : String(String.UnicodeScalarView(kept.prefix(200)))
    }

    func close() {
        workers.stop()
        client.close()
    }
}

@_cdecl("herald_plugin_entry")
public func heraldPluginEntry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
                              _ capacity: Int) -> UnsafeRawPointer? {
    PluginExport.entry(EmailChannel.self, abi: abi, host: host, error: error, capacity: capacity)
}
