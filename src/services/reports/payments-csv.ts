import { CURRENCIES, type Currency } from '../../contracts/currencies.js';
import { csvRecord, inertText } from './csv.js';
import type { LedgerPayment } from './ledger-store.js';

export const CSV_HEADER = [
  'payment_id',
  'created_at',
  'status',
  'currency',
  'amount',
  'amount_refunded',
  'net',
  'customer_email',
  'description',
] as const;

/**
 * Amounts in the currency's major unit with its own number of decimals (19.99 USD, 1999 JPY),
 * written from the integer so no floating-point rounding can creep in.
 */
export function majorUnits(amount: number, currency: string): string {
  const digits: number = CURRENCIES[currency as Currency] ?? 2;
  const sign = amount < 0 ? '-' : '';
  const text = Math.abs(amount).toString();
  if (digits === 0) return `${sign}${text}`;
  const padded = text.padStart(digits + 1, '0');
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

interface Totals {
  succeeded: number;
  failed: number;
  gross: number;
  refunded: number;
}

/**
 * One line per payment, then one TOTAL line per currency: gross is the succeeded payments' amount,
 * net what is left after refunds. A failed payment is listed but captured nothing.
 */
export function paymentsCsv(payments: readonly LedgerPayment[]): string {
  const lines = [csvRecord(CSV_HEADER)];
  const totals = new Map<string, Totals>();
  for (const payment of payments) {
    const captured = payment.status === 'succeeded';
    const net = captured ? payment.amount - payment.amount_refunded : 0;
    const sum = totals.get(payment.currency) ?? { succeeded: 0, failed: 0, gross: 0, refunded: 0 };
    if (captured) {
      sum.succeeded += 1;
      sum.gross += payment.amount;
      sum.refunded += payment.amount_refunded;
    } else {
      sum.failed += 1;
    }
    totals.set(payment.currency, sum);
    lines.push(
      // Every text cell comes from an event, and is kept from reading as a formula like the others.
      csvRecord([
        inertText(payment.payment_id),
        inertText(payment.created_at),
        inertText(payment.status),
        inertText(payment.currency),
        majorUnits(payment.amount, payment.currency),
        majorUnits(payment.amount_refunded, payment.currency),
        majorUnits(net, payment.currency),
        inertText(payment.customer_email),
        inertText(payment.description ?? ''),
      ]),
    );
  }
  for (const [currency, sum] of [...totals].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(
      csvRecord([
        'TOTAL',
        '',
        `${sum.succeeded} succeeded, ${sum.failed} failed`,
        inertText(currency),
        majorUnits(sum.gross, currency),
        majorUnits(sum.refunded, currency),
        majorUnits(sum.gross - sum.refunded, currency),
        '',
        '',
      ]),
    );
  }
  return lines.join('');
}
