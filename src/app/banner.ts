import type { RunningSystem } from './system.js';

/** What `npm start` prints: where it runs, the keys it just made, and a payment to paste. */
export function banner(system: RunningSystem, options: { apiKeyFromEnv: boolean }): string {
  // One line, so that a launcher reading it learns both addresses at once.
  const internal = system.internalUrl
    ? ` (internal routes at ${system.internalUrl}, for the system's own processes only)`
    : '';
  const lines = [``, `Syncopate is running at ${system.url}${internal}`, ``];
  const key = system.issuedApiKey?.secret;
  if (key) {
    lines.push(`API key (shown once, stored hashed; set API_KEY to choose your own): ${key}`);
  } else if (options.apiKeyFromEnv) {
    lines.push('API key: the one in API_KEY');
  } else {
    const newest = system.keys.newest('api');
    lines.push(
      `API key: ${newest?.hint ?? 'none'} (printed at first start; set API_KEY, or run \`npm run cli -- keys create\` for a new one)`,
    );
  }
  if (system.issuedAdminKey)
    lines.push(`Admin key (fault knobs, dead letters; shown once): ${system.issuedAdminKey.secret}`);
  const adminKey = system.issuedAdminKey?.secret;
  if (key && adminKey) {
    // The keys ride in the fragment: the browser keeps them and never sends them to the server.
    lines.push(
      '',
      `Dashboard: ${system.url}/#api_key=${encodeURIComponent(key)}&admin_key=${encodeURIComponent(adminKey)}`,
    );
  } else {
    lines.push('', `Dashboard: ${system.url}/ (it asks for the API key and the admin key)`);
  }
  const bearer = key ?? (options.apiKeyFromEnv ? '$API_KEY' : '<your API key>');
  lines.push(
    '',
    'Pay (a test card that approves):',
    `  curl -s ${system.url}/v1/payments \\`,
    `    -H "Authorization: Bearer ${bearer}" \\`,
    `    -H "Idempotency-Key: $(date +%s%N)" \\`,
    `    -H "Content-Type: application/json" \\`,
    `    -d '{"amount":1999,"currency":"usd","card":{"number":"4242424242424242","exp_month":12,"exp_year":2034,"cvc":"123"},"customer":{"email":"you@example.com"}}'`,
    '',
    'Press Ctrl-C to stop (in-flight work finishes first).',
    '',
  );
  return lines.join('\n');
}
