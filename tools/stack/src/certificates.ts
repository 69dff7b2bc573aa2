import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked } from './processes';

/** A PEM certificate and its unencrypted PKCS#8 key. */
export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
}

export interface CertificateAuthority {
  dir: string;
  caFile: string;
  /** SHA-256 of the CA certificate, colon-separated upper-case hex (as ELASTICSEARCH_CA_FINGERPRINT takes it). */
  caFingerprint: string;
  /** A certificate for `name` signed by the CA, for localhost and 127.0.0.1, usable by servers and clients. */
  issue(name: string): Promise<IssuedCertificate>;
}

async function openssl(what: string, args: string[], cwd: string): Promise<string> {
  return runChecked(what, 'openssl', args, { cwd, timeoutMs: 60_000 });
}

export async function readCertificateFingerprint(certFile: string): Promise<string> {
  return new X509Certificate(await readFile(certFile)).fingerprint256;
}

/** When the certificate in `certFile` stops being valid; undefined when the file is missing or not a certificate. */
export async function readCertificateExpiry(certFile: string): Promise<Date | undefined> {
  try {
    return new Date(new X509Certificate(await readFile(certFile)).validTo);
  } catch {
    return undefined;
  }
}

/**
 * A new certificate authority in `dir` (PEM files made with openssl; keys readable by the
 * owner only). Certificates it issues are valid for `days` as well.
 */
export async function createCertificateAuthority(options: { dir: string; subject: string; days: number }): Promise<CertificateAuthority> {
  const { dir, days } = options;
  await mkdir(dir, { recursive: true });
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  await openssl(
    'creating the certificate authority',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caFile, '-days', String(days), '-subj', `/CN=${options.subject}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  await chmod(caKey, 0o600);
  return {
    dir,
    caFile,
    caFingerprint: await readCertificateFingerprint(caFile),
    async issue(name) {
      const keyFile = join(dir, `${name}.key`);
      const certFile = join(dir, `${name}.pem`);
      const csr = join(dir, `${name}.csr`);
      const ext = join(dir, `${name}.ext`);
      await writeFile(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n');
      await openssl(`creating the key and request of ${name}`, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`], dir);
      await openssl(
        `signing the certificate of ${name}`,
        ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', String(days), '-extfile', ext],
        dir,
      );
      await chmod(keyFile, 0o600);
      await rm(csr, { force: true });
      await rm(ext, { force: true });
      return { certFile, keyFile };
    },
  };
}
