/** The contract suite's driver factory, in a module of its own so the suite's child processes can load it. */
export { openPostgresDriver as openDriver } from '../src/index.js';
