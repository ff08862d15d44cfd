import { MemoryDriver } from '@syncopate/messaging/driver';
import { transportContract } from '@syncopate/messaging/testing';
import { afterEach, describe, it } from 'vitest';

let n = 0;
await transportContract(
  {
    namespace: () => `contract-${process.pid}-${n++}`,
    openDriver: async (store) => new MemoryDriver(store),
  },
  { describe, it, afterEach },
);
