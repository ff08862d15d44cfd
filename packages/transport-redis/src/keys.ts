/**
 * The keys of one namespace. All share the `{prefix}` hash tag, so they live in one slot and a
 * script may touch any of them together. The publish and declare scripts build `route:` and
 * `stream:` keys themselves from `base` (their keys depend on data read inside the script), so
 * those two formats are repeated in scripts.ts and must change together.
 */
export interface NamespaceKeys {
  base: string;
  /** A SCAN pattern matching every key of the namespace, and nothing else. */
  pattern: string;
  /** A set of the groups bound to an event type. */
  route(type: string): string;
  /** The group's stream: one entry per event waiting, leased or being retried by this group. */
  stream(group: string): string;
  /** Retries waiting for their delay: a sorted set scored by due time (server clock, ms). */
  delayed(group: string): string;
  /** Dead letters, as a stream whose entry ids are `<position>-0`. */
  deadLetters(group: string): string;
  /** Event id → dead-letter entry id. */
  deadLetterIndex(group: string): string;
  /** The last dead-letter position handed out, kept across purges so cursors only grow. */
  deadLetterPosition(group: string): string;
}

export function namespaceKeys(prefix: string): NamespaceKeys {
  const base = `{${prefix}}:`;
  return {
    base,
    pattern: `${base}*`,
    route: (type) => `${base}route:${type}`,
    stream: (group) => `${base}stream:${group}`,
    delayed: (group) => `${base}delayed:${group}`,
    deadLetters: (group) => `${base}dlq:${group}`,
    deadLetterIndex: (group) => `${base}dlq-index:${group}`,
    deadLetterPosition: (group) => `${base}dlq-position:${group}`,
  };
}
