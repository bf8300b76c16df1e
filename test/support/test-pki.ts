/**
 * A throwaway PKI for TLS tests: a root CA and leaf certificates with chosen names and validity,
 * written as PEM files into a temporary folder (DestinationRules name files). Keys come from
 * node:crypto (fast); node-forge builds and signs the X.509 certificates, since node:crypto
 * cannot issue one.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import forge from 'node-forge';

export interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
  /** Files holding them (and the chain up to the root, for servers). */
  readonly certFile: string;
  readonly keyFile: string;
}

export interface LeafOptions {
  readonly dnsNames?: readonly string[];
  readonly uris?: readonly string[];
  readonly ips?: readonly string[];
  /** Validity; default from an hour ago to a day ahead. */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly commonName?: string;
  /** For client certificates. */
  readonly clientAuth?: boolean;
}

export interface TestCa {
  readonly name: string;
  readonly certPem: string;
  readonly certFile: string;
  issue(name: string, options?: LeafOptions): Promise<Issued>;
}

export interface TestPki {
  readonly dir: string;
  createCa(name: string): Promise<TestCa>;
  remove(): Promise<void>;
}

function keyPair(): { privateKey: forge.pki.PrivateKey; publicKey: forge.pki.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem };
}

function serial(): string {
  // Positive, as X.509 requires: clear the top bit.
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return bytes.toString('hex');
}

const HOUR = 3_600_000;

export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dabba-pki-'));
  return {
    dir,
    remove: () => rm(dir, { recursive: true, force: true }),
    async createCa(name) {
      const keys = keyPair();
      const cert = forge.pki.createCertificate();
      cert.publicKey = keys.publicKey;
      cert.serialNumber = serial();
      cert.validity.notBefore = new Date(Date.now() - HOUR);
      cert.validity.notAfter = new Date(Date.now() + 24 * HOUR);
      const subject = [{ name: 'commonName', value: name }];
      cert.setSubject(subject);
      cert.setIssuer(subject);
      cert.setExtensions([
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        { name: 'subjectKeyIdentifier' },
      ]);
      cert.sign(keys.privateKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
      const certPem = forge.pki.certificateToPem(cert);
      const certFile = path.join(dir, `${name}-ca.pem`);
      await writeFile(certFile, certPem);
      return {
        name,
        certPem,
        certFile,
        async issue(leafName, options = {}) {
          const leafKeys = keyPair();
          const leaf = forge.pki.createCertificate();
          leaf.publicKey = leafKeys.publicKey;
          leaf.serialNumber = serial();
          leaf.validity.notBefore = options.notBefore ?? new Date(Date.now() - HOUR);
          leaf.validity.notAfter = options.notAfter ?? new Date(Date.now() + 24 * HOUR);
          leaf.setSubject([{ name: 'commonName', value: options.commonName ?? leafName }]);
          leaf.setIssuer(cert.subject.attributes);
          const altNames = [
            ...(options.dnsNames ?? []).map((value) => ({ type: 2, value })),
            ...(options.uris ?? []).map((value) => ({ type: 6, value })),
            ...(options.ips ?? []).map((ip) => ({ type: 7, ip })),
          ];
          leaf.setExtensions([
            { name: 'basicConstraints', cA: false },
            { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
            { name: 'extKeyUsage', serverAuth: true, clientAuth: options.clientAuth === true },
            ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
          ]);
          leaf.sign(keys.privateKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
          const leafPem = forge.pki.certificateToPem(leaf);
          const certFile = path.join(dir, `${leafName}.pem`);
          const keyFile = path.join(dir, `${leafName}-key.pem`);
          await writeFile(certFile, leafPem);
          await writeFile(keyFile, leafKeys.pem);
          return { certPem: leafPem, keyPem: leafKeys.pem, certFile, keyFile };
        },
      };
    },
  };
}
