/** shareDirs: directories of the main checkout given to every worktree without a full copy; see README.md here. */
export { agentLayersRoot, hasLayers, moveLayers, overlaysOf, poolLayersRoot } from './layers.js';
export { reflinkSupported, shareModeFor, type ShareMode } from './mode.js';
export { dropSnapshots } from './snapshot.js';
export { provideShareDirs, type ProvideInput, type SharedDir } from './provide.js';
