import { execFile, spawn } from 'node:child_process';
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

/** Every file path in the tree of a commit (relative to the repo's top folder). */
export async function filesAt(top: string, sha: string): Promise<string[]> {
  return (await git(top, ['ls-tree', '-r', '--name-only', '-z', sha])).split('\0').filter(Boolean);
}

/** The first parent of a commit, or null for a root commit. */
export async function parentOf(top: string, sha: string): Promise<string | null> {
  try {
    return (await git(top, ['rev-parse', '--verify', '--quiet', `${sha}^1^{commit}`])).trim() || null;
  } catch {
    return null;
  }
}

/** Writes the tree of a commit into `dir` (git archive | tar -x): a read-only look at the repo as it was. */
export async function extractTree(top: string, sha: string, dir: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const archive = spawn('git', ['-C', top, 'archive', '--format=tar', sha], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } });
    const tar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    archive.stderr.on('data', (d) => (stderr += d));
    tar.stderr.on('data', (d) => (stderr += d));
    archive.stdout.pipe(tar.stdin);
    let left = 2;
    const done = (what: string) => (code: number | null) => {
      if (code !== 0) reject(new Error(`${what} failed (${code}): ${stderr.trim()}`));
      else if (--left === 0) resolve();
    };
    archive.on('error', reject).on('close', done('git archive'));
    tar.on('error', reject).on('close', done('tar'));
  });
}
