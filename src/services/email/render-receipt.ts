import { escapeHtml } from './escape-html.js';
import type { Receipt } from './receipt.js';

const SIGNATURE = 'Syncopate';

export function renderText(receipt: Receipt): string {
  const width = Math.max(...receipt.details.map(([label]) => label.length)) + 2;
  const details = receipt.details.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`);
  return [receipt.heading, '', receipt.intro, '', ...details, '', receipt.outro, '', `— ${SIGNATURE}`, ''].join('\n');
}

/**
 * Every value goes through escapeHtml, the labels and fixed wording included: a description (or any
 * other field a client typed) can never become markup in the customer's mail reader.
 */
export function renderHtml(receipt: Receipt): string {
  const rows = receipt.details
    .map(
      ([label, value]) =>
        `<tr><th align="left" style="padding:4px 16px 4px 0;color:#555;font-weight:normal">${escapeHtml(label)}</th>` +
        `<td style="padding:4px 0">${escapeHtml(value)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(receipt.subject)}</title></head>
<body style="font-family:sans-serif;color:#111;max-width:560px">
<h1 style="font-size:20px">${escapeHtml(receipt.heading)}</h1>
<p>${escapeHtml(receipt.intro)}</p>
<table role="presentation" cellspacing="0" cellpadding="0">
${rows}
</table>
<p>${escapeHtml(receipt.outro)}</p>
<p style="color:#555">${escapeHtml(SIGNATURE)}</p>
</body>
</html>
`;
}
