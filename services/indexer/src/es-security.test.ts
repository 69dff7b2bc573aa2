import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isCalwatchError } from '@calwatch/model';
import { buildCalwatchRoles, buildRolesYml, installElasticsearchSecurity, READER_ROLE, WRITER_ROLE } from './es-security';

// Privileges that reach beyond calwatch's own indices or administer the cluster.
const CLUSTER_WIDE = ['all', 'manage', 'manage_security', 'manage_api_key', 'manage_own_api_key', 'manage_ilm', 'manage_pipeline'];

describe('calwatch Elasticsearch roles', () => {
  const roles = buildCalwatchRoles('calwatch-');

  it('limits every index privilege to the calwatch indices', () => {
    for (const role of Object.values(roles)) {
      for (const entry of role.indices) expect(entry.names).toEqual(['calwatch-*']);
    }
    expect(buildCalwatchRoles('calwatch-replay-x-')[WRITER_ROLE].indices[0]!.names).toEqual(['calwatch-replay-x-*']);
  });

  it('gives the writer template setup and bulk indexing, and nothing cluster-wide beyond that', () => {
    const writer = roles[WRITER_ROLE];
    expect(writer.cluster.sort()).toEqual(['manage_index_templates', 'monitor']);
    for (const privilege of CLUSTER_WIDE) expect(writer.cluster).not.toContain(privilege);
    expect(writer.indices[0]!.privileges).toEqual(expect.arrayContaining(['create_index', 'write']));
    expect(writer.indices[0]!.privileges).not.toContain('all');
  });

  it('lets the reader read and nothing else', () => {
    const reader = roles[READER_ROLE];
    expect(reader.cluster).toEqual([]);
    expect(reader.indices[0]!.privileges.sort()).toEqual(['read', 'view_index_metadata']);
    expect(reader.applications?.[0]?.privileges.every((p) => p.endsWith('.read'))).toBe(true);
  });

  it('renders roles.yml that reads back as the same roles', () => {
    expect(parse(buildRolesYml(roles))).toEqual(roles);
  });
});

describe('installElasticsearchSecurity', () => {
  function recordingClient() {
    const calls: Array<[string, Record<string, unknown>]> = [];
    const client = {
      security: {
        putRole: async (request: Record<string, unknown>) => void calls.push(['putRole', request]),
        putUser: async (request: Record<string, unknown>) => void calls.push(['putUser', request]),
        createApiKey: async (request: Record<string, unknown>) => {
          calls.push(['createApiKey', request]);
          return { id: 'key-id', encoded: 'a2V5LWlkOnNlY3JldA==' };
        },
      },
    };
    return { calls, client: client as unknown as Parameters<typeof installElasticsearchSecurity>[0]['client'] };
  }

  it('puts the roles the file-realm test node runs with, then users and keys limited to them', async () => {
    const { calls, client } = recordingClient();
    const report = await installElasticsearchSecurity({
      client,
      indexPrefix: 'calwatch-',
      users: [{ username: 'calwatch_writer', password: 'writer-password-1', role: WRITER_ROLE }],
      apiKeysFor: [READER_ROLE],
    });
    const roles = buildCalwatchRoles('calwatch-');
    expect(calls.filter(([kind]) => kind === 'putRole').map(([, request]) => request)).toEqual([
      { name: WRITER_ROLE, ...roles[WRITER_ROLE] },
      { name: READER_ROLE, ...roles[READER_ROLE] },
    ]);
    expect(calls.find(([kind]) => kind === 'putUser')?.[1]).toMatchObject({ username: 'calwatch_writer', roles: [WRITER_ROLE] });
    expect(calls.find(([kind]) => kind === 'createApiKey')?.[1]).toMatchObject({ role_descriptors: { [READER_ROLE]: roles[READER_ROLE] } });
    expect(report).toMatchObject({ roles: [WRITER_ROLE, READER_ROLE], users: ['calwatch_writer'], apiKeys: [{ role: READER_ROLE, encoded: 'a2V5LWlkOnNlY3JldA==' }] });
  });

  it('names the step and the missing privilege when Elasticsearch refuses', async () => {
    const { client } = recordingClient();
    const refusing = { security: { ...(client as unknown as { security: object }).security, putRole: async () => Promise.reject(Object.assign(new Error('security_exception'), { meta: { statusCode: 403 } })) } };
    const error = await installElasticsearchSecurity({ client: refusing as never, indexPrefix: 'calwatch-', users: [], apiKeysFor: [] }).catch((e: unknown) => e);
    expect(isCalwatchError(error, 'INDEXER_SECURITY_SETUP_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/create role calwatch_writer.*manage_security/);
  });
});
