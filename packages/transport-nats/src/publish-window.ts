import type { JetStreamClient, JetStreamPublishOptions } from '@nats-io/jetstream';

export interface Outgoing {
  subject: string;
  data: string | Uint8Array;
  options: Partial<JetStreamPublishOptions>;
}

/** PubAcks awaited at once; past it the next publish waits for the oldest, so memory stays bounded. */
export const PUBLISH_WINDOW = 256;

/**
 * Publishes every message with up to PUBLISH_WINDOW PubAcks outstanding: one round trip for a
 * batch instead of one per message. Resolves once every message is stored (acknowledged by the
 * stream); rejects with the first failure after the others have settled.
 */
export async function publishWindowed(js: JetStreamClient, messages: readonly Outgoing[]): Promise<void> {
  if (messages.length === 1) {
    const [only] = messages as [Outgoing];
    await js.publish(only.subject, only.data, only.options);
    return;
  }
  const inFlight: Promise<unknown>[] = [];
  let failure: { error: unknown } | undefined;
  const track = (promise: Promise<unknown>) =>
    promise.catch((error) => {
      failure ??= { error };
    });
  for (const message of messages) {
    if (inFlight.length >= PUBLISH_WINDOW) await inFlight.shift();
    if (failure) break;
    inFlight.push(track(js.publish(message.subject, message.data, message.options)));
  }
  await Promise.all(inFlight);
  if (failure) throw failure.error;
}
