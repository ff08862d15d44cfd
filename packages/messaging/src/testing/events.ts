import { z } from 'zod';
import { createEvent, defineEvent } from '../index.js';

export const TestHappened = defineEvent({
  type: 'test.happened',
  version: 1,
  schema: z.object({ n: z.number().int(), note: z.string().optional() }),
});

export const TestOther = defineEvent({
  type: 'test.other',
  version: 1,
  schema: z.object({ label: z.string() }),
});

export function happened(n: number, options: { key?: string; note?: string } = {}) {
  return createEvent(TestHappened, options.note === undefined ? { n } : { n, note: options.note }, {
    source: 'urn:syncopate:test',
    ...(options.key === undefined ? {} : { orderingKey: options.key }),
  });
}
