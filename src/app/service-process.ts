import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * The CLI beside this module, in this module's own form: built JavaScript under `npm start`;
 * TypeScript through tsx, on the packages' sources, in the tests and `npm run dev`.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const MAIN = fileURLToPath(new URL(FROM_SOURCE ? '../cli/main.ts' : '../cli/main.js', import.meta.url));
const LOADER = FROM_SOURCE ? ['--import', 'tsx', '--conditions=@syncopate/source'] : [];

/** Services running in a child process of their own (`syncopate serve …`). */
export interface ServiceProcess {
  services: readonly string[];
  child: ChildProcess;
  /** Its public HTTP address, once it is up. */
  url: string;
  /** Its internal listener, when it has internal routes (the gateway; effect endpoints in sync mode). */
  internalUrl: string | undefined;
  exited: Promise<number | null>;
  /** Sends the signal (SIGTERM: a graceful stop) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ServiceProcessOptions {
  services: readonly string[];
  /** Added to this process's environment. */
  env: Record<string, string | undefined>;
  /** Default 0: a free port. */
  port?: number;
  /** The internal listener's port; default 0: a free port. */
  internalPort?: number;
  /** Where each output line goes. Default: dropped. */
  output?: (line: string) => void;
}

/** Starts `syncopate serve <services…>` and resolves once it is listening. */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...LOADER, MAIN, 'serve', ...options.services], {
    env: {
      ...process.env,
      ...options.env,
      PORT: String(options.port ?? 0),
      INTERNAL_PORT: String(options.internalPort ?? 0),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = options.output ?? (() => {});
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const [url, internalUrl] = await new Promise<[string, string | undefined]>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (line) => {
        // The banner's first line: "… running at <url> (internal routes at <url>, …)".
        const match = /running at (http:\/\/\S+)(?: \(internal routes at (http:\/\/[^\s,)]+))?/.exec(line);
        if (match?.[1]) resolve([match[1], match[2]]);
        output(line);
      });
    }
    void exited.then((code) => reject(new Error(`${options.services.join(' ')} exited with ${code} before it was up`)));
  });
  return {
    services: options.services,
    child,
    url,
    internalUrl,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
