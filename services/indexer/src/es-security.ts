import type { ElasticsearchClient } from '@calwatch/elasticsearch';
import { INDEXER_ERRORS } from './errors';

/** One role, in the body form of PUT _security/role (file-realm roles.yml takes the same). */
export interface RoleDescriptor {
  cluster: string[];
  indices: Array<{ names: string[]; privileges: string[] }>;
  applications?: Array<{ application: string; privileges: string[]; resources: string[] }>;
  metadata?: Record<string, unknown>;
}

export const WRITER_ROLE = 'calwatch_writer';
export const READER_ROLE = 'calwatch_reader';

/**
 * The least privileges calwatch needs, limited to its own indices (`<prefix>*`):
 *
 * writer (indexer and `calwatch setup`/`es-setup`):
 * - cluster `monitor`: node information (which modules the node has, its version) at setup.
 * - cluster `manage_index_templates`: read and install calwatch's index and component templates.
 * - indices `create_index`: the next month's (or day's) enriched index and the findings index.
 * - indices `write`: bulk index, update and delete documents (findings are upserted and retracted).
 * - indices `manage`: mapping upgrades in place (put mapping), refresh suspended during a
 *   replay (put settings, refresh) and the read aliases; only on `<prefix>*`.
 *
 * reader (Kibana users of the calwatch dashboards):
 * - indices `read` and `view_index_metadata` on `<prefix>*`: search and field lists.
 * - Kibana's dashboard, discover and visualize features read-only.
 */
export function buildCalwatchRoles(indexPrefix: string): Record<typeof WRITER_ROLE | typeof READER_ROLE, RoleDescriptor> {
  const names = [`${indexPrefix}*`];
  return {
    [WRITER_ROLE]: {
      cluster: ['monitor', 'manage_index_templates'],
      indices: [{ names, privileges: ['create_index', 'write', 'manage'] }],
      metadata: { calwatch: 'writer' },
    },
    [READER_ROLE]: {
      cluster: [],
      indices: [{ names, privileges: ['read', 'view_index_metadata'] }],
      applications: [{ application: 'kibana-.kibana', privileges: ['feature_dashboard.read', 'feature_discover.read', 'feature_visualize.read'], resources: ['*'] }],
      metadata: { calwatch: 'reader' },
    },
  };
}

/** roles.yml for a cluster whose roles live in files (JSON is YAML). */
export function buildRolesYml(roles: Record<string, RoleDescriptor>): string {
  return `${Object.entries(roles)
    .map(([name, role]) => `${name}: ${JSON.stringify(role)}`)
    .join('\n')}\n`;
}

export interface CalwatchUser {
  username: string;
  password: string;
  role: typeof WRITER_ROLE | typeof READER_ROLE;
}

export interface SecuritySetupReport {
  roles: string[];
  users: string[];
  apiKeys: Array<{ role: string; name: string; id: string; encoded: string }>;
}

function failed(step: string, error: unknown) {
  const status = (error as { meta?: { statusCode?: number } }).meta?.statusCode;
  const hint = status === 403 ? ' (the user running setup needs the manage_security cluster privilege)' : '';
  return INDEXER_ERRORS.create('INDEXER_SECURITY_SETUP_FAILED', `${step}: ${error instanceof Error ? error.message : String(error)}${hint}`, {
    cause: error,
    context: { step, status },
  });
}

/**
 * Creates or updates calwatch's roles and, as asked, users with those roles and API keys
 * limited to them. Idempotent for roles and users; every run makes new API keys (an API key
 * cannot be read back), which the caller prints once.
 */
export async function installElasticsearchSecurity(options: {
  client: ElasticsearchClient;
  indexPrefix: string;
  users: CalwatchUser[];
  apiKeysFor: Array<typeof WRITER_ROLE | typeof READER_ROLE>;
}): Promise<SecuritySetupReport> {
  const { client } = options;
  const roles = buildCalwatchRoles(options.indexPrefix);
  const report: SecuritySetupReport = { roles: [], users: [], apiKeys: [] };
  for (const [name, role] of Object.entries(roles)) {
    try {
      await client.security.putRole({ name, ...role });
    } catch (error) {
      throw failed(`create role ${name}`, error);
    }
    report.roles.push(name);
  }
  for (const user of options.users) {
    try {
      await client.security.putUser({ username: user.username, password: user.password, roles: [user.role], full_name: `calwatch ${user.role}` });
    } catch (error) {
      throw failed(`create user ${user.username}`, error);
    }
    report.users.push(user.username);
  }
  for (const role of options.apiKeysFor) {
    const name = `${role}-${new Date().toISOString()}`;
    try {
      const key = await client.security.createApiKey({ name, role_descriptors: { [role]: roles[role] } });
      report.apiKeys.push({ role, name, id: key.id, encoded: key.encoded });
    } catch (error) {
      throw failed(`create API key ${name}`, error);
    }
  }
  return report;
}
