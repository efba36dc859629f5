export { RepoService, type PoolHealth, type RepoEdit, type RepoInput, type RepoPools, type RepoView } from './service.js';
