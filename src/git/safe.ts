/**
 * `-c` settings for git commands that touch a checkout on a user's
 * repository, beyond what runGit already applies to every call (no hooks, no
 * fsmonitor program, the repository's filter drivers off for every command
 * that could run one): git must not switch the checkout's index to a split
 * index, whatever the repository's config says.
 */
export const SAFE_CHECKOUT_ARGS: readonly string[] = ['-c', 'core.splitIndex=false'];
