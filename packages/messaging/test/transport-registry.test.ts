import { describe, expect, it } from 'vitest';
import { openTransport, registeredSchemes, registerTransport, SchemeTakenError } from '../src/index.js';
import { MemoryDriver } from '../src/memory-driver.js';
import { happened, TestHappened } from '../src/testing/events.js';

describe('the transport registry', () => {
  it('opens a scheme registered from outside the toolkit, through the one consumer runner', async () => {
    const opened: string[] = [];
    registerTransport({
      schemes: ['Elsewhere'],
      openDriver: async (url) => {
        opened.push(url);
        return new MemoryDriver();
      },
    });
    expect(registeredSchemes()).toContain('elsewhere');
    const transport = await openTransport('elsewhere://queue-1');
    const seen: number[] = [];
    await transport.subscribe({
      group: 'g',
      events: [TestHappened],
      handler: ({ event }) => void seen.push(event.data.n),
    });
    await transport.publish(happened(7));
    await expect.poll(() => seen).toEqual([7]);
    expect(opened).toEqual(['elsewhere://queue-1']);
    await transport.close();
  });

  it('refuses a second factory for a scheme already taken, and takes the same one again quietly', () => {
    const factory = { schemes: ['twice'], openDriver: async () => new MemoryDriver() };
    registerTransport(factory);
    registerTransport(factory);
    expect(() => registerTransport({ ...factory })).toThrow(SchemeTakenError);
    expect(() => registerTransport({ schemes: ['memory'], openDriver: factory.openDriver })).toThrow(/"memory:"/);
  });
});
