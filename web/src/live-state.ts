import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Api, FaultRow, QueueRow, SpanRecord } from './api.js';

export type Connection = 'connecting' | 'live' | 'reconnecting';

export interface DashboardConfig {
  sync_system: boolean;
  lab_report: boolean;
}

/**
 * What the server tells the page: a first read when the keys are set (config, queue figures, whether the keys are
 * accepted), then the live stream of spans, queue figures and fault knobs.
 */
export function useLiveState(api: Api) {
  const [config, setConfig] = useState<DashboardConfig>({
    sync_system: false,
    lab_report: false,
  });
  const [connection, setConnection] = useState<Connection>('connecting');
  const [queues, setQueues] = useState<QueueRow[]>([]);
  const [faults, setFaults] = useState<FaultRow[]>([]);
  // Spans arrive one at a time and are merged in place; the version only tells Preact to render again.
  const [, setVersion] = useState(0);
  const spans = useRef(new Map<string, Map<string, SpanRecord>>());
  const [authError, setAuthError] = useState<string | undefined>();

  const addSpans = useCallback((paymentId: string, records: readonly SpanRecord[]) => {
    const known = spans.current.get(paymentId) ?? new Map<string, SpanRecord>();
    for (const record of records) known.set(record.spanId, record);
    spans.current.set(paymentId, known);
    setVersion((v) => v + 1);
  }, []);

  useEffect(() => {
    void fetch('/v1/dashboard/config')
      .then((r) => r.json())
      .then(setConfig)
      .catch(() => undefined);
    void api.admin('GET', '/v1/admin/queues').then((answer) => {
      if (answer.status === 401) setAuthError('The admin key was refused.');
      else if (answer.status === 200) setQueues(answer.body.data);
    });
    void api.call('GET', '/v1/payments?limit=1').then((answer) => {
      if (answer.status === 401) setAuthError('The API key was refused.');
    });
  }, [api]);

  useEffect(() => {
    const source = new EventSource(api.streamUrl());
    source.onopen = () => setConnection('live');
    source.onerror = () => setConnection('reconnecting');
    source.addEventListener('span', (event) => {
      const { payment_id, span } = JSON.parse((event as MessageEvent<string>).data) as {
        payment_id: string | null;
        span: SpanRecord;
      };
      if (payment_id) addSpans(payment_id, [span]);
    });
    source.addEventListener('queues', (event) => setQueues(JSON.parse((event as MessageEvent<string>).data)));
    source.addEventListener('faults', (event) => setFaults(JSON.parse((event as MessageEvent<string>).data)));
    return () => source.close();
  }, [api, addSpans]);

  const spansOf = (paymentId: string): SpanRecord[] => [...(spans.current.get(paymentId)?.values() ?? [])];

  return { config, connection, queues, faults, setFaults, authError, addSpans, spansOf };
}
