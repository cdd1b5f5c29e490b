import Foundation

/// One alert as an Internet message (RFC 5322 + MIME): headers, a UTF-8
/// subject encoded per RFC 2047, UTF-8 bodies that survive any relay.
struct MailMessage {
    var from: Mailbox
    var to: [Mailbox]
    var subject: String
    var text: String
    var html: String?
    var messageID: String
    var date: Date
    var extraHeaders: [(String, String)] = []

    /// The message as sent in SMTP DATA: CRLF line ends throughout.
    var bytes: [UInt8] {
        var headers: [(String, String)] = [
            ("Date", Self.rfc5322Date(date)),
            ("From", Self.header(from)),
            ("To", to.map(Self.header).joined(separator: ",\r\n ")),
            ("Subject", Self.encodedWords(subject)),
            ("Message-ID", "<\(messageID)>"),
            ("MIME-Version", "1.0"),
            // RFC 3834: an automatic message; vacation responders stay quiet.
            ("Auto-Submitted", "auto-generated"),
        ]
        // Extra values come from the event (its id is the sender's): encoded
        // words, so a CR/LF in them can never start a header of its own.
        headers += extraHeaders.map { ($0, Self.encodedWords($1)) }
        var out = headers.map { "\($0): \($1)\r\n" }.joined()
        if let html {
            // Random, so no rendered body can guess it and forge a part.
            let boundary = "herald-\(UUID().uuidString)"
            out += "Content-Type: multipart/alternative; boundary=\"\(boundary)\"\r\n\r\n"
            out += "--\(boundary)\r\n" + Self.part(text, type: "text/plain")
            out += "\r\n--\(boundary)\r\n" + Self.part(html, type: "text/html")
            out += "\r\n--\(boundary)--\r\n"
        } else {
            out += Self.part(text, type: "text/plain")
        }
        return Array(out.utf8)
    }

    /// One body with its content headers: 7bit when it is short-lined
    /// ASCII, else base64, so no relay can mangle it.
    static func part(_ body: String, type: String) -> String {
        let normalised = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let lines = normalised.split(separator: "\n", omittingEmptySubsequences: false)
        let plain = normalised.utf8.allSatisfy { $0 < 0x80 && $0 != 0 } && lines.allSatisfy { $0.utf8.count <= 998 }
        if plain {
            return "Content-Type: \(type); charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
                + lines.joined(separator: "\r\n") + "\r\n"
        }
        let encoded = Data(normalised.replacingOccurrences(of: "\n", with: "\r\n").utf8)
            .base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return "Content-Type: \(type); charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\(encoded)\r\n"
    }

    static func header(_ mailbox: Mailbox) -> String {
        guard let name = mailbox.name else { return "<\(mailbox.address)>" }
        let isPlain = name.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }
        return "\(isPlain ? "\"\(name)\"" : encodedWords(name)) <\(mailbox.address)>"
    }

    /// Printable ASCII as it is; anything else as RFC 2047 B-encoded words
    /// of at most 75 characters, split between characters, folded.
    static func encodedWords(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if flat.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }) && flat.utf8.count <= 900 {
            return flat
        }
        // "=?UTF-8?B?" + 48 base64 characters + "?=" = 60: with "Subject: " still
        // within RFC 2047's 76 characters a line. 36 bytes of text per word.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in flat.unicodeScalars {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 36 {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// `Sun, 22 Nov 2026 17:57:12 +0000` (RFC 5322 §3.3).
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return "\(days[(parts.weekday ?? 1) - 1]), \(two(parts.day)) \(months[(parts.month ?? 1) - 1]) \(parts.year ?? 1970) "
            + "\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }
}
