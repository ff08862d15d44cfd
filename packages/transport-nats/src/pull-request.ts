import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** How one pull request ended. */
export interface PullEnd {
  delivered: number;
  /** A status that means "ask again later" (expired, others' requests pending, heartbeats missed). */
  retryable: boolean;
  error?: Error;
}

export interface PullRequestOptions {
  stream: string;
  consumer: string;
  batch: number;
  /** The server keeps an empty request open this long. */
  expiresMs: number;
  /** The server sends a heartbeat this often while it holds the request; two missed ones end it here. */
  heartbeatMs: number;
  /**
   * `standing`: the server sends messages as they arrive until `batch` is reached or the request
   * expires. `available`: it sends what is there now (possibly nothing) and ends the request.
   */
  mode: 'standing' | 'available';
  onMessage(msg: Msg, receivedAt: number): void;
  onEnd(end: PullEnd): void;
}

/**
 * One JetStream pull request on its own inbox, so a queue can size each request to its free
 * slots (the library's `consume` sizes its own buffer, and `fetch` ends only on a full batch).
 */
export class PullRequest {
  private readonly subscription: Subscription;
  private delivered = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    nc: NatsConnection,
    private readonly options: PullRequestOptions,
  ) {
    const inbox = createInbox();
    this.subscription = nc.subscribe(inbox, { callback: (_error, msg) => this.receive(msg) });
    const request: Record<string, unknown> = { batch: options.batch };
    if (options.mode === 'available') request.no_wait = true;
    else {
      request.expires = options.expiresMs * 1_000_000;
      request.idle_heartbeat = options.heartbeatMs * 1_000_000;
      this.armWatchdog();
    }
    nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${options.stream}.${options.consumer}`, JSON.stringify(request), {
      reply: inbox,
    });
  }

  /** Messages the server may still send for this request. */
  get remaining(): number {
    return this.ended ? 0 : this.options.batch - this.delivered;
  }

  /** Withdraws the request: once the server sees no interest in its inbox it drops it. */
  cancel(): void {
    this.end({ delivered: this.delivered, retryable: true }, false);
  }

  private receive(msg: Msg): void {
    if (this.ended) return;
    this.armWatchdog();
    const status = msg.headers?.code ?? 0;
    if (status === 0) {
      this.delivered += 1;
      this.options.onMessage(msg, Date.now());
      // A full batch ends the request on the server without a status message.
      if (this.delivered >= this.options.batch) this.end({ delivered: this.delivered, retryable: true });
      return;
    }
    if (status === 100) return; // idle heartbeat (or flow control, unused by pull consumers)
    const description = msg.headers?.description ?? '';
    // 408: expired, or (no_wait) ended after what was available, or refused while others' requests cover it.
    // 404: nothing available to a request that does not wait.
    if (status === 408 || status === 404) {
      this.end({ delivered: this.delivered, retryable: true });
      return;
    }
    this.end({
      delivered: this.delivered,
      retryable: false,
      error: new Error(`JetStream pull from ${this.options.consumer}: ${status} ${description}`),
    });
  }

  private armWatchdog(): void {
    if (this.options.mode !== 'standing') return;
    clearTimeout(this.watchdog);
    // Two missed heartbeats: the request is gone (a reconnect, a server restart); ask again.
    this.watchdog = setTimeout(
      () => this.end({ delivered: this.delivered, retryable: true }),
      this.options.heartbeatMs * 2 + 500,
    );
  }

  private end(end: PullEnd, notify = true): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.watchdog);
    this.subscription.unsubscribe();
    if (notify) this.options.onEnd(end);
  }
}
