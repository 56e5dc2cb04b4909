import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** The few git questions history asks of the config repo, through the git binary (read-only). */

const run = promisify(execFile);

async function git(repo: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-C', repo, ...args], { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } });
  return stdout;
}

/** HEAD of the repo holding `dir`, or null when it is not in a git repo (or git is missing). */
export async function headCommit(dir: string): Promise<string | null> {
  try {
    return (await git(dir, ['rev-parse', 'HEAD'])).trim() || null;
  } catch {
    return null;
  }
}

export interface CommitInfo {
  sha: string;
  time: Date;
  subject: string;
  /** Files the commit changed, relative to the repo's top folder. */
  files: { path: string; deleted: boolean }[];
  /** The repo's top folder. */
  top: string;
}

export async function commitInfo(dir: string, rev: string): Promise<CommitInfo> {
  let out: string;
  try {
    out = await git(dir, ['show', '-s', '--format=%H%n%cI%n%s', `${rev}^{commit}`]);
  } catch (err) {
    throw new Error(`"${rev}" is not a commit of the config repo ${dir}: ${String((err as { stderr?: string }).stderr ?? err).trim()}`);
  }
  const [sha, iso, subject] = out.split('\n');
  const top = (await git(dir, ['rev-parse', '--show-toplevel'])).trim();
  // --root: the first commit lists every file it added.
  const names = await git(dir, ['diff-tree', '--no-commit-id', '--name-status', '-r', '--root', '-M', sha]);
  const files = names
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const parts = l.split('\t');
      return { path: parts[parts.length - 1], deleted: parts[0] === 'D' };
    });
  return { sha, time: new Date(iso), subject, files, top };
}

/** A file's content at a commit. */
export async function fileAt(top: string, sha: string, path: string): Promise<string> {
  return git(top, ['show', `${sha}:${path}`]);
}

/** Whether `ancestor` is `commit` or one of its ancestors (a run at `commit` contains the change). */
export async function contains(dir: string, commit: string, ancestor: string): Promise<boolean> {
  if (commit === ancestor) return true;
  try {
    await git(dir, ['merge-base', '--is-ancestor', ancestor, commit]);
    return true;
  } catch {
    return false;
  }
}
