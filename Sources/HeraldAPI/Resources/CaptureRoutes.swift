import HeraldCore
import HeraldDispatch
public import Hummingbird

/// A pcap endpoint's capture files: `GET /api/v1/endpoints/{name}/captures`
/// lists them (oldest first), `.../captures/{file}` downloads one.
extension ResourceRoutes {
    func addCaptureRoutes(to router: Hummingbird.Router<HeraldRequestContext>) {
        router.get("/api/v1/endpoints/:name/captures") { _, context -> Response in
            let folder = try captureFolder(context)
            return try JSONAnswer.response(.ok, try await folder.files().map { file in
                JSONValue.object(["name": .string(file.name), "bytes": .number(Double(file.bytes)),
                                  "modified": file.modified.map(JSONValue.string) ?? .null])
            })
        }
        router.get("/api/v1/endpoints/:name/captures/:file") { _, context -> Response in
            let folder = try captureFolder(context)
            let name = try context.parameters.require("file")
            // Only a file the listing shows: the name cannot reach outside the folder.
            guard CaptureFolder.isCaptureName(name), let file = try await folder.files().first(where: { $0.name == name }) else {
                throw APIError(.notFound, field: "file", "no such capture file")
            }
            let body = try await FileIO().loadFile(path: file.path, context: context)
            return Response(status: .ok, headers: [
                .contentType: "application/vnd.tcpdump.pcap",
                .contentDisposition: "attachment; filename=\"\(file.name)\"",
            ], body: body)
        }
    }

    private func captureFolder(_ context: HeraldRequestContext) throws -> CaptureFolder {
        let (endpoint, _) = try endpoint(context)
        guard let folder = CaptureFolder(endpoint) else {
            throw APIError(.notFound, field: "name", "\"\(endpoint.name)\" is a \(endpoint.channel) endpoint; only pcap endpoints have captures")
        }
        return folder
    }
}
