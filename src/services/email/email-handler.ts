import type { Handler } from '@syncopate/messaging';
import type { Logger } from 'pino';
import type { Faults } from '../../platform/faults.js';
import type { Mailer } from './mailer.js';
import { emailFor } from './outgoing-email.js';
import type { PaymentEvent } from './receipt.js';
import type { SentEmails } from './sent-emails.js';

export interface EmailHandlerOptions {
  faults: Faults;
  sentEmails: SentEmails;
  mailer: Mailer;
  from: string;
  logger: Logger;
}

/**
 * One email per payment event, whatever the redeliveries: an event already in sent_emails sends
 * nothing; any failure to send throws, and the runtime retries or dead-letters the event.
 */
export function createEmailHandler(options: EmailHandlerOptions): Handler<PaymentEvent> {
  const { faults, sentEmails, mailer, logger } = options;
  return async (message) => {
    const { event } = message;
    await faults.disturb(message);
    if (await sentEmails.has(event.id)) {
      logger.debug({ eventId: event.id, type: event.type }, 'email already sent for this event; redelivery skipped');
      return;
    }
    const email = emailFor(event, { from: options.from });
    const sent = await mailer.send(email, { signal: message.signal });
    // The one place a duplicate can still occur: the server has accepted the email and this row is
    // not written yet (the process dies, the disk fails, or an abort came too late to stop the
    // server taking it). The redelivery then sends again, with the same Message-ID, so a receiving
    // MTA that deduplicates drops it. Writing the row before sending would instead lose the email
    // for good whenever the send then failed: at-least-once is the side to err on for a receipt.
    await sentEmails.record({ eventId: event.id, messageId: sent.messageId, recipient: email.to, sentAt: new Date() });
    logger.info(
      {
        eventId: event.id,
        type: event.type,
        paymentId: event.data.payment_id,
        recipientDomain: email.to.slice(email.to.lastIndexOf('@') + 1),
        messageId: sent.messageId,
        mailer: mailer.kind,
      },
      'email sent',
    );
  };
}
