import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Faults } from '../../../src/platform/faults.js';
import { GatewayClient } from '../../../src/services/payments/gateway-client.js';

/** More than Node's default of ten listeners per EventTarget. */
const IN_FLIGHT = 30;

/**
 * Under load, a listener per call on one long-lived AbortSignal shows up as "MaxListenersExceededWarning:
 * Possible EventTarget memory leak detected. 11 abort listeners added to [AbortSignal]". Node warns
 * once per signal, the first time one holds more than ten: each test here keeps thirty calls in
 * flight at once and expects no such warning.
 */
describe('abort listeners with many calls in flight', () => {
  let slowGateway: Server;
  let url = '';
  const warnings: string[] = [];
  const onWarning = (warning: Error) => {
    if (warning.name === 'MaxListenersExceededWarning') warnings.push(warning.message);
  };
  // The warning is emitted on the next tick after the listener that exceeds the limit.
  const settled = () => new Promise((resolve) => setTimeout(resolve, 20));

  beforeAll(async () => {
    process.on('warning', onWarning);
    // A gateway that knows no charge and takes its time saying so: every call is still in flight
    // when the last one starts.
    slowGateway = createServer((_request, response) => {
      setTimeout(() => response.writeHead(404, { 'content-type': 'application/json' }).end('{}'), 200);
    });
    await new Promise<void>((resolve) => slowGateway.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(slowGateway.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    warnings.length = 0;
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    slowGateway.closeAllConnections();
    await new Promise((resolve) => slowGateway.close(resolve));
  });

  it('gateway calls through one client: no listener per call on a signal they share', async () => {
    const client = new GatewayClient({ baseUrl: () => url, key: 'gw_local_development_key', timeoutMs: 5_000 });
    try {
      const found = await Promise.all(
        Array.from({ length: IN_FLIGHT }, (_, n) => client.lookup(`missing-${n}`, ROOT_CONTEXT)),
      );
      expect(found).toEqual(Array.from({ length: IN_FLIGHT }, () => undefined));
      await settled();
      expect(warnings).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('fault delays in flight at once: none listens on a shared signal, and release() still wakes every one', async () => {
    const faults = new Faults('test', { latency: { fixedMs: 60_000 } });
    let woken = 0;
    // As the onRequest hook delays requests: without a signal of the caller's.
    const delays = Array.from({ length: IN_FLIGHT }, () => faults.disturb().then(() => woken++));
    // A caller's own abort wakes its delay alone.
    const caller = new AbortController();
    const aborted = faults.disturb(caller).then(() => woken++);
    caller.abort();
    await aborted;
    await settled();
    expect(woken).toBe(1);
    expect(warnings).toEqual([]);
    faults.release();
    await Promise.all(delays);
    expect(woken).toBe(IN_FLIGHT + 1);
    // Released for good: a later delay does not wait.
    await faults.disturb();
  });

  it("fault injection with no latency set never asks for the handler's signal (each is made on first use)", async () => {
    const faults = new Faults('test', {});
    let asked = 0;
    const message = {
      get signal() {
        asked += 1;
        return new AbortController().signal;
      },
    };
    for (let i = 0; i < 10; i++) await faults.disturb(message);
    expect(asked).toBe(0);
    faults.set({ latency: { fixedMs: 1 } });
    await faults.disturb(message);
    expect(asked).toBe(1);
  });
});
