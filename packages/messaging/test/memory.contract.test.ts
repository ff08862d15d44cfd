import { transportContract } from '../src/testing/transport-contract.js';

let n = 0;
transportContract({
  name: 'memory',
  capabilities: { durable: false, crossProcess: false, perKeyOrder: true },
  freshUrl: () => `memory:contract-${process.pid}-${n++}`,
});
