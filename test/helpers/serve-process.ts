// `fleetgate serve` as a real process (the built CLI), for tests that need what only the binary does.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:https';
import { cliCommand } from './cli.js';
import type { Certs } from './webhook.js';

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  out(): string;
  get(path: string): Promise<{ status: number; text: string }>;
  post(body: unknown, contentType?: string): Promise<{ status: number; text: string }>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `fleetgate serve` on a random port and waits until it says it is ready (policies loaded). */
export async function startServeProcess(certs: Certs, args: string[] = [], env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(...cliCommand(['serve', '--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--port', '0', '--host', '127.0.0.1', '--no-namespace-watch', ...args]), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let port = 0;
  for (let i = 0; i < 600 && !(port && out.includes('policies loaded; ready')); i++) {
    if (child.exitCode !== null) throw new Error(`fleetgate serve exited ${child.exitCode}: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
    const m = /"port":(\d+),"host"/.exec(out);
    if (m) port = Number(m[1]);
  }
  if (!port || !out.includes('policies loaded; ready')) {
    child.kill('SIGKILL');
    throw new Error(`fleetgate serve did not become ready: ${out}${err}`);
  }
  const agent = new Agent({ ca: certs.cert, keepAlive: false });
  const call = (method: string, path: string, body?: string, contentType = 'application/json') =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, agent, headers: body === undefined ? {} : { 'content-type': contentType } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  return {
    child,
    port,
    out: () => out,
    get: (path) => call('GET', path),
    post: (body, contentType) => call('POST', '/validate', typeof body === 'string' ? body : JSON.stringify(body), contentType),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      agent.destroy();
      return code;
    },
  };
}
