export { RepoService, type RepoInput } from './service.js';
