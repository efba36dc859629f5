export * from './constants.js';
export * from './envelope.js';
export * from './bodies.js';
export * from './signing.js';
export * from './verify.js';
export * from './invites.js';
export * from './grants.js';
export * from './client.js';
