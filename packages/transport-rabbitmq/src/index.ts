/**
 * The RabbitMQ transport: quorum queues, publisher confirms, delayed retries without a plugin.
 * Import `@syncopate/transport-rabbitmq/register` to open it by URL (`amqp://…?prefix=syncopate`).
 */
export { Names } from './names.js';
export { parseRabbitMqUrl, RABBITMQ_DEFAULTS, type RabbitMqOptions } from './options.js';
export { openRabbitMqDriver, RabbitMqDriver } from './rabbitmq-driver.js';
export { deleteNamespace } from './topology.js';
