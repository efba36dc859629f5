/**
 * The agent data model lives in core/ (store/ persists it, agents/ drives it;
 * a type both share belongs below both). Re-exported here for agents/ callers.
 */
export * from '../core/agent-model.js';
