import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, messageOf } from '../api';
import { fleet } from '../fleet';
import { agentHref, navigate } from '../router';
import type { Agent, Connection, Repo } from '../types';

type Field = 'repo' | 'taskId' | 'prompt' | 'runtime' | 'type' | 'priority' | 'peer';
const FIELDS: Field[] = ['repo', 'taskId', 'prompt', 'runtime', 'type', 'priority', 'peer'];

/** Which form field an API error is about: schema errors name it, service errors say it in their code. */
export function fieldOf(err: ApiError): Field | undefined {
  const top = err.field?.split('.')[0];
  if (top && (FIELDS as string[]).includes(top)) return top as Field;
  const code = err.code;
  if (code.includes('repo') || code.includes('base_branch')) return 'repo';
  if (code.includes('peer')) return 'peer';
  if (code.includes('task')) return 'taskId';
  if (code.includes('prompt')) return 'prompt';
  if (code.includes('runtime')) return 'runtime';
  if (code.includes('priority')) return 'priority';
  return undefined;
}

function FieldError({ id, message }: { id: string; message: string | undefined }) {
  return message ? <p class="field-error" id={id} role="alert">{message}</p> : null;
}

/** The spawn form: every field the API takes that people set by hand; the API's verdict decides. */
export function SpawnView() {
  const [repos, setRepos] = useState<Repo[]>([]);
  const [peers, setPeers] = useState<Connection[]>([]);
  const [form, setForm] = useState({ repo: '', taskId: '', prompt: '', kind: 'claude', argv: '', model: '', type: 'worker', priority: '', peer: '' });
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.get<{ repos: Repo[] }>('/repos').then((r) => setRepos(r.repos)).catch(() => undefined);
    api.get<{ connections: Connection[] }>('/federation/connections').then((c) => setPeers(c.connections.filter((p) => p.state === 'active'))).catch(() => undefined);
  }, []);

  const set = (patch: Partial<typeof form>) => setForm({ ...form, ...patch });

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFormError(undefined);
    const runtime = form.kind === 'command'
      ? { kind: 'command', argv: form.argv.split('\n').map((a) => a.trim()).filter(Boolean) }
      : { kind: form.kind, ...(form.model.trim() ? { model: form.model.trim() } : {}) };
    const body: Record<string, unknown> = { repo: form.repo.trim(), taskId: form.taskId.trim(), prompt: form.prompt, runtime, type: form.type };
    if (form.priority.trim() !== '') body.priority = Number(form.priority);
    if (form.peer) body.peer = form.peer;
    try {
      const agent = await api.post<Agent>('/agents', body);
      fleet.apply(agent);
      navigate(agentHref(agent.id));
    } catch (err) {
      const field = err instanceof ApiError ? fieldOf(err) : undefined;
      if (field) setErrors({ [field]: messageOf(err) });
      else setFormError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const described = (field: Field) => (errors[field] ? { 'aria-invalid': true, 'aria-describedby': `${field}-error` } : {});

  return (
    <section aria-labelledby="spawn-title">
      <h1 id="spawn-title">Spawn an agent</h1>
      <form class="spawn" noValidate onSubmit={(e) => void submit(e)}>
        <label for="repo">Repository</label>
        <input id="repo" list="repo-names" value={form.repo} onInput={(e) => set({ repo: e.currentTarget.value })} {...described('repo')} />
        <datalist id="repo-names">{repos.map((r) => <option key={r.name} value={r.name} />)}</datalist>
        <FieldError id="repo-error" message={errors.repo} />

        <label for="taskId">Task id</label>
        <input id="taskId" value={form.taskId} onInput={(e) => set({ taskId: e.currentTarget.value })} {...described('taskId')} />
        <FieldError id="taskId-error" message={errors.taskId} />

        <label for="prompt">Prompt</label>
        <textarea id="prompt" rows={5} value={form.prompt} onInput={(e) => set({ prompt: e.currentTarget.value })} {...described('prompt')} />
        <FieldError id="prompt-error" message={errors.prompt} />

        <label for="kind">Runtime</label>
        <select id="kind" value={form.kind} onChange={(e) => set({ kind: e.currentTarget.value })} {...described('runtime')}>
          <option value="claude">claude (Claude Code)</option>
          <option value="codex">codex (Codex CLI)</option>
          <option value="gemini">gemini (Gemini CLI)</option>
          <option value="opencode">opencode</option>
          <option value="command">command (any program)</option>
        </select>
        {form.kind === 'command'
          ? (<>
            <label for="argv">Command, one argument per line</label>
            <textarea id="argv" rows={3} value={form.argv} onInput={(e) => set({ argv: e.currentTarget.value })} {...described('runtime')} />
          </>)
          : (<>
            <label for="model">Model (optional)</label>
            <input id="model" value={form.model} onInput={(e) => set({ model: e.currentTarget.value })} />
          </>)}
        <FieldError id="runtime-error" message={errors.runtime} />

        <label for="type">Type</label>
        <select id="type" value={form.type} onChange={(e) => set({ type: e.currentTarget.value })} {...described('type')}>
          <option value="worker">worker</option>
          <option value="reviewer">reviewer</option>
          <option value="tester">tester</option>
        </select>
        <FieldError id="type-error" message={errors.type} />

        <label for="priority">Priority (1–10, optional)</label>
        <input id="priority" inputMode="numeric" value={form.priority} onInput={(e) => set({ priority: e.currentTarget.value })} {...described('priority')} />
        <FieldError id="priority-error" message={errors.priority} />

        <label for="peer">Run on</label>
        <select id="peer" value={form.peer} onChange={(e) => set({ peer: e.currentTarget.value })} {...described('peer')}>
          <option value="">this instance</option>
          {peers.map((p) => <option key={p.id} value={p.name}>{p.name}</option>)}
        </select>
        <FieldError id="peer-error" message={errors.peer} />

        {formError && <p class="error" role="alert">{formError}</p>}
        <button type="submit" disabled={busy}>Spawn</button>
      </form>
    </section>
  );
}
