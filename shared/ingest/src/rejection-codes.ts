import { defineErrors } from '@calwatch/model';

/**
 * Codes carried by a Rejection (and so by its DeadLetter). Rejections are values, not
 * thrown errors; the table exists so the codes stay unique and documented.
 */
export const INGEST_REJECTIONS = defineErrors({
  INGEST_UNKNOWN_FORMAT: {
    description: 'The input matched none of the known formats; pass the format explicitly or check the file.',
    retriable: false,
  },
  INGEST_COMPRESSION_INVALID: {
    description: 'The input looked like gzip but could not be inflated (corrupt or cut short); what was read before is kept.',
    retriable: false,
  },
  INGEST_CSV_SYNTAX: {
    description: 'A CSV record breaks RFC 4180 (stray or unterminated quote); the record is skipped up to the next line end.',
    retriable: false,
  },
  INGEST_CSV_COLUMN_COUNT: {
    description: 'A CSV row has more fields than the header names; the header decides, so the row cannot be read.',
    retriable: false,
  },
  INGEST_JSON_SYNTAX: {
    description: 'A JSON value (array element, object or NDJSON line) is not valid JSON.',
    retriable: false,
  },
  INGEST_JSON_TOO_DEEP: {
    description: 'A JSON value nests deeper than the reader accepts; no licensing export nests that deep.',
    retriable: false,
  },
  INGEST_XML_SYNTAX: {
    description: 'The XML is not well formed (or uses a DTD / entity the reader refuses to expand).',
    retriable: false,
  },
  INGEST_XML_NOT_EVENT: {
    description: 'An XML element where an <Event> was expected.',
    retriable: false,
  },
  INGEST_RECORD_TOO_LARGE: {
    description: 'A record (line, JSON value, XML event) exceeds the size limit; it is skipped without being buffered.',
    retriable: false,
  },
  INGEST_MISSING_FIELD: {
    description: 'A required field is absent or empty (e.g. LicenseId, IssueDate, the license server name).',
    retriable: false,
  },
  INGEST_BAD_FIELD: {
    description: 'A field holds a value of the wrong shape (number, WMI DATETIME with `*`, unknown LicenseStatus, HWID without hex).',
    retriable: false,
  },
  INGEST_SCHEMA_INVALID: {
    description: 'A record failed the canonical schema; `issues` lists the zod issues.',
    retriable: false,
  },
  INGEST_UNRELATED_EVENT: {
    description: 'A Windows event from a provider that is not RD Licensing or the session host licensing side; counted, not used.',
    retriable: false,
  },
});

export type IngestRejectionCode = keyof typeof INGEST_REJECTIONS.table;
