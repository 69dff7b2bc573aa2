import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildCalwatchRoles, buildRolesYml, READER_ROLE, WRITER_ROLE } from './es-security';

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
