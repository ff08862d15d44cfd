import { messageIdFor } from './message-id.js';
import { type PaymentEvent, receiptFor } from './receipt.js';
import { renderHtml, renderText } from './render-receipt.js';

/** One email, ready for a mailer: addressed, identified and rendered both ways. */
export interface OutgoingEmail {
  eventId: string;
  messageId: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export function emailFor(event: PaymentEvent, options: { from: string }): OutgoingEmail {
  const receipt = receiptFor(event);
  return {
    eventId: event.id,
    messageId: messageIdFor(event.id),
    from: options.from,
    to: event.data.customer_email,
    subject: receipt.subject,
    text: renderText(receipt),
    html: renderHtml(receipt),
  };
}
