import Foundation

/// A plugin README's options table, for tests that hold it to the schema.
public enum PluginDocs {
    /// The options a README's table lists: the first cell of each row
    /// that starts with "| `name`".
    public static func documentedOptions(readme path: String) throws -> Set<String> {
        let readme = try String(contentsOf: Repository.root.appendingPathComponent(path), encoding: .utf8)
        return Set(readme.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `"), let end = line.dropFirst(3).firstIndex(of: "`") else { return nil }
            return String(line[line.index(line.startIndex, offsetBy: 3)..<end])
        })
    }
}
