import { defineEvent } from '@syncopate/messaging';
import { z } from 'zod';

/**
 * The reports service's own events: it asks itself, through the queue, to do the work the
 * client did not wait for. Declared here so any consumer depends on the declaration, not on the service.
 */
export const ReportRequested = defineEvent({
  type: 'report.requested',
  version: 1,
  description: 'A merchant asked for a CSV of its payments between two instants; the report row is pending.',
  schema: z.object({
    report_id: z.string(),
    account_id: z.string(),
    from: z.iso.datetime(),
    to: z.iso.datetime(),
  }),
});
