import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Api, DeadLetter, Json } from './api.js';

export function DeadLetters(props: { api: Api; group: string; count: number }) {
  const { api, group, count } = props;
  const [letters, setLetters] = useState<DeadLetter[]>([]);
  const [inspected, setInspected] = useState<DeadLetter | undefined>();
  const [message, setMessage] = useState('');
  const load = useCallback(async () => {
    const answer = await api.admin<{ data: DeadLetter[] }>('GET', `/v1/admin/dead_letters/${group}?limit=50`);
    if (answer.status === 200) setLetters(answer.body.data);
  }, [api, group]);
  // The count comes with every queues event: the list is read again when it changes.
  useEffect(() => {
    void load();
  }, [load, count]);
  const act = async (method: string, path: string, done: (body: Json) => string) => {
    const answer = await api.admin(method, path);
    setMessage(answer.status === 200 ? done(answer.body) : (answer.body?.error?.message ?? `HTTP ${answer.status}`));
    setInspected(undefined);
    await load();
  };
  const base = `/v1/admin/dead_letters/${group}`;
  return (
    <div id="dead-letters" class="dlq" data-testid="dead-letters">
      <h3>
        Dead letters of <code>{group}</code> ({count})
      </h3>
      <div class="actions">
        <button
          type="button"
          disabled={count === 0}
          onClick={() => void act('POST', `${base}/replay_all`, (b) => `Replayed ${b.replayed}.`)}
        >
          Replay all
        </button>
        <button
          type="button"
          class="danger"
          disabled={count === 0}
          onClick={() => {
            if (confirm(`Discard every dead letter of ${group}? They will not be delivered.`)) {
              void act('DELETE', base, (b) => `Purged ${b.purged}.`);
            }
          }}
        >
          Purge all
        </button>
        <span aria-live="polite" class="muted" data-testid="dlq-message">
          {message}
        </span>
      </div>
      {letters.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul class="letters">
          {letters.map((letter) => (
            <li key={letter.event_id} data-event-id={letter.event_id}>
              <div>
                <code>{letter.type}</code> · payment <code>{letter.event?.subject ?? '?'}</code> · {letter.attempts}{' '}
                attempts · {new Date(letter.dead_lettered_at).toLocaleTimeString()}
              </div>
              <div class="error-text">Last error: {letter.reason}</div>
              <div class="actions">
                <button type="button" class="small" onClick={() => setInspected(letter)}>
                  Inspect<span class="sr-only"> {letter.event_id}</span>
                </button>
                <button
                  type="button"
                  class="small"
                  onClick={() =>
                    void act('POST', `${base}/${letter.event_id}/replay`, () => `Replayed ${letter.event_id}.`)
                  }
                >
                  Replay<span class="sr-only"> {letter.event_id}</span>
                </button>
                <button
                  type="button"
                  class="small danger"
                  onClick={() => {
                    if (confirm(`Discard ${letter.event_id}?`)) {
                      void act('DELETE', `${base}/${letter.event_id}`, () => `Purged ${letter.event_id}.`);
                    }
                  }}
                >
                  Purge<span class="sr-only"> {letter.event_id}</span>
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {inspected && (
        <div class="inspect">
          <h4>
            Event <code>{inspected.event_id}</code>
          </h4>
          <pre>{JSON.stringify(inspected.event ?? inspected.body, null, 2)}</pre>
          <button type="button" class="small" onClick={() => setInspected(undefined)}>
            Close
          </button>
        </div>
      )}
    </div>
  );
}
