/**
 * The NATS JetStream transport: one file-storage stream per namespace, a durable pull consumer per
 * group. Import `@syncopate/transport-nats/register` to open it by URL (`nats://host:4222?stream=…`).
 */
export { NatsDriver, openNatsDriver } from './nats-driver.js';
export { type NatsUrlOptions, parseNatsUrl } from './nats-url.js';
