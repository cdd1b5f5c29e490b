import Foundation

/// A plugin README's options table, for tests that hold it to the schema.
public enum PluginDocs {
    /// The options a README's table lists: the first cell of each row
    /// ("| `name` |") of the table whose header starts with "| option".
    public static func documentedOptions(readme path: String) throws -> Set<String> {
        let readme = try String(contentsOf: Repository.root.appendingPathComponent(path), encoding: .utf8)
        var options: Set<String> = []
        var inOptionsTable = false
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("| option") { inOptionsTable = true; continue }
            guard inOptionsTable, line.hasPrefix("|") else { inOptionsTable = false; continue }
            if line.hasPrefix("| `"), let end = line.dropFirst(3).firstIndex(of: "`") {
                options.insert(String(line[line.index(line.startIndex, offsetBy: 3)..<end]))
            }
        }
        return options
    }
}
