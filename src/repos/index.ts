export { RepoService, type RepoEdit, type RepoInput } from './service.js';
