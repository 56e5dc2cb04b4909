/**
 * Reviews waiting for an asynchronous evaluator (users' policies answered at the turn's end), each failed when its
 * time budget runs out, by one timer armed for the earliest deadline rather than a timer per review: arming and
 * clearing a timer, and the promise racing it, cost ~2 µs a review (bench/RESULTS.md). Deadlines arrive nearly in
 * order, so the timer is re-armed about once per budget under load; a timer left armed after the last review was
 * answered fires once, finds nothing, and is not re-armed. It is unref'd: a waiting review's socket keeps the
 * process alive anyway.
 */
export class Deadlines {
  private waiting: Waiting[] = [];
  /** Entries before it are all done (answers come back nearly in order: they are dropped as they do). */
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  /** Calls `expire` once at `deadline` (ms since the epoch) unless `settle` was called first. */
  add(deadline: number, expire: () => void): Waiting {
    const w: Waiting = { deadline, expire, done: false };
    this.waiting.push(w);
    if (deadline < this.armedFor) this.arm(deadline);
    return w;
  }

  /** The review was answered: its deadline no longer matters. Returns false when it had expired already. */
  settle(w: Waiting): boolean {
    if (w.done) return false;
    w.done = true;
    const { waiting } = this;
    while (this.head < waiting.length && waiting[this.head].done) this.head++;
    if (this.head === waiting.length) {
      waiting.length = 0;
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= waiting.length) {
      this.waiting = waiting.slice(this.head);
      this.head = 0;
    }
    return true;
  }

  /** Reviews still waiting (for tests). */
  get size(): number {
    return this.waiting.filter((w) => !w.done).length;
  }

  private arm(deadline: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = deadline;
    this.timer = setTimeout(this.fire, Math.max(0, deadline - Date.now()));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = Date.now();
    const expired: Waiting[] = [];
    const kept: Waiting[] = [];
    let next = Infinity;
    for (let i = this.head; i < this.waiting.length; i++) {
      const w = this.waiting[i];
      if (w.done) continue;
      if (w.deadline <= now) expired.push(w);
      else {
        kept.push(w);
        if (w.deadline < next) next = w.deadline;
      }
    }
    this.waiting = kept;
    this.head = 0;
    if (next < Infinity) this.arm(next);
    if (expired.length > 1) expired.sort((x, y) => x.deadline - y.deadline);
    for (const w of expired) {
      w.done = true;
      w.expire();
    }
  };
}

export interface Waiting {
  readonly deadline: number;
  readonly expire: () => void;
  done: boolean;
}
