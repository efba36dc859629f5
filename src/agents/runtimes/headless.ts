/**
 * What the codex, gemini and opencode runtimes share: spec checks, the role
 * text every agent gets, and the resume/fresh pair.
 */
import { invalid } from '../../core/errors.js';
import type { AgentType } from '../types.js';
import { ROLE_PROMPTS, SESSION_RE } from './claude.js';

/** Model names as the CLIs take them (`gpt-6-sol`, `gemini-2.5-pro`, `anthropic/claude-sonnet-4-5`); never a leading `-`. */
export const HEADLESS_MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9._:/@[\]-]{0,199}$/;

interface HeadlessSpec {
  kind: string;
  model?: string;
  resume?: string;
}

export function checkHeadlessSpec(spec: HeadlessSpec): void {
  const { model, resume } = spec;
  if (model !== undefined && (typeof model !== 'string' || !HEADLESS_MODEL_RE.test(model))) {
    throw invalid('invalid_runtime', `runtime.model must match ${HEADLESS_MODEL_RE.source}`, { field: 'runtime.model' });
  }
  if (resume !== undefined && (typeof resume !== 'string' || !SESSION_RE.test(resume))) {
    throw invalid('invalid_runtime', `runtime.resume must match ${SESSION_RE.source}`, { field: 'runtime.resume' });
  }
}

/**
 * The spec with only what a request may give: kind and model (`resume` is
 * Mosaic's to set, by retry and reply, after this; the request schemas
 * refuse unknown fields before it).
 */
export function normalizeHeadless<S extends HeadlessSpec>(spec: S): S {
  const out = { kind: spec.kind } as S;
  if (spec.model !== undefined) out.model = spec.model;
  checkHeadlessSpec(out);
  return out;
}

/**
 * These CLIs' tools are a shell (codex runs everything through one; gemini
 * and opencode have shell tools the model may call), so a grant without
 * shell cannot run them.
 */
export function requireShell(kind: string, shell: boolean): void {
  if (!shell) {
    throw invalid('shell_not_granted', `the ${kind} runtime runs shell commands; this agent's grant does not allow shell`, { field: 'runtime.kind' });
  }
}

/**
 * The role and the task in one prompt, for CLIs without a system-prompt flag
 * that is safe to use headless. A reviewer is told, not forced, to stay
 * read-only: these CLIs' read-only modes are their own sandboxes, which are
 * off inside Mosaic's (its branch is still checked: a reviewer's commits show).
 */
export function rolePrompt(type: AgentType, prompt: string): string {
  return `${ROLE_PROMPTS[type]}\n\n---\n\n${prompt}`;
}

export function resumeSpec<S extends HeadlessSpec>(spec: S, sessionId: string): S {
  return { ...spec, resume: sessionId };
}

export function freshSpec<S extends HeadlessSpec>(spec: S): S {
  const { resume: _dropped, ...fresh } = spec;
  return fresh as S;
}
