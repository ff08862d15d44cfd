import { useState } from 'preact/hooks';
import { type Api, formatMs, type QueueRow } from './api.js';
import { DeadLetters } from './dead-letters.js';
import { ScrollRegion } from './scroll-region.js';

export function QueuesPanel(props: { api: Api; queues: QueueRow[] }) {
  const [group, setGroup] = useState<string | undefined>();
  const count = props.queues.find((q) => q.group === group)?.dead_lettered;
  return (
    <section id="queues" class="panel wide" aria-labelledby="queues-title">
      <h2 id="queues-title">Queues</h2>
      <ScrollRegion label="Queue figures">
        <table class="queues" data-testid="queues">
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Waiting</th>
              <th scope="col">Delayed</th>
              <th scope="col">In flight</th>
              <th scope="col">Lag</th>
              <th scope="col">Handled</th>
              <th scope="col">Retries</th>
              <th scope="col">Dead-lettered</th>
              <th scope="col">
                <span class="sr-only">Dead-letter queue</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.queues.map((q) => (
              <tr key={q.group} data-group={q.group}>
                <th scope="row">{q.group}</th>
                <td>{q.waiting}</td>
                <td>{q.delayed ?? '–'}</td>
                <td>{q.in_flight}</td>
                <td>{formatMs(q.oldest_waiting_age_ms)}</td>
                <td>{q.this_process.handled}</td>
                <td class={q.this_process.retries > 0 ? 'warn' : ''}>{q.this_process.retries}</td>
                <td class={q.dead_lettered > 0 ? 'bad' : ''} data-testid={`dead-${q.group}`}>
                  {q.dead_lettered}
                </td>
                <td>
                  <button
                    type="button"
                    class="small"
                    aria-expanded={group === q.group}
                    aria-controls="dead-letters"
                    onClick={() => setGroup(group === q.group ? undefined : q.group)}
                  >
                    Dead letters<span class="sr-only"> of {q.group}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      <p class="muted small-print">
        Waiting, delayed, in flight, dead-lettered and lag are the queue's; handled and retries count this process's
        consumers since it started.
      </p>
      {group && <DeadLetters api={props.api} group={group} count={count ?? 0} />}
    </section>
  );
}
