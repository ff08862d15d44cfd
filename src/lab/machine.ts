import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { MachineUse } from './results.js';
import { round } from './stats.js';

/** The processes of the systems under test, by role, so their CPU can be told from the rest. */
export interface ProcessGroups {
  requestPath: readonly number[];
  sideEffects: readonly number[];
}

/** The machine's CPU counters at one moment. */
export interface CpuSnapshot {
  atMs: number;
  /** All CPUs: total and idle time, seconds; null where unreadable. */
  machine: { total: number; idle: number } | null;
  /** This process (the load generator and the mail server), µs. */
  self: NodeJS.CpuUsage;
  /** CPU seconds of each watched process, by pid. */
  processes: Map<number, number>;
}

/**
 * Reads how busy the machine is: the whole machine's CPU time from /proc/stat (os.cpus() elsewhere),
 * this process's from process.cpuUsage(), and each process of the systems under test from
 * /proc/<pid>/stat. What is left is other programs: on a shared machine, the noise.
 */
export class MachineMonitor {
  readonly cpuCount = cpus().length;
  private readonly ticksPerSecond = clockTicks();

  snapshot(pids: readonly number[]): CpuSnapshot {
    const processes = new Map<number, number>();
    for (const pid of pids) {
      const seconds = this.processSeconds(pid);
      if (seconds !== undefined) processes.set(pid, seconds);
    }
    return { atMs: performance.now(), machine: this.machineTimes(), self: process.cpuUsage(), processes };
  }

  /** What happened between two snapshots; `trial` is the system under trial, `all` every watched process. */
  between(start: CpuSnapshot, end: CpuSnapshot, trial: ProcessGroups, all: readonly number[]): MachineUse {
    const seconds = Math.max(0.001, (end.atMs - start.atMs) / 1_000);
    const perSecond = (cpuSeconds: number) => round(Math.max(0, cpuSeconds) / seconds, 3);
    const loadGeneratorCpus = perSecond(
      (end.self.user - start.self.user + end.self.system - start.self.system) / 1_000_000,
    );
    const used = (pids: readonly number[]) => {
      let sum = 0;
      for (const pid of pids) {
        const before = start.processes.get(pid);
        const after = end.processes.get(pid);
        // A process started during the trial counts from zero; one that died is left out (its last
        // moments are lost: the CPU figures of such a trial are a floor).
        if (after !== undefined) sum += after - (before ?? 0);
      }
      return sum;
    };
    const readable = end.processes.size > 0 || all.length === 0;
    const systemCpus = readable
      ? { requestPath: perSecond(used(trial.requestPath)), sideEffects: perSecond(used(trial.sideEffects)) }
      : null;
    if (!start.machine || !end.machine) {
      return { seconds: round(seconds, 2), idleShare: Number.NaN, loadGeneratorCpus, systemCpus, otherCpus: null };
    }
    const total = end.machine.total - start.machine.total;
    const idle = end.machine.idle - start.machine.idle;
    const busyCpus = (total - idle) / seconds;
    return {
      seconds: round(seconds, 2),
      idleShare: total > 0 ? round(idle / total, 3) : Number.NaN,
      loadGeneratorCpus,
      systemCpus,
      otherCpus: readable ? round(Math.max(0, busyCpus - loadGeneratorCpus - used(all) / seconds), 3) : null,
    };
  }

  private machineTimes(): { total: number; idle: number } | null {
    try {
      // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
      const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
      const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
      if (fields.length < 8 || fields.some((n) => !Number.isFinite(n))) throw new Error('unexpected /proc/stat');
      const total = fields.reduce((sum, n) => sum + n, 0);
      const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
      return { total: total / this.ticksPerSecond, idle: idle / this.ticksPerSecond };
    } catch {
      let total = 0;
      let idle = 0;
      for (const { times } of cpus()) {
        total += times.user + times.nice + times.sys + times.idle + times.irq;
        idle += times.idle;
      }
      return total > 0 ? { total: total / 1_000, idle: idle / 1_000 } : null;
    }
  }

  private processSeconds(pid: number): number | undefined {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces: the fields start after the last ")".
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
      return Number.isFinite(ticks) ? ticks / this.ticksPerSecond : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Clock ticks per second of /proc's counters (USER_HZ): 100 nearly everywhere, asked of getconf where it answers. */
function clockTicks(): number {
  if (process.platform !== 'linux') return 100;
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2_000 }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}
