import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * The lab's mail server: a real SMTP endpoint on 127.0.0.1 that accepts every receipt and counts
 * them per recipient and Message-ID, with the moment the first one arrived. Each lab payment has a
 * customer address of its own, so the counts say, per payment, whether its receipt arrived, when,
 * and how many times.
 */
export class MailSink {
  /** recipient → Message-ID → times received. */
  private readonly received = new Map<string, Map<string, number>>();
  /** recipient → when its first receipt arrived (performance.now()). */
  private readonly firstArrival = new Map<string, number>();
  private server: SMTPServer | undefined;
  url = '';
  /**
   * How long the server waits, once it has a message, before it confirms it (\`250\`), as a remote
   * server's round trip would. A sender that dies in between has sent a receipt it never learns
   * was taken: the classic way an at-least-once sender sends one twice (RFC 1047).
   */
  replyDelayMs = 0;

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 1,
      onData: (stream, session, callback) => {
        let head = '';
        stream.on('data', (chunk: Buffer) => {
          if (head.length < 16_384) head += chunk.toString('utf8');
        });
        stream.on('end', () => {
          const messageId = /^message-id:\s*(\S+)/im.exec(head)?.[1] ?? 'unknown';
          for (const { address } of session.envelope.rcptTo) this.count(address.toLowerCase(), messageId);
          if (this.replyDelayMs > 0) setTimeout(() => callback(null, 'queued'), this.replyDelayMs);
          else callback(null, 'queued');
        });
      },
    });
    // A consumer killed mid-session resets its connection: routine in the crash scenario.
    server.on('error', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    this.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  }

  /** Distinct receipts and total sends for one recipient. */
  receiptsFor(recipient: string): { distinct: number; total: number } {
    const byId = this.received.get(recipient.toLowerCase());
    if (!byId) return { distinct: 0, total: 0 };
    let total = 0;
    for (const n of byId.values()) total += n;
    return { distinct: byId.size, total };
  }

  /** When the recipient's first receipt arrived (performance.now()), if one has. */
  arrivalOf(recipient: string): number | undefined {
    return this.firstArrival.get(recipient.toLowerCase());
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private count(recipient: string, messageId: string): void {
    const byId = this.received.get(recipient) ?? new Map<string, number>();
    byId.set(messageId, (byId.get(messageId) ?? 0) + 1);
    this.received.set(recipient, byId);
    if (!this.firstArrival.has(recipient)) this.firstArrival.set(recipient, performance.now());
  }
}
