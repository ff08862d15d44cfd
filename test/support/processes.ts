import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A TypeScript module started in a child process of its own, with an IPC channel. */
export interface Child<Report> {
  process: ChildProcess;
  reports: Report[];
  /** Resolves with the first report (past or future) that matches. */
  next(match: (report: Report) => boolean, timeoutMs?: number): Promise<Report>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();

export function startChild<Report>(modulePath: string, args: string[]): Child<Report> {
  const child = fork(fileURLToPath(modulePath), args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const reports: Report[] = [];
  const listeners = new Set<() => void>();
  child.on('message', (report) => {
    reports.push(report as Report);
    for (const listener of listeners) listener();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
      for (const listener of listeners) listener();
    });
  });
  return {
    process: child,
    reports,
    exited,
    next(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = reports.find(match);
          if (found) {
            cleanup();
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`child ${modulePath} exited before the awaited report`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`child ${modulePath} sent no matching report within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Kills whatever a failed test left running. */
export async function killAllChildren(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
}
