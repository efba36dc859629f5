import { quote } from 'shell-quote';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, messageOf } from '../api';
import { fleet } from '../fleet';
import { agentHref, navigate } from '../router';
import { argvFromLines, splitCommand, type SplitCommand } from '../argv';
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

/**
 * The runtimes the form offers, in order: one entry per kind (the value the
 * API takes, and how the form names it). `command` shows the command field,
 * every other kind the model field.
 */
export const RUNTIME_CHOICES: readonly { kind: string; label: string }[] = [
  { kind: 'claude', label: 'claude (Claude Code)' },
  { kind: 'codex', label: 'codex (Codex CLI)' },
  { kind: 'gemini', label: 'gemini (Gemini CLI)' },
  { kind: 'opencode', label: 'opencode' },
  { kind: 'command', label: 'command (any program)' },
];

type Form = {
  repo: string; taskId: string; prompt: string; kind: string; command: string; lines: string; perLine: boolean;
  model: string; type: string; priority: string; peer: string;
};

/** The command as argv: split as a shell would, or one argument per line (the advanced form). */
function argvOf(form: Form): SplitCommand {
  return form.perLine ? { argv: argvFromLines(form.lines) } : splitCommand(form.command);
}

/** Every problem the form can see by itself, all at once (the API's verdict comes after). */
export function missingFields(form: Form): Partial<Record<Field, string>> {
  const errors: Partial<Record<Field, string>> = {};
  if (form.repo.trim() === '') errors.repo = 'Choose a repository.';
  if (form.taskId.trim() === '') errors.taskId = 'A task id is required (letters, digits, - and _).';
  if (form.prompt.trim() === '') errors.prompt = 'Say what the agent should do.';
  if (form.kind === 'command') {
    const split = argvOf(form);
    if (split.error !== undefined) errors.runtime = split.error;
    else if (split.argv.length === 0) errors.runtime = 'Give the command to run.';
  }
  if (form.priority.trim() !== '' && !/^\d+$/.test(form.priority.trim())) errors.priority = 'Priority is a whole number from 1 to 10.';
  return errors;
}

/** The spawn form: every field the API takes that people set by hand; the API's verdict decides. */
export function SpawnView() {
  const [repos, setRepos] = useState<Repo[]>([]);
  const [peers, setPeers] = useState<Connection[]>([]);
  const [form, setForm] = useState<Form>({
    repo: '', taskId: '', prompt: '', kind: 'claude', command: '', lines: '', perLine: false, model: '', type: 'worker', priority: '', peer: '',
  });
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.get<{ repos: Repo[] }>('/repos').then((r) => setRepos(r.repos)).catch(() => undefined);
    api.get<{ connections: Connection[] }>('/federation/connections').then((c) => setPeers(c.connections.filter((p) => p.state === 'active'))).catch(() => undefined);
  }, []);

  const set = (patch: Partial<Form>) => setForm({ ...form, ...patch });
  // On a peer, the repositories are the peer's: the ones it granted this instance, when it named them.
  const peer = peers.find((p) => p.name === form.peer);
  const granted = peer?.peerGrants?.repos;
  const repoChoices = form.peer === '' ? repos.map((r) => r.name) : granted && !granted.includes('*') ? granted : undefined;
  const split = form.kind === 'command' ? argvOf(form) : undefined;

  const submit = async (event: Event) => {
    event.preventDefault();
    setFormError(undefined);
    const missing = missingFields(form);
    setErrors(missing);
    if (Object.keys(missing).length > 0) return;
    setBusy(true);
    const runtime = form.kind === 'command'
      ? { kind: 'command', argv: argvOf(form).argv ?? [] }
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
        <label for="peer">Run on</label>
        <select id="peer" value={form.peer} onChange={(e) => set({ peer: e.currentTarget.value, repo: '' })} {...described('peer')}>
          <option value="">this instance</option>
          {peers.map((p) => <option key={p.id} value={p.name}>{p.name}</option>)}
        </select>
        <FieldError id="peer-error" message={errors.peer} />

        <label for="repo">Repository</label>
        {repoChoices
          ? (
            <select id="repo" value={form.repo} onChange={(e) => set({ repo: e.currentTarget.value })} {...described('repo')}>
              <option value="">{repoChoices.length === 0 ? (form.peer ? `${form.peer} granted no repository` : 'no repository registered') : 'choose…'}</option>
              {repoChoices.map((name) => <option key={name} value={name}>{name}</option>)}
            </select>
          )
          : <input id="repo" value={form.repo} placeholder={`a repository on ${form.peer}`} onInput={(e) => set({ repo: e.currentTarget.value })} {...described('repo')} />}
        <FieldError id="repo-error" message={errors.repo} />

        <label for="taskId">Task id</label>
        <input id="taskId" value={form.taskId} onInput={(e) => set({ taskId: e.currentTarget.value })} {...described('taskId')} />
        <FieldError id="taskId-error" message={errors.taskId} />

        <label for="prompt">Prompt</label>
        <textarea id="prompt" rows={5} value={form.prompt} onInput={(e) => set({ prompt: e.currentTarget.value })} {...described('prompt')} />
        <FieldError id="prompt-error" message={errors.prompt} />

        <label for="kind">Runtime</label>
        <select id="kind" value={form.kind} onChange={(e) => set({ kind: e.currentTarget.value })} {...described('runtime')}>
          {RUNTIME_CHOICES.map((r) => <option key={r.kind} value={r.kind}>{r.label}</option>)}
        </select>
        {form.kind === 'command'
          ? (<>
            {form.perLine
              ? (<>
                <label for="argv">Command, one argument per line</label>
                <textarea id="argv" rows={4} value={form.lines} onInput={(e) => set({ lines: e.currentTarget.value })} {...described('runtime')} />
              </>)
              : (<>
                <label for="command">Command</label>
                <input
                  id="command" value={form.command} spellcheck={false} autocomplete="off"
                  placeholder={'sh -c \'npm test && git commit -qam done\''}
                  onInput={(e) => set({ command: e.currentTarget.value })} {...described('runtime')}
                />
                <p class="muted">Split into arguments as a shell would (quotes honoured, nothing expanded); it runs without a shell.</p>
              </>)}
            <label class="check">
              <input
                type="checkbox" checked={form.perLine}
                onChange={(e) => {
                  const perLine = e.currentTarget.checked;
                  // Switching keeps the arguments: the lines are the split command, and back.
                  const argv = argvOf(form).argv ?? [];
                  set(perLine ? { perLine, lines: argv.join('\n') } : { perLine, command: quote(argv) });
                }}
              /> One argument per line (advanced)
            </label>
            {split?.argv && split.argv.length > 0 && (
              <div class="argv-preview">
                <span class="muted">Runs as {split.argv.length} argument{split.argv.length === 1 ? '' : 's'}:</span>
                <ol class="argv" aria-label="Arguments">
                  {split.argv.map((arg, i) => <li key={i}><code>{arg}</code></li>)}
                </ol>
              </div>
            )}
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

        {formError && <p class="error" role="alert">{formError}</p>}
        <button type="submit" disabled={busy}>Spawn</button>
      </form>
    </section>
  );
}
