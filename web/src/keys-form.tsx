import { useState } from 'preact/hooks';
import type { Keys } from './api.js';

/** Asks for the two keys when the tab has none; the page cannot call the API without them. */
export function KeyForm(props: { onKeys(keys: Keys): void }) {
  const [apiKey, setApiKey] = useState('');
  const [adminKey, setAdminKey] = useState('');
  return (
    <main class="keys">
      <h1>Syncopate dashboard</h1>
      <p>
        Enter the API key and the admin key <code>npm start</code> printed (its dashboard link carries them in the URL
        fragment, which is never sent to the server). They stay in this tab only.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (apiKey.trim() && adminKey.trim()) props.onKeys({ apiKey: apiKey.trim(), adminKey: adminKey.trim() });
        }}
      >
        <label>
          API key
          <input
            name="api_key"
            autocomplete="off"
            required
            value={apiKey}
            onInput={(e) => setApiKey(e.currentTarget.value)}
          />
        </label>
        <label>
          Admin key
          <input
            name="admin_key"
            autocomplete="off"
            required
            value={adminKey}
            onInput={(e) => setAdminKey(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Open the dashboard</button>
      </form>
    </main>
  );
}
