import { UnroutableEventError } from '@syncopate/messaging';
import type { Names } from './names.js';
import type { ConfirmPublisher } from './publisher.js';

/**
 * Answers "would an event of this type reach a group?" before a batch is published, so an
 * unroutable event rejects the batch with nothing of it stored (a mandatory publish alone would
 * store the routable events of the batch and return the stray one). `declareGroup` binds every
 * type to the probe exchange as well; an empty probe message published there, mandatory, comes
 * back as a basic.return when no group is bound to its type, and otherwise lands in a queue that
 * keeps nothing. Bindings are never removed, so a routable type is remembered and probed once.
 */
export class RoutingCheck {
  private readonly routable = new Set<string>();

  constructor(
    private readonly publisher: ConfirmPublisher,
    private readonly names: Names,
  ) {}

  async assertRoutable(types: Iterable<string>): Promise<void> {
    const unknown = [...new Set(types)].filter((type) => !this.routable.has(type));
    if (unknown.length === 0) return;
    await this.publisher.publish(
      unknown.map((type) => ({
        exchange: this.names.probe,
        routingKey: type,
        content: Buffer.alloc(0),
        properties: { messageId: 'routing-probe' },
        unroutable: () => new UnroutableEventError(type),
      })),
    );
    for (const type of unknown) this.routable.add(type);
  }
}
