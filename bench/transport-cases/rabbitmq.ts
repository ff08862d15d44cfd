import { deleteNamespace, Names } from '@syncopate/transport-rabbitmq';
import amqp from 'amqplib';
import { serverAnswers } from '../../test/support/availability.js';
import { BenchPayment } from '../support.js';
import { benchEventJson, type Case, type CaseFactory, drive, now, targetOf, transportCase } from './support.js';

const BROKER = 'amqp://guest:guest@127.0.0.1:5672';
let runs = 0;

/**
 * The floor: amqplib bare. A confirm channel publishing each message and awaiting its confirm
 * (the one-at-a-time pattern the transport cases follow), one durable quorum queue, and a
 * consumer with manual acks and the transports' prefetch (their concurrency). Messages are routed
 * as the transport's are, by type through a topic exchange bound to the queue, `mandatory` (so an
 * unroutable one would come back): the broker's routing is work both cases ask of it. (Until
 * 2026-11-27 the floor sent straight to the queue, which cost the broker 20–35% less a message.)
 */
function rabbitMqFloor(concurrency: number): Case {
  return {
    name: 'rabbitmq-floor',
    async run(mode) {
      const queue = `syncopate-bench-floor-${process.pid}-${runs++}`;
      const exchange = `${queue}-events`;
      // Nagle off, as the transport has it: with amqplib's default a lone publish waits ~40 ms for its confirm.
      const model = await amqp.connect(BROKER, { noDelay: true });
      const publisher = await model.createConfirmChannel();
      const consumer = await model.createChannel();
      await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await publisher.assertExchange(exchange, 'topic', { durable: true });
      await publisher.bindQueue(queue, exchange, BenchPayment.type);
      await consumer.prefetch(concurrency);
      const latencies: number[] = [];
      const target = targetOf(mode);
      let finish: () => void = () => {};
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      await consumer.consume(queue, (message) => {
        if (!message) return;
        latencies.push(now() - (JSON.parse(message.content.toString()) as { data: { sentAt: number } }).data.sentAt);
        consumer.ack(message);
        if (latencies.length >= target) finish();
      });
      const started = now();
      await drive(
        mode,
        (n) =>
          new Promise<void>((resolve, reject) => {
            const options = { persistent: true, mandatory: true };
            publisher.publish(exchange, BenchPayment.type, Buffer.from(benchEventJson(n)), options, (error) =>
              error ? reject(error) : resolve(),
            );
          }),
      );
      await done;
      const elapsed = now() - started;
      await publisher.deleteQueue(queue);
      await publisher.deleteExchange(exchange);
      await model.close();
      return { received: latencies.length, elapsedMs: elapsed, latencies };
    },
  };
}

/** The transport end to end, in a namespace of its own per run, deleted afterwards (outside the timing). */
function rabbitMqTransport(options: Parameters<CaseFactory>[0]): Case {
  let prefix = '';
  const inner = transportCase(
    'rabbitmq',
    () => {
      prefix = `syncopate-bench-${process.pid}-${runs++}`;
      return `${BROKER}?prefix=${prefix}`;
    },
    options,
  );
  return {
    name: inner.name,
    async run(mode) {
      try {
        return await inner.run(mode);
      } finally {
        if (prefix) {
          const model = await amqp.connect(BROKER);
          await deleteNamespace(model, new Names(prefix), ['bench']);
          await model.close();
        }
      }
    },
  };
}

export const cases: CaseFactory = async (options) => {
  if (!(await serverAnswers(5672))) return [];
  return [rabbitMqFloor(options.concurrency), rabbitMqTransport(options)];
};
