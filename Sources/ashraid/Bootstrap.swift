import AshraiServer
import Foundation
import ArgumentParser
import Logging

/// The one place a `Logger` is made: stderr, level from configuration.
func makeLogger(level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    var logger = Logger(label: "ashraid")
    logger.logLevel = level
    return logger
}

/// Loads configuration, turning problems into a clear message and exit code 78 (EX_CONFIG).
func loadConfiguration(_ options: CommonOptions, listen: String? = nil) async throws -> AshraiConfiguration {
    do {
        return try await AshraiConfiguration.load(configFile: options.config, listen: listen)
    } catch let problem as AshraiConfiguration.Problem {
        FileHandle.standardError.write(Data("ashraid: \(problem.description)\n".utf8))
        throw ExitCode(78)
    }
}

