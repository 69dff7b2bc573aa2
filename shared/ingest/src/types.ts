import { SourceKind, type CanonicalEvent, type KeyPackFact, type LicenseFact } from '@calwatch/model';

/**
 * The input shapes calwatch can read: every source kind but the simulator's own.
 *  - wmi-issued-licenses: Win32_TSIssuedLicense export, CSV (PS 5.1 / 7) or JSON (ConvertTo-Json 5.1 / 7)
 *  - wmi-keypacks: Win32_TSLicenseKeyPack export, CSV or JSON
 *  - winlogbeat: Winlogbeat / Elastic Agent NDJSON
 *  - evtx-xml: wevtutil qe /f:xml or Get-WinEvent ToXml() (one or many <Event>, with or without <Events> root)
 *  - canonical: canonical NDJSON (one CanonicalEvent per line)
 *  - client-store: JSON lines {computer, hwids:[...], observedTime?, licenseServer?}
 */
export type InputFormat = Exclude<SourceKind, 'simulator'>;

export const INPUT_FORMATS: readonly InputFormat[] = SourceKind.options.filter((kind): kind is InputFormat => kind !== 'simulator');

/** A record that could not be accepted; becomes a DeadLetter (see toDeadLetter). */
export interface Rejection {
  /** Stable code from INGEST_REJECTIONS, e.g. INGEST_CSV_BAD_FIELD. */
  code: string;
  /** Precise and human: which field, what was expected, what was found. */
  reason: string;
  ref: string;
  /** 1-based line where the record starts, when the format has lines. */
  line: number | null;
  /** 1-based record number within the input, when a record boundary is known. */
  record: number | null;
  field: string | null;
  issues: { path: string; message: string }[];
  /** The record's text as UTF-8 bytes (the input bytes themselves for ASCII / UTF-8 input). */
  original: Buffer;
}

export type ParsedItem =
  | { kind: 'issued-license'; licenseServer: string; license: LicenseFact; record: number }
  | { kind: 'keypack'; licenseServer: string; keyPack: KeyPackFact; record: number }
  | { kind: 'event'; event: CanonicalEvent; record: number }
  | { kind: 'rejected'; rejection: Rejection };

/**
 * What the parsers yield: the items one chunk of input text completed (the rows the CSV
 * reader finished, the lines, the events), in input order; a rejection of the input as a
 * whole comes alone. Never empty. Batches, not items: a value handed up through three nested
 * async generators costs about 0.4 µs, and the parsers sit three or four levels deep, so
 * per item that is a noticeable share of reading a large export; per chunk it is nothing.
 */
export type ParsedBatch = readonly ParsedItem[];

export interface ParseOptions {
  /** File path or request id, for rejections and EventSource.ref. */
  ref: string;
  /** Skip detection and read the input as this format. */
  format?: InputFormat;
  /** ISO instant; also the snapshot time of an export unless the data says otherwise. */
  observedTime: string;
  /** Fallback when rows carry no PSComputerName / __SERVER. */
  licenseServer?: string;
}
