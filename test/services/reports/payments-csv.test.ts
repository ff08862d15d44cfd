import { describe, expect, it } from 'vitest';
import { csvRecord, inertText } from '../../../src/services/reports/csv.js';
import { majorUnits } from '../../../src/services/reports/payments-csv.js';

describe('report CSV pieces', () => {
  it('writes amounts in major units with the currency’s own decimals, exactly', () => {
    expect(majorUnits(1_999, 'usd')).toBe('19.99');
    expect(majorUnits(5, 'eur')).toBe('0.05');
    expect(majorUnits(0, 'usd')).toBe('0.00');
    expect(majorUnits(1_999, 'jpy')).toBe('1999');
    expect(majorUnits(1_234, 'bhd')).toBe('1.234');
    expect(majorUnits(-500, 'usd')).toBe('-5.00');
    expect(majorUnits(9_007_199_254_740_991, 'usd')).toBe('90071992547409.91');
  });

  it('quotes only the fields that need it, doubling quotes, and ends records with CRLF', () => {
    expect(csvRecord(['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r', ''])).toBe(
      'plain,"a,b","say ""hi""","two\nlines","cr\r",\r\n',
    );
  });

  it('defuses text a spreadsheet would run as a formula', () => {
    expect(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', 'ok=1'].map(inertText)).toEqual([
      "'=1+1",
      "'+1",
      "'-1",
      "'@SUM(A1)",
      "'\tx",
      'ok=1',
    ]);
  });
});
