import { describe, expect, it } from 'vitest';
import { mailKeyFor, messageIdFor } from '../../../src/services/email/message-id.js';
import { emailFor } from '../../../src/services/email/outgoing-email.js';
import { cardLabel } from '../../../src/services/email/receipt.js';
import { failed, payment, refunded, succeeded } from './harness.js';

const from = 'Syncopate Receipts <receipts@syncopate.local>';

describe('receipt content', () => {
  it('shows amounts in the currency minor unit: 2, 0 and 3 decimals', () => {
    expect(emailFor(succeeded(payment({ amount: 123_456, currency: 'usd' })), { from }).subject).toContain(
      '1,234.56 USD',
    );
    expect(emailFor(succeeded(payment({ amount: 1999, currency: 'jpy' })), { from }).subject).toContain('1,999 JPY');
    expect(emailFor(succeeded(payment({ amount: 1999, currency: 'kwd' })), { from }).subject).toContain('1.999 KWD');
  });

  it('names the card by brand and last 4 only', () => {
    expect(cardLabel({ brand: 'visa', last4: '4242' })).toBe('Visa •••• 4242');
    expect(cardLabel({ brand: 'amex', last4: '0005' })).toBe('American Express •••• 0005');
    expect(cardLabel({ brand: 'unknown', last4: '1111' })).toBe('Unknown •••• 1111');
  });

  it('leaves out the description line when the payment has none', () => {
    const email = emailFor(failed(payment({ description: null })), { from });
    expect(email.text).not.toContain('Description');
    expect(email.html).not.toContain('Description');
  });

  it('addresses the email to the customer, from EMAIL_FROM, under a Message-ID derived from the event id', () => {
    const event = refunded(payment({ customer_email: 'lin@example.com' }), { amount: 1, total: 1 });
    const email = emailFor(event, { from });
    expect(email).toMatchObject({ to: 'lin@example.com', from, messageId: `<${event.id}@syncopate.local>` });
    expect(emailFor(event, { from }).messageId).toBe(email.messageId);
  });

  it('hashes an event id that could break a header or escape the mail directory', () => {
    for (const id of ['../../etc/passwd', 'a b>c', 'x\r\nBcc: victim@example.com', '.hidden']) {
      expect(mailKeyFor(id)).toMatch(/^h-[0-9a-f]{40}$/);
      expect(messageIdFor(id)).toMatch(/^<h-[0-9a-f]{40}@syncopate\.local>$/);
    }
    expect(mailKeyFor('../../etc/passwd')).toBe(mailKeyFor('../../etc/passwd'));
    expect(mailKeyFor('../a')).not.toBe(mailKeyFor('../b'));
  });
});
