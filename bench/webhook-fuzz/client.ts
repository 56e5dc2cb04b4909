import { connect } from 'node:tls';
import type { FuzzInput } from './mutate.js';

export interface RawAnswer {
  /** 0 when the server closed the connection without an HTTP answer. */
  status: number;
  text: string;
}

/**
 * Sends one fuzz input over a fresh TLS connection, byte by byte where the input asks for it (slow bodies, bodies
 * cut short, Content-Length that lies). Resolves with the HTTP status, or 0 when the connection ended unanswered;
 * rejects only when nothing happened within `giveUpMs` (a hang).
 */
export function sendRaw(port: number, ca: string | Buffer, input: FuzzInput, giveUpMs: number, extraHeaders: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const body = Buffer.isBuffer(input.body) ? input.body : Buffer.from(input.body);
    const declared = input.transport === 'lying-length' ? body.length + 100 : body.length;
    const headers = [
      'POST /validate HTTP/1.1',
      'Host: 127.0.0.1',
      `Content-Length: ${declared}`,
      ...(input.contentType === undefined ? ['Content-Type: application/json'] : input.contentType ? [`Content-Type: ${input.contentType}`] : []),
      ...Object.entries(extraHeaders).map(([k, v]) => `${k}: ${v}`),
      'Connection: close',
      '',
      '',
    ].join('\r\n');
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    const chunks: Buffer[] = [];
    let slow: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${giveUpMs} ms (${input.label})`));
    }, giveUpMs);
    const done = () => {
      clearTimeout(giveUp);
      if (slow) clearInterval(slow);
      const raw = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(raw);
      const text = raw.includes('\r\n\r\n') ? raw.slice(raw.indexOf('\r\n\r\n') + 4) : '';
      resolve({ status: m ? Number(m[1]) : 0, text: Buffer.from(text, 'latin1').toString('utf8') });
    };
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', done);
    socket.on('close', () => done());
    socket.on('error', () => {}); // a reset after the answer is fine; 'close' follows
    socket.on('secureConnect', () => {
      socket.write(headers);
      if (input.transport === 'slow-body') {
        let at = 0;
        slow = setInterval(() => {
          if (at >= body.length - 1 || socket.destroyed) return; // never send the last byte: a slowloris
          socket.write(body.subarray(at, at + 1));
          at++;
        }, 20);
      } else if (input.transport === 'truncate-close') {
        socket.end(body.subarray(0, Math.floor(body.length / 2)));
      } else socket.write(body);
    });
  });
}
