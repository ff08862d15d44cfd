import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerConfig, WorkerReport } from './worker.js';

/** A consumer process of the suite's, and what it has reported so far. */
export interface Worker {
  process: ChildProcess;
  reports: WorkerReport[];
  /** Resolves with the first report, past or future, that matches; rejects if the process exits first. */
  next(match: (report: WorkerReport) => boolean, timeoutMs?: number): Promise<WorkerReport>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

const running = new Set<ChildProcess>();

/**
 * Where the suite itself runs from TypeScript (in its own repository), its worker does too: the
 * child then needs the loader, and the condition that resolves the packages to their sources.
 */
const WORKER = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
const FROM_SOURCE = import.meta.url.endsWith('.ts') ? ['--import', 'tsx', '--conditions=@syncopate/source'] : undefined;

export function startWorker(config: WorkerConfig): Worker {
  const child = fork(fileURLToPath(WORKER), [JSON.stringify(config)], {
    ...(FROM_SOURCE ? { execArgv: FROM_SOURCE } : {}),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  running.add(child);
  const reports: WorkerReport[] = [];
  const listeners = new Set<() => void>();
  const heard = () => {
    for (const listener of listeners) listener();
  };
  child.on('message', (report) => {
    reports.push(report as WorkerReport);
    heard();
  });
  const exited = new Promise<void>((resolve) => {
    child.on('exit', () => {
      running.delete(child);
      resolve();
      heard();
    });
  });
  return {
    process: child,
    reports,
    next(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => settle(new Error(`the worker sent no matching report within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const settle = (outcome: WorkerReport | Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        };
        const check = () => {
          const found = reports.find(match);
          if (found) settle(found);
          else if (child.exitCode !== null || child.signalCode !== null) {
            settle(new Error('the worker exited before the awaited report'));
          }
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Kills the workers a failed test left running. */
export function killWorkers(): void {
  for (const child of running) child.kill('SIGKILL');
}
