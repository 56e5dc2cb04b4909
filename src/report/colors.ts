/** ANSI colours, on only for a TTY (or FORCE_COLOR), never with NO_COLOR. */
export function useColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0') return true;
  return !!stream.isTTY;
}

export type Paint = (code: number, s: string) => string;

export function painter(on: boolean): Paint {
  return on ? (code, s) => `\u001b[${code}m${s}\u001b[0m` : (_code, s) => s;
}

export const RED = 31;
export const GREEN = 32;
export const YELLOW = 33;
export const BLUE = 34;
export const MAGENTA = 35;
export const CYAN = 36;
export const DIM = 2;
export const BOLD = 1;
