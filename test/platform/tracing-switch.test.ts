import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Tracing is installed once per process, so each case runs in a process of its own. */
function spanRecorded(env: Record<string, string>): string {
  const script = `
    import { trace } from '@opentelemetry/api';
    import { installTracing } from './src/platform/telemetry/tracing.ts';
    installTracing('check');
    const span = trace.getTracer('check').startSpan('probe');
    process.stdout.write(String(span.isRecording()));
    span.end();`;
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

describe('the tracing switch', () => {
  it('records spans by default, and none with OTEL_SDK_DISABLED=true', () => {
    expect(spanRecorded({})).toBe('true');
    expect(spanRecorded({ OTEL_SDK_DISABLED: 'true' })).toBe('false');
  });
});
