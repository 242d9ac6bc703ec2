/**
 * A throw-away certificate authority and a broker certificate for the local broker's SASL_SSL listener
 * (tests and development only), made with the system's `openssl`:
 *
 *   <dir>/ca.pem         the CA certificate: what clients trust (KAFKA_SSL_CA_FILE)
 *   <dir>/broker.p12     PKCS#12 keystore with the broker's key and certificate (CN=localhost,
 *                        SAN DNS:localhost and IP:127.0.0.1) signed by the CA, for `saslSsl.keystoreFile`
 *
 * The CA's key is deleted once the broker certificate is signed, and keys never leave `dir`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  caFile: string;
  keystoreFile: string;
  keystorePassword: string;
}

function openssl(args: string[], cwd: string): void {
  const res = spawnSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (res.error !== undefined) throw new Error(`cannot run openssl (is it installed?): ${res.error.message}`);
  if (res.status !== 0)
    throw new Error(`openssl ${args[0]} failed: ${res.stderr.trim().split('\n').slice(-3).join(' ')}`);
}

/** A CA certificate alone (its key discarded): a CA nobody's broker certificate chains to. */
export function makeCertificateAuthority(dir: string, name = 'ca'): string {
  mkdirSync(dir, { recursive: true });
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=smae-test-${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
    ],
    dir,
  );
  return join(dir, `${name}.pem`);
}

export function makeTestCertificates(dir: string): TestCertificates {
  const caFile = makeCertificateAuthority(dir, 'ca');
  const keystorePassword = randomBytes(12).toString('hex');
  writeFileSync(join(dir, 'broker.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      'broker.key',
      '-out',
      'broker.csr',
    ],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'broker.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'broker.ext',
      '-out',
      'broker.pem',
    ],
    dir,
  );
  openssl(
    [
      'pkcs12',
      '-export',
      '-in',
      'broker.pem',
      '-inkey',
      'broker.key',
      '-certfile',
      'ca.pem',
      '-name',
      'broker',
      '-out',
      'broker.p12',
      '-passout',
      `pass:${keystorePassword}`,
    ],
    dir,
  );
  for (const f of ['ca.key', 'broker.key', 'broker.csr', 'broker.ext']) rmSync(join(dir, f), { force: true });
  return { caFile, keystoreFile: join(dir, 'broker.p12'), keystorePassword };
}
