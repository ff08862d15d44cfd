/** Imported for its effect: `openTransport` opens `amqp://` URLs (amqplib loads with the first). */
import { registerTransport } from '@syncopate/messaging';

registerTransport({
  schemes: ['amqp', 'amqps'],
  openDriver: async (url) => (await import('./rabbitmq-driver.js')).openRabbitMqDriver(url),
});
