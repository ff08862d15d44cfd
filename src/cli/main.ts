import { Command, InvalidArgumentError } from 'commander';
import { ALL_MODULES, modulesNamed } from '../app/modules.js';
import { runSystem } from './run-system.js';

const program = new Command()
  .name('syncopate')
  .description('Critical paths in sync, side effects off the beat: the Syncopate payment system.')
  .showHelpAfterError();

program
  .command('start')
  .description('run every service in this process (what `npm start` does); configured by environment variables')
  .action(() => runSystem(ALL_MODULES));

program
  .command('serve')
  .description(`run chosen services in this process: ${ALL_MODULES.map((m) => m.name).join(', ')}`)
  .argument('<services...>', 'service names')
  .action((names: string[]) => runSystem(modulesNamed(names)));

program
  .command('cluster')
  .description('start every service in processes of its own on this machine; scale consumer groups by process count')
  .option('--transport <url>', 'TRANSPORT_URL for every process', process.env.TRANSPORT_URL)
  .option(
    '--database <url>',
    'DATABASE_URL for every process (default: SQLite files in DATA_DIR)',
    process.env.DATABASE_URL,
  )
  .option('--port <port>', 'the payments API port (the gateway takes the next one)', nonNegativeInt, 3000)
  .option('--email <n>', 'email consumer processes', nonNegativeInt, 1)
  .option('--analytics <n>', 'analytics consumer processes', nonNegativeInt, 1)
  .option('--reports <n>', 'reports processes', nonNegativeInt, 1)
  .option('--notifications <n>', 'notifications processes', nonNegativeInt, 1)
  .action(async (options) => {
    const { runCluster } = await import('./run-cluster.js');
    await runCluster(options);
  });

program
  .command('pay')
  .description(
    'load the payments API: send payments with a progress bar, then print latency percentiles and status counts',
  )
  .option('--url <url>', 'the API base URL', process.env.SYNCOPATE_URL ?? 'http://127.0.0.1:3000')
  .option('--key <key>', 'an API key (default: $API_KEY)', process.env.API_KEY)
  .option('--count <n>', 'payments to send', positiveInt, 100)
  .option('--concurrency <n>', 'payments in flight at once', positiveInt, 10)
  .option('--card <number>', 'the test card', '4242424242424242')
  .option('--amount <minor units>', 'the amount of each payment', positiveInt, 1999)
  .option('--currency <code>', 'the currency', 'usd')
  .action(async (options) => {
    const { pay } = await import('./pay.js');
    process.exitCode = await pay(options);
  });

program
  .command('lab')
  .description(
    'run a sync system and an async system side by side, load and break both, and write the comparison report',
  )
  .option(
    '--quick',
    'a short run (under a minute): one rate, 3 trials a mode; leaves out scalability and what a 4th side effect costs, and says so',
  )
  .option('--transport <url>', "the async system's TRANSPORT_URL (default: the embedded SQLite queue)")
  .option('--out <dir>', 'where the report goes', 'lab-report')
  .action(async (options) => {
    const { lab } = await import('./lab.js');
    process.exitCode = await lab(options);
  });

const keys = program.command('keys').description('manage API and admin keys (kept hashed in DATA_DIR/auth.db)');
keys
  .command('create')
  .description('create a new API key (and account); the secret is printed once')
  .option('--admin', 'create an admin key instead')
  .action(async (options: { admin?: boolean }) => {
    const { createKey } = await import('./keys.js');
    createKey({ role: options.admin ? 'admin' : 'api' });
  });
keys
  .command('list')
  .description('list every key: id, role, account, a hint of the secret, when it was created and revoked')
  .action(async () => {
    const { listKeys } = await import('./keys.js');
    listKeys();
  });
keys
  .command('revoke')
  .description('revoke a key for good: running processes refuse it from the next request on')
  .argument('<id>', 'the key id (key_…), as `keys list` shows it')
  .action(async (id: string) => {
    const { revokeKey } = await import('./keys.js');
    process.exitCode = revokeKey(id);
  });

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

await program.parseAsync();
