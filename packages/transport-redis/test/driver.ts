/** The contract suite's driver factory, in a module of its own so the suite's child processes can load it. */
export { openRedisDriver as openDriver } from '../src/index.js';
