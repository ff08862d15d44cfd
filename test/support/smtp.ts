import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerError } from 'smtp-server';

/** A message as the SMTP server received it, with the headers and MIME parts decoded enough to assert on. */
export interface ReceivedMail {
  /** RCPT TO addresses. */
  recipients: string[];
  raw: string;
  /** Header names in lower case, folded lines joined, encoded words decoded. */
  headers: Map<string, string>;
  messageId: string | undefined;
  to: string | undefined;
  from: string | undefined;
  subject: string | undefined;
  /** The decoded text/plain and text/html parts (the body itself for a single-part message). */
  text: string | undefined;
  html: string | undefined;
}

export interface Refusal {
  /** The SMTP reply code: 4xx for "try again later", 5xx for "never". */
  code: number;
  message: string;
}

export interface TestSmtpServer {
  /** smtp://127.0.0.1:<port>, known after the first start(). */
  readonly url: string;
  readonly port: number;
  /** Every accepted message, in arrival order. */
  readonly messages: ReceivedMail[];
  /** How many messages were refused (by `refuse`) so far. */
  readonly refusedCount: number;
  /** Listens: on a free port the first time, on the same port after a stop(). */
  start(): Promise<void>;
  /** Stops listening and drops open connections: clients get "connection refused" until start(). */
  stop(): Promise<void>;
  /** Refuses every message after its data is sent with this reply, until called with null. */
  refuse(refusal: Refusal | null): void;
  /**
   * Takes the data of every message but never answers it, as a hung server does, until called
   * with false: then the held messages are refused (their client has long given up on them).
   */
  stall(stalled: boolean): void;
  /** Client connections open right now. */
  readonly openConnections: number;
  /** Messages whose Message-ID is the given one. */
  withMessageId(messageId: string): ReceivedMail[];
}

export interface TestSmtpServerOptions {
  /** How long the server takes to answer each message once its data is in: a slow relay, so sends stay in flight. */
  answerDelayMs?: number;
}

/** A real SMTP server on 127.0.0.1, without TLS or authentication, that keeps what it receives. */
export function createTestSmtpServer(options: TestSmtpServerOptions = {}): TestSmtpServer {
  const messages: ReceivedMail[] = [];
  let refusal: Refusal | null = null;
  let refusedCount = 0;
  let stalled = false;
  const held: Array<() => void> = [];
  let port = 0;
  let server: SMTPServer | undefined;

  const newServer = () =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // Connections left open by a client's pool are dropped at once on stop().
      closeTimeout: 1,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => (options.answerDelayMs ? setTimeout(answer, options.answerDelayMs) : answer()));
        const answer = () => {
          if (stalled) {
            held.push(() => {
              const error: SMTPServerError = new Error('Held too long');
              error.responseCode = 451;
              callback(error);
            });
            return;
          }
          if (refusal) {
            refusedCount++;
            const error: SMTPServerError = new Error(refusal.message);
            error.responseCode = refusal.code;
            callback(error);
            return;
          }
          const recipients = session.envelope.rcptTo.map((r) => r.address);
          messages.push(parseMail(Buffer.concat(chunks).toString('utf8'), recipients));
          callback(null, 'queued');
        };
      },
    });

  return {
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    messages,
    get refusedCount() {
      return refusedCount;
    },
    async start() {
      if (server) return;
      const starting = newServer();
      // A client that dies mid-session (a consumer killed with SIGKILL) resets its connection:
      // routine for this server, not an error of the test.
      starting.on('error', () => {});
      await new Promise<void>((resolve, reject) => {
        starting.server.once('error', reject);
        starting.listen(port, '127.0.0.1', () => resolve());
      });
      server = starting;
      port = (starting.server.address() as AddressInfo).port;
    },
    async stop() {
      const stopping = server;
      server = undefined;
      for (const release of held.splice(0)) release();
      if (stopping) await new Promise<void>((resolve) => stopping.close(() => resolve()));
    },
    refuse(next) {
      refusal = next;
    },
    stall(next) {
      stalled = next;
      if (!next) for (const release of held.splice(0)) release();
    },
    get openConnections() {
      return server?.connections.size ?? 0;
    },
    withMessageId(messageId) {
      return messages.filter((m) => m.messageId === messageId);
    },
  };
}

/** Just enough MIME for tests: headers, one level of multipart, quoted-printable and base64, UTF-8. */
export function parseMail(raw: string, recipients: string[] = []): ReceivedMail {
  const { headers, body } = splitEntity(raw);
  const parts = new Map<string, string>();
  const contentType = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (contentType.toLowerCase().startsWith('multipart/') && boundary) {
    for (const chunk of body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith('--')) break;
      const part = splitEntity(chunk.replace(/^\r?\n/, ''));
      parts.set(mediaType(part.headers), decodeBody(part.body, part.headers));
    }
  } else {
    parts.set(mediaType(headers), decodeBody(body, headers));
  }
  return {
    recipients,
    raw,
    headers,
    messageId: headers.get('message-id'),
    to: headers.get('to'),
    from: headers.get('from'),
    subject: headers.get('subject'),
    text: parts.get('text/plain'),
    html: parts.get('text/html'),
  };
}

function splitEntity(entity: string): { headers: Map<string, string>; body: string } {
  const match = /\r?\n\r?\n/.exec(entity);
  const head = match ? entity.slice(0, match.index) : entity;
  const body = match ? entity.slice(match.index + match[0].length) : '';
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

function mediaType(headers: Map<string, string>): string {
  return (headers.get('content-type') ?? 'text/plain').split(';')[0]?.trim().toLowerCase() ?? 'text/plain';
}

function decodeBody(body: string, headers: Map<string, string>): string {
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const trimmed = body.replace(/\r?\n$/, '');
  if (encoding === 'base64') return Buffer.from(trimmed.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(trimmed);
  return trimmed;
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const unfolded = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < unfolded.length; i++) {
    const char = unfolded[i] as string;
    const hex = unfolded.slice(i + 1, i + 3);
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words (=?UTF-8?Q?...?= and =?UTF-8?B?...?=), as nodemailer writes non-ASCII headers. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?[^?]+\?([QqBb])\?([^?]*)\?=/g, (_, kind: string, data: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}
