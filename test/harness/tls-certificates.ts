/**
 * A throw-away certificate authority for TLS tests: a CA and leaf certificates for
 * localhost/127.0.0.1, PEM files made with openssl in a folder of their own.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface TestCertificate {
  certFile: string;
  keyFile: string;
}

export interface TestCa {
  dir: string;
  caFile: string;
  /** SHA-256 of the CA certificate, colon-separated hex. */
  caFingerprint: string;
  /** A certificate for `name` signed by the CA, valid for localhost and 127.0.0.1. */
  issue(name: string): Promise<TestCertificate>;
}

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function createTestCa(dir: string, subject = 'calwatch test CA'): Promise<TestCa> {
  await mkdir(dir, { recursive: true });
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', `/CN=${subject}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const fingerprint = openssl(['x509', '-in', caFile, '-noout', '-fingerprint', '-sha256'], dir).trim().split('=')[1] ?? '';
  return {
    dir,
    caFile,
    caFingerprint: fingerprint,
    async issue(name) {
      const keyFile = join(dir, `${name}.key`);
      const certFile = join(dir, `${name}.pem`);
      const csr = join(dir, `${name}.csr`);
      const ext = join(dir, `${name}.ext`);
      await writeFile(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n');
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`], dir);
      openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', ext], dir);
      return { certFile, keyFile };
    },
  };
}
