import { INDEXER_ERRORS } from '../errors';

export interface KibanaConnection {
  /** Base URL, e.g. https://kibana.example:5601 (a base path included). */
  url: string;
  auth?: { username: string; password: string } | { apiKey: string };
  /** Kibana space; the default space when absent. */
  space?: string;
}

export interface KibanaImportResult {
  successCount: number;
  /** Objects Kibana reported, as `type/id: error`. */
  errors: string[];
}

interface ImportResponse {
  success?: boolean;
  successCount?: number;
  errors?: Array<{ type?: string; id?: string; error?: { type?: string; message?: string; references?: unknown } }>;
}

/** POST /api/saved_objects/_import?overwrite=true with the NDJSON as a multipart file. */
export function buildImportRequest(connection: KibanaConnection, ndjson: string): { url: string; init: RequestInit } {
  const base = connection.url.replace(/\/+$/, '');
  const space = connection.space === undefined || connection.space === 'default' ? '' : `/s/${encodeURIComponent(connection.space)}`;
  const headers: Record<string, string> = { 'kbn-xsrf': 'calwatch' };
  const auth = connection.auth;
  if (auth !== undefined) {
    headers['authorization'] =
      'apiKey' in auth ? `ApiKey ${auth.apiKey}` : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  }
  const form = new FormData();
  form.append('file', new Blob([ndjson], { type: 'application/ndjson' }), 'calwatch-saved-objects.ndjson');
  return { url: `${base}${space}/api/saved_objects/_import?overwrite=true`, init: { method: 'POST', headers, body: form } };
}

/**
 * Imports the saved objects through Kibana's saved-objects API, overwriting earlier
 * calwatch objects with the same ids (an import is idempotent).
 */
export async function importSavedObjects(
  connection: KibanaConnection,
  ndjson: string,
  fetchImpl: typeof fetch = fetch,
  signal?: AbortSignal,
): Promise<KibanaImportResult> {
  const { url, init } = buildImportRequest(connection, ndjson);
  let response: Response;
  try {
    response = await fetchImpl(url, { ...init, ...(signal === undefined ? {} : { signal }) });
  } catch (error) {
    throw INDEXER_ERRORS.create('INDEXER_KIBANA_IMPORT_FAILED', `Kibana unreachable: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const text = await response.text();
  if (!response.ok) {
    throw INDEXER_ERRORS.create('INDEXER_KIBANA_IMPORT_FAILED', `Kibana answered ${response.status}: ${text.slice(0, 500)}`, {
      context: { status: response.status },
    });
  }
  let body: ImportResponse;
  try {
    body = JSON.parse(text) as ImportResponse;
  } catch {
    throw INDEXER_ERRORS.create('INDEXER_KIBANA_IMPORT_FAILED', `Kibana answered with something other than JSON: ${text.slice(0, 200)}`);
  }
  const errors = (body.errors ?? []).map((e) => `${e.type ?? '?'}/${e.id ?? '?'}: ${e.error?.type ?? 'error'}${e.error?.message === undefined ? '' : ` ${e.error.message}`}`);
  if (body.success !== true || errors.length > 0) {
    throw INDEXER_ERRORS.create('INDEXER_KIBANA_IMPORT_FAILED', `import failed for ${errors.length} objects:\n  ${errors.join('\n  ')}`, {
      context: { errors, successCount: body.successCount ?? 0 },
    });
  }
  return { successCount: body.successCount ?? 0, errors };
}
