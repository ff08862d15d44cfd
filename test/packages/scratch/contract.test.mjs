// `node --test` in the scratch project: the published contract suite against a driver of its own.
import { afterEach, describe, it } from 'node:test';
import { transportContract } from '@syncopate/messaging/testing';
import { openDriver } from './scratch-driver.mjs';

let n = 0;
await transportContract({ namespace: () => `scratch-${process.pid}-${n++}`, openDriver }, { describe, it, afterEach });
