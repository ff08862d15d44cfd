/**
 * The universal transport suite: a transport package (here or anywhere) proves its driver keeps
 * the contract by running `transportContract` against it, and the events its tests are made of.
 */
export { happened, TestHappened, TestOther } from './events.js';
export { type ContractTarget, type TestFramework, transportContract } from './transport-contract.js';
export { delay, waitFor } from './wait.js';
