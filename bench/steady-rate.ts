import { Agent, request } from 'node:https';

/**
 * An open-loop load generator: requests leave at a constant rate (one every 1/rate s, spread over keep-alive
 * connections) whatever the server does, never waiting for answers, so a stalled server shows up as latency instead
 * of as fewer requests (no coordinated omission). Latency runs from the moment a request is handed to the client
 * (including a wait for a free connection) to the end of its answer; Node's timers may send a request up to a
 * millisecond after it was due, which is the generator's lateness, not the server's, and is not counted.
 *
 * autocannon's `overallRate` is not this: each connection sends back to back until it has used its budget for the
 * second, then waits for the next second, which measures bursts at full speed rather than a steady rate.
 */
export interface SteadyResult {
  sent: number;
  errors: number;
  non2xx: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  max: number;
}

export async function steadyRate(opts: { port: number; path: string; body: string; rate: number; durationS: number; connections: number }): Promise<SteadyResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections, rejectUnauthorized: false });
  const payload = Buffer.from(opts.body);
  const total = Math.round(opts.rate * opts.durationS);
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let sent = 0;
  const start = performance.now();
  const interval = 1000 / opts.rate;

  const fire = () =>
    new Promise<void>((resolve) => {
      const began = performance.now();
      const req = request(
        { host: '127.0.0.1', port: opts.port, path: opts.path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': payload.length } },
        (res) => {
          if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode > 299) non2xx++;
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - began);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(payload);
    });

  const inflight: Promise<void>[] = [];
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      // Send every request whose time has come (timers fire late; catching up keeps the rate exact).
      while (sent < total && start + sent * interval <= now) {
        sent++;
        inflight.push(fire());
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
      else done();
    };
    tick();
  });
  await Promise.all(inflight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { sent, errors, non2xx, p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1] ?? NaN };
}
