/**
 * A throw-away certificate authority for TLS tests: the local stack's own
 * (createCertificateAuthority), valid for two days, in a folder of the test's.
 */
import { createCertificateAuthority, type CertificateAuthority, type IssuedCertificate } from '@calwatch/stack';

export type TestCertificate = IssuedCertificate;
export type TestCa = CertificateAuthority;

export function createTestCa(dir: string, subject = 'calwatch test CA'): Promise<TestCa> {
  return createCertificateAuthority({ dir, subject, days: 2 });
}
