import { useState } from 'preact/hooks';
import { api, messageOf } from '../api';

/** Sign-in: the URL from `mosaic dashboard`, or the admin token pasted here (never put into a URL). */
export function LoginView({ notice, onSignedIn }: { notice: string | undefined; onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.post('/dashboard/session', { token });
      setToken('');
      onSignedIn();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <h1>Mosaic</h1>
      {notice && <p class="notice" role="alert">{notice}</p>}
      <p>Run <code>mosaic dashboard</code> on the machine of this instance and open the URL it prints, or sign in with the admin token from <code>$MOSAIC_HOME/admin-token</code>.</p>
      <form onSubmit={(e) => void submit(e)}>
        <label for="token">Admin token</label>
        <input id="token" type="password" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} required />
        {error && <p class="field-error" role="alert">{error}</p>}
        <button type="submit" disabled={busy || token === ''}>Sign in</button>
      </form>
    </main>
  );
}
