import { ensureFreshBuild } from './build.js';

/** Runs once before the test files: see build.ts for why tests want a fresh `dist/`. */
export default function setup(): void {
  ensureFreshBuild();
}
