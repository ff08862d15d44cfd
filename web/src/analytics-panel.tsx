import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Api, Json } from './api.js';
import { ScrollRegion } from './scroll-region.js';

interface Report {
  id: string;
  status: 'pending' | 'ready' | 'failed';
  from: string;
  to: string;
  download_url: string | null;
  failure_reason: string | null;
  httpStatus: number;
}

export function AnalyticsPanel(props: { api: Api; payments: number }) {
  const { api } = props;
  const [totals, setTotals] = useState<Json[]>([]);
  const [reports, setReports] = useState<Report[]>([]);
  const refresh = useCallback(async () => {
    const answer = await api.call('GET', '/v1/analytics/summary');
    if (answer.status === 200) setTotals(answer.body.totals);
  }, [api]);
  // Analytics counts asynchronously: read again shortly after each payment made here.
  useEffect(() => {
    void refresh();
    const timer = setTimeout(() => void refresh(), 1_000);
    return () => clearTimeout(timer);
  }, [refresh, props.payments]);

  const poll = useCallback(
    async (id: string) => {
      for (let i = 0; i < 120; i++) {
        const answer = await api.call('GET', `/v1/reports/${id}`);
        if (answer.status === 200) {
          setReports((list) => list.map((r) => (r.id === id ? { ...r, ...answer.body } : r)));
          if (answer.body.status !== 'pending') return;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
    [api],
  );
  const request = async () => {
    const to = new Date();
    const from = new Date(to.getTime() - 86_400_000);
    const answer = await api.call('POST', '/v1/reports', {
      body: { from: from.toISOString(), to: to.toISOString() },
      idempotent: true,
    });
    if (answer.status !== 202) return;
    setReports((list) => [{ ...answer.body, httpStatus: answer.status }, ...list].slice(0, 10));
    void poll(answer.body.id);
  };
  const download = async (report: Report) => {
    const response = await fetch(report.download_url ?? '', {
      headers: { authorization: `Bearer ${api.keys.apiKey}` },
    });
    const url = URL.createObjectURL(await response.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `${report.id}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <section id="analytics" class="panel wide" aria-labelledby="analytics-title">
      <h2 id="analytics-title">Analytics and reports</h2>
      <div class="two">
        <div>
          <h3>Summary</h3>
          <ScrollRegion label="Analytics summary">
            <table>
              <thead>
                <tr>
                  <th scope="col">Currency</th>
                  <th scope="col">Succeeded</th>
                  <th scope="col">Failed</th>
                  <th scope="col">Gross</th>
                  <th scope="col">Success rate</th>
                </tr>
              </thead>
              <tbody>
                {totals.length === 0 && (
                  <tr>
                    <td colSpan={5} class="muted">
                      No payments counted yet.
                    </td>
                  </tr>
                )}
                {totals.map((t) => (
                  <tr key={t.currency}>
                    <th scope="row">{String(t.currency).toUpperCase()}</th>
                    <td>{t.succeeded_count}</td>
                    <td>{t.failed_count}</td>
                    <td>{t.gross_amount}</td>
                    <td>{t.success_rate === null ? '–' : `${Math.round(t.success_rate * 100)}%`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
          <button type="button" class="small" onClick={() => void refresh()}>
            Refresh
          </button>
        </div>
        <div>
          <h3>Reports</h3>
          <button type="button" onClick={() => void request()}>
            Request a report of the last 24 hours
          </button>
          <ul class="reports" aria-live="polite">
            {reports.map((r) => (
              <li key={r.id}>
                <code>{r.id}</code>: {r.httpStatus} accepted → <strong>{r.status}</strong>
                {r.status === 'ready' && (
                  <>
                    {' '}
                    <button type="button" class="small" onClick={() => void download(r)}>
                      Download CSV<span class="sr-only"> of {r.id}</span>
                    </button>
                  </>
                )}
                {r.failure_reason && <span class="error-text"> {r.failure_reason}</span>}
              </li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  );
}
