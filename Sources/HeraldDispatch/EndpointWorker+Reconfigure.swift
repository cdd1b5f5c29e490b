import Foundation
import HeraldCore
import HeraldPluginHost
import HeraldStore
import Logging

/// An endpoint edited while it runs: the new plugin instance takes the
/// queue as it stands, the old one finishes what it was given and closes.
/// Nothing is lost or sent twice: a delivery in flight completes on the
/// instance it went to; the rest go to the new one.
extension EndpointWorker {
    /// - Parameter templateFields: checked by the caller (they parse and render).
    func reconfigure(_ endpoint: Endpoint, instance: any ChannelInstance, templateFields: [String: String]) async {
        do { templates = try TemplateSet(fields: templateFields) } catch {
            logger.error("Template refused after it was checked; the old ones stay", metadata: ["error": "\(error)"])
        }
        let old = self.instance
        let oldGeneration = generation
        generation += 1
        self.instance = instance
        let receiverChanged = endpoint.config != self.endpoint.config || endpoint.channel != self.endpoint.channel
        self.endpoint = endpoint
        if (inFlightByGeneration[oldGeneration] ?? 0) == 0 {
            inFlightByGeneration[oldGeneration] = nil
            await Self.close(old, endpoint: endpoint, logger: logger)
        } else {
            retired[oldGeneration] = old
        }
        // Whether the old receiver was down says nothing of the new one.
        if receiverChanged && health.isDown {
            health = EndpointHealth()
            do { try await store.setEndpointDown(endpoint.name, since: nil) } catch {
                logger.error("Could not store the endpoint's state", metadata: ["error": "\(error)"])
            }
            logger.notice("Endpoint edited while down: trying its new config at once")
        }
        suspension = nil
        wasAvailable = true
        signal()
    }

    /// An edit that leaves the plugin instance as it is (levels, throttle,
    /// retries, health, fallbacks): the next delivery follows it.
    func update(_ endpoint: Endpoint) {
        self.endpoint = endpoint
        signal()
    }

    /// Every policy's selector, after the policies changed.
    func update(policySelectors: [String: String]) { self.policySelectors = policySelectors }

    /// Stops for good: the endpoint was deleted. Its task then ends its
    /// pending deliveries and closes it (`Dispatcher.retire`).
    func retire() {
        isRetired = true
        stop()
    }

    /// A submission came back from the instance of `generation`; the last
    /// one back to a replaced instance closes it.
    func returned(from generation: Int) async {
        let left = (inFlightByGeneration[generation] ?? 1) - 1
        inFlightByGeneration[generation] = left == 0 ? nil : left
        guard left == 0, let old = retired.removeValue(forKey: generation) else { return }
        await Self.close(old, endpoint: endpoint, logger: logger)
    }
}
