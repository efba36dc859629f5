export { RepoService, type PoolHealth, type RepoEdit, type RepoInput, type RepoPools, type RepoView, type ShareMode } from './service.js';
