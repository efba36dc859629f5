export * from './config.js';
export * from './errors.js';
export * from './home.js';
export * from './ids.js';
export * from './logger.js';
export * from './mutex.js';
export * from './version.js';
export * from './text-bounds.js';
