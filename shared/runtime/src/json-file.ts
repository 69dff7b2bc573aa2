import { readFile } from 'node:fs/promises';
import type { z } from 'zod';

/**
 * A JSON state file checked against its schema: undefined when the file does not exist,
 * else the schema's verdict (text that is not JSON fails it like a wrong shape does).
 * Other read errors are thrown as they are.
 */
export async function readJsonFile<T>(file: string, schema: z.ZodType<T>): Promise<z.ZodSafeParseResult<T> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return schema.safeParse(json);
}
