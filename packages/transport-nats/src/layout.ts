/**
 * Where everything of one namespace lives on the server. With namespace `NS`:
 * - stream `NS` (limits retention, maxAgeHours) holds the events on `NS.ev.<type>` and dead-letter replays,
 *   which go to one group only, on `NS.to.<group>.<type>`;
 * - one durable pull consumer per (group, type), `ev~<group>~<type with "~" for ".">`, filtered on
 *   `NS.ev.<type>` (a 2.9 server allows one filter subject per consumer), and one per group for
 *   its replays, `rp~<group>`;
 * - stream `NS_DLQ_<group>` holds a group's dead letters, one subject per event id;
 * - stream `NS_ATTEMPTS` remembers, per redelivered message, the deliveries that must not count
 *   as attempts and when the first attempt happened (JetStream counts every delivery).
 */
export class Layout {
  readonly stream: string;
  readonly attemptsStream: string;

  constructor(readonly namespace: string) {
    this.stream = namespace;
    this.attemptsStream = `${namespace}_ATTEMPTS`;
  }

  get streamSubjects(): string[] {
    return [`${this.namespace}.ev.>`, `${this.namespace}.to.>`];
  }

  eventSubject(type: string): string {
    return `${this.namespace}.ev.${type}`;
  }

  replaySubject(group: string, type: string): string {
    return `${this.namespace}.to.${group}.${type}`;
  }

  replayFilter(group: string): string {
    return `${this.namespace}.to.${group}.>`;
  }

  /** The event type a message of the main stream carries, from its subject. */
  typeOfSubject(subject: string): string {
    const events = `${this.namespace}.ev.`;
    if (subject.startsWith(events)) return subject.slice(events.length);
    // NS.to.<group>.<type>: the group has no ".", so the type starts after the next one.
    const rest = subject.slice(`${this.namespace}.to.`.length);
    return rest.slice(rest.indexOf('.') + 1);
  }

  /** The type a consumer filter routes, or undefined for a replay consumer. */
  typeOfFilter(filter: string | undefined): string | undefined {
    const events = `${this.namespace}.ev.`;
    return filter?.startsWith(events) ? filter.slice(events.length) : undefined;
  }

  eventConsumer(group: string, type: string): string {
    return `ev~${group}~${type.replaceAll('.', '~')}`;
  }

  replayConsumer(group: string): string {
    return `rp~${group}`;
  }

  deadLetterStream(group: string): string {
    return `${this.namespace}_DLQ_${group}`;
  }

  deadLetterSubject(group: string, eventId: string): string {
    return `${this.namespace}.dlq.${group}.${subjectToken(eventId)}`;
  }

  deadLetterSubjects(group: string): string {
    return `${this.namespace}.dlq.${group}.*`;
  }

  attemptsSubject(group: string, streamSequence: number): string {
    return `${this.namespace}.att.${group}.${streamSequence}`;
  }
}

/** Event types become subject tokens as they are, so only plain dotted names can be bound. */
export const ROUTABLE_TYPE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Event ids are UUIDs in practice; anything else is base64url-encoded behind a "=" no plain id contains. */
function subjectToken(id: string): string {
  return /^[A-Za-z0-9_-]{1,200}$/.test(id) ? id : `=${Buffer.from(id).toString('base64url')}`;
}
