import { access, chmod, lchown, lstat, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { STACK_ERRORS } from './errors';
import { runChecked, runCommand } from './processes';

export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
}

/** Parses one `getent passwd` line: name:x:uid:gid:gecos:home:shell. */
export function parsePasswdLine(line: string): ServiceUser | undefined {
  const [name, , uid, gid] = line.trim().split(':');
  if (name === undefined || uid === undefined || gid === undefined) return undefined;
  const u = Number(uid);
  const g = Number(gid);
  return Number.isInteger(u) && Number.isInteger(g) ? { name, uid: u, gid: g } : undefined;
}

export async function lookupUser(name: string): Promise<ServiceUser | undefined> {
  const result = await runCommand('getent', ['passwd', name]);
  return result.code === 0 ? parsePasswdLine(result.output) : undefined;
}

/** The unprivileged system user Elasticsearch runs as when we are root; created if missing. */
export async function ensureServiceUser(name: string): Promise<ServiceUser> {
  const existing = await lookupUser(name);
  if (existing !== undefined) return existing;
  let shell = '/usr/sbin/nologin';
  try {
    await access(shell);
  } catch {
    shell = '/bin/false';
  }
  await runChecked(`creating system user '${name}'`, 'useradd', [
    '--system',
    '--user-group',
    '--no-create-home',
    '--home-dir',
    '/nonexistent',
    '--shell',
    shell,
    '--comment',
    'calwatch local stack (Elasticsearch)',
    name,
  ]);
  const created = await lookupUser(name);
  if (created === undefined) throw STACK_ERRORS.create('STACK_COMMAND_FAILED', `useradd succeeded but '${name}' is not in the user database`);
  return created;
}

/** `setpriv` (util-linux) drops to the user in place, leaving no parent process behind. */
export function buildRunAsPrefix(user: ServiceUser): string[] {
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--'];
}

/**
 * Whether `user` can reach `dir` (every ancestor searchable): /root usually is not. A dir
 * not created yet is judged by its nearest existing ancestor, as we create dirs 0755.
 */
export async function canUserTraverse(user: ServiceUser, dir: string): Promise<boolean> {
  const { existing } = await findExistingAncestor(dir);
  if (existing === undefined) return false;
  const [cmd, ...args] = buildRunAsPrefix(user);
  const result = await runCommand(cmd!, [...args, 'test', '-x', existing]);
  return result.code === 0;
}

/** chown -R without following symlinks. */
export async function chownTree(path: string, user: ServiceUser): Promise<void> {
  const info = await lstat(path);
  await lchown(path, user.uid, user.gid);
  if (info.isDirectory()) {
    for (const entry of await readdir(path)) await chownTree(join(path, entry), user);
  }
}

/** mkdir -p whose new levels are 0755 whatever the umask, so the service user can pass. */
export async function mkdirTraversable(dir: string): Promise<void> {
  const { missing } = await findExistingAncestor(dir);
  for (const level of missing) {
    await mkdir(level, { recursive: true });
    await chmod(level, 0o755);
  }
}

/** The nearest of `dir` and its ancestors that exists (none when not even the root does), and the levels below it, top first. */
async function findExistingAncestor(dir: string): Promise<{ existing: string | undefined; missing: string[] }> {
  const missing: string[] = [];
  let probe = dir;
  for (;;) {
    try {
      await access(probe);
      return { existing: probe, missing };
    } catch {
      missing.unshift(probe);
      const parent = dirname(probe);
      if (parent === probe) return { existing: undefined, missing };
      probe = parent;
    }
  }
}
