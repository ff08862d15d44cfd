import type { Context } from '@opentelemetry/api';
import { errorMessage } from '@syncopate/messaging';
import { type Dispatcher, request } from 'undici';
import { tracedCall } from '../../platform/telemetry/client-spans.js';
import { SIGNATURE_HEADER, signPayload } from './webhook-signature.js';
import { checkUrlShape, WebhookUrlError, type WebhookUrlPolicy } from './webhook-url-policy.js';

export interface SendWebhookOptions {
  url: string;
  /** The JSON text to send; it is what gets signed, byte for byte. */
  body: string;
  secret: string;
  /** The whole request, connection to last byte of the answer's head. */
  timeoutMs: number;
  /** The handler's signal: aborted on handler timeout or shutdown. */
  signal: AbortSignal;
  /** The handling attempt's trace context: the request is its client span. */
  trace: Context;
  /** Where webhooks may go, checked again here: the endpoint may have been stored under another policy. */
  policy: WebhookUrlPolicy;
  /** The agent whose connections go only to addresses the policy admits (`webhookAgent`). */
  agent: Dispatcher;
}

/** What one endpoint made of one request. `status` is null when it never answered. */
export type SendResult = { ok: true; status: number } | { ok: false; status: number | null; error: string };

/** Up to this much of an answer is read, only so the connection can be reused; the content is not kept. */
const MAX_DRAINED_BYTES = 64 * 1024;

/**
 * POSTs one signed webhook. Never throws for the endpoint's own failures (refused, timed out, non-2xx):
 * those are results to record. Redirects are not followed, as with Stripe: an endpoint must answer itself.
 */
export async function sendWebhook(options: SendWebhookOptions): Promise<SendResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  try {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Syncopate-Webhooks/1.0',
      [SIGNATURE_HEADER]: signPayload({ body: options.body, secret: options.secret }),
    };
    const url = new URL(options.url);
    checkUrlShape(url, options.policy);
    const { statusCode: status } = await tracedCall(options.trace, 'POST', url, headers, async () => {
      const response = await request(url, {
        method: 'POST',
        dispatcher: options.agent,
        headers,
        body: options.body,
        signal: AbortSignal.any([options.signal, timeout]),
      });
      await response.body.dump({ limit: MAX_DRAINED_BYTES }).catch(() => undefined);
      return response;
    });
    if (status >= 200 && status < 300) return { ok: true, status };
    return { ok: false, status, error: `answered HTTP ${status}` };
  } catch (error) {
    // Shutdown or the handler's own timeout: not the endpoint's failure, so let the runtime decide.
    if (options.signal.aborted) throw options.signal.reason;
    if (timeout.aborted) return { ok: false, status: null, error: `no answer within ${options.timeoutMs} ms` };
    if (error instanceof WebhookUrlError) return { ok: false, status: null, error: error.message };
    return { ok: false, status: null, error: `request failed: ${errorMessage(error)}` };
  }
}
