import { lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';

/** Reads of Mosaic's own bookkeeping files where a missing or unreadable one simply means "none". */

export function listNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
