import HeraldAPI
import ServiceLifecycle
import UnixSignals

/// SIGHUP re-reads the config file, as it does for Alertmanager and
/// Prometheus (without this, SIGHUP's default action ends the process).
struct ReloadOnHangup: Service {
    let state: ConfigState

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            // A refused file is logged by the reloader; the daemon goes on.
            _ = try? await state.reload()
        }
    }
}
