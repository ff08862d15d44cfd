/**
 * The currencies Syncopate accepts, with the number of decimal places of their minor unit
 * (ISO 4217). Amounts are always integers in the minor unit: 1999 USD is $19.99, 1999 JPY is ¥1,999.
 */
export const CURRENCIES = {
  usd: 2,
  eur: 2,
  gbp: 2,
  chf: 2,
  cad: 2,
  aud: 2,
  sek: 2,
  nok: 2,
  dkk: 2,
  pln: 2,
  jpy: 0,
  krw: 0,
  vnd: 0,
  clp: 0,
  isk: 0,
  bhd: 3,
  kwd: 3,
  jod: 3,
} as const satisfies Record<string, number>;

export type Currency = keyof typeof CURRENCIES;

export const SUPPORTED_CURRENCIES = Object.keys(CURRENCIES) as Currency[];

/** One formatter per number of decimals: `toLocaleString` with options builds one per call (~37 µs). */
const formatters = new Map<number, Intl.NumberFormat>();

/** "19.99 USD", "1,999 JPY": for receipts and reports, not for arithmetic. */
export function formatAmount(amount: number, currency: string): string {
  const digits = CURRENCIES[currency.toLowerCase() as Currency] ?? 2;
  let formatter = formatters.get(digits);
  if (!formatter) {
    formatter = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    formatters.set(digits, formatter);
  }
  return `${formatter.format(amount / 10 ** digits)} ${currency.toUpperCase()}`;
}
