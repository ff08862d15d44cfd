import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Tracing is installed once per process, so each case runs in a process of its own. */
function runWithTracing(env: Record<string, string>, body: string): string {
  const script = `
    import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
    import { installTracing } from './src/platform/telemetry/tracing.ts';
    installTracing('check');
    ${body}`;
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

const probe = `
  const span = trace.getTracer('check').startSpan('probe');
  process.stdout.write(String(span.isRecording()));
  span.end();`;

describe('the tracing switch', () => {
  it('records spans by default, and none with OTEL_SDK_DISABLED=true', () => {
    expect(runWithTracing({}, probe)).toBe('true');
    expect(runWithTracing({ OTEL_SDK_DISABLED: 'true' }, probe)).toBe('false');
  });

  it('registers no context manager: a span is never found as "active", only passed', () => {
    const active = runWithTracing(
      {},
      `const span = trace.getTracer('check').startSpan('outer');
       const inside = context.with(trace.setSpan(ROOT_CONTEXT, span), () => trace.getActiveSpan());
       process.stdout.write(inside === undefined ? 'none' : 'found');`,
    );
    expect(active).toBe('none');
  });
});
