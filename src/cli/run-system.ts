import { banner } from '../app/banner.js';
import { ALL_MODULES } from '../app/modules.js';
import { startSystem } from '../app/system.js';
import { ConfigError, loadConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import type { ServiceModule } from '../platform/service.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

/** Starts services in this process from the environment and stops them gracefully on SIGINT/SIGTERM. */
export async function runSystem(services: readonly ServiceModule[]): Promise<void> {
  const config = refusingBadSettings(() => loadConfig());
  const logger = createLogger({ level: config.LOG_LEVEL });
  const serviceName =
    services.length === ALL_MODULES.length ? 'syncopate' : `syncopate-${services.map((s) => s.name).join('-')}`;
  const system = await refusingBadSettings(() =>
    startSystem({
      config,
      logger,
      services,
      topology: ALL_MODULES,
      faults: config.FAULTS,
      serviceName,
    }),
  );
  process.stdout.write(banner(system, { apiKeyFromEnv: Boolean(config.API_KEY) }));
  // The first SIGINT or SIGTERM stops gracefully and exits 0 (1 if the stop fails); a second one
  // during the stop exits 1 at once: the work cut short is redelivered after a restart (at least
  // once), as after a crash. A stop that hangs past every deadline is cut the same way.
  let signals = 0;
  const shutdown = async (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down: no new requests or messages; finishing in-flight work');
    setTimeout(() => {
      logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown overran its deadlines: exiting at once');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS * 4).unref();
    try {
      await system.stop(SHUTDOWN_DEADLINE_MS);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** A setting the process cannot start with stops it with exit code 2 and a line naming the variable. */
function refusingBadSettings<T>(start: () => T): T {
  const refuse = (error: unknown): never => {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`syncopate: ${error.message}\n`);
    process.exit(2);
  };
  try {
    const result = start();
    return (result instanceof Promise ? result.catch(refuse) : result) as T;
  } catch (error) {
    return refuse(error);
  }
}
