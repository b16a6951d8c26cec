import ServiceLifecycle

/// A pool is a service of the daemon's `ServiceGroup`: it runs until graceful shutdown, then
/// closes its connections and threads. Listed before the services that use it, it is shut down
/// after them (a group ends its services in reverse order), so no request finds it closed.
extension PostgresClient: Service {
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}
