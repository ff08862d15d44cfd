import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  backoffDelay,
  createEvent,
  defineEvent,
  InvalidEventError,
  InvalidOptionsError,
  InvalidTransportUrlError,
  openTransport,
} from '../src/index.js';
import { TestHappened } from '../src/testing/events.js';

describe('event declarations and envelopes', () => {
  it('stamps CloudEvents attributes, a UUIDv7 id and the schema version', () => {
    const event = createEvent(TestHappened, { n: 1 }, { source: 'urn:test', subject: 'pay_1', orderingKey: 'pay_1' });
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'test.happened',
      source: 'urn:test',
      subject: 'pay_1',
      orderingkey: 'pay_1',
      datacontenttype: 'application/json',
      dataschema: 'urn:syncopate:event:test.happened:1',
      data: { n: 1 },
    });
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Date(event.time).toISOString()).toBe(event.time);
    const later = createEvent(TestHappened, { n: 2 }, { source: 'urn:test' });
    expect(later.id > event.id).toBe(true);
  });

  it('refuses to publish data that does not match the declared schema', () => {
    expect(() => createEvent(TestHappened, { n: 1.5 } as never, { source: 'urn:test' })).toThrow(InvalidEventError);
    expect(() => createEvent(TestHappened, { n: 1.5 } as never, { source: 'urn:test' })).toThrow(/test\.happened: n:/);
  });

  it('refuses an event over the size limit', () => {
    const Big = defineEvent({ type: 'test.big', version: 1, schema: z.object({ blob: z.string() }) });
    expect(() => createEvent(Big, { blob: 'x'.repeat(300_000) }, { source: 'urn:test' })).toThrow(/byte limit/);
  });

  it('checks declarations: dotted lower-case names and positive versions', () => {
    expect(() => defineEvent({ type: 'PaymentSucceeded', version: 1, schema: z.object({}) })).toThrow(/dotted/);
    expect(() => defineEvent({ type: 'payment.succeeded', version: 0, schema: z.object({}) })).toThrow(/version/);
  });
});

describe('backoff', () => {
  it('draws a full-jitter delay below a doubling, capped ceiling', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelay(1, options, () => 0.999)).toBe(99);
    expect(backoffDelay(3, options, () => 0.5)).toBe(200);
    expect(backoffDelay(10, options, () => 0.999)).toBe(999);
    expect(backoffDelay(10, options, () => 0)).toBe(0);
  });
});

describe('configuration errors', () => {
  it('explains a transport URL whose scheme no package registered, naming those that are', async () => {
    await expect(openTransport('kafka://localhost')).rejects.toBeInstanceOf(InvalidTransportUrlError);
    await expect(openTransport('kafka://localhost')).rejects.toThrow(
      /no transport is registered for "kafka:" \(registered: .*memory/,
    );
    await expect(openTransport('not a url')).rejects.toThrow(/expected <scheme>:<location>/);
  });

  it('rejects out-of-range subscription options with the field named', async () => {
    const transport = await openTransport('memory:');
    const base = { group: 'g', events: [TestHappened], handler: () => {} };
    await expect(transport.subscribe({ ...base, concurrency: 0 })).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(transport.subscribe({ ...base, maxAttempts: 1_000 })).rejects.toThrow(/maxAttempts/);
    await expect(transport.subscribe({ ...base, group: 'Bad Group!' })).rejects.toThrow(/group/);
    await expect(transport.subscribe({ ...base, events: [] })).rejects.toThrow(/at least one event type/);
    await transport.close();
  });
});
