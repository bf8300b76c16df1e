/**
 * The demo's output. On a terminal, a progress line is redrawn in place while a scene runs and
 * colours mark results. Anywhere else (CI logs, pipes, files) there is no cursor movement and no
 * colour: only whole lines, so the output reads the same in a log as on screen.
 */

export interface Display {
  /** True when progress is redrawn in place (stdout is a terminal). */
  readonly interactive: boolean;
  /**
   * How long a batch of traffic should at least take to be watched: a person at a terminal
   * would not see the progress of a batch that takes 50 ms. Zero when not interactive.
   */
  readonly paceMs: number;
  /** Prints a whole line, first removing any progress line. */
  line(text?: string): void;
  /** Shows `text` as the progress line (terminal only; a no-op otherwise). Throttled. */
  progress(text: string): void;
  /** Removes the progress line, if shown. */
  clearProgress(): void;
  bold(text: string): string;
  dim(text: string): string;
  good(text: string): string;
  bad(text: string): string;
  accent(text: string): string;
}

const CLEAR_LINE = '\r\x1b[2K';
const REDRAW_EVERY_MS = 33;
const PACE_MS = 1200;

/** A fixed-width bar for a fraction in [0, 1]. */
export function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return '#'.repeat(filled) + '.'.repeat(width - filled);
}

/** Creates the display for `stream` (default stdout), deciding once whether it is interactive. */
export function createDisplay(
  stream: NodeJS.WriteStream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): Display {
  const interactive = stream.isTTY === true && env.TERM !== 'dumb' && !env.CI;
  const colour = interactive && env.NO_COLOR === undefined;
  const style = (open: number, close: number) => (text: string) =>
    colour ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  let shown = false;
  let lastDraw = 0;
  const clearProgress = () => {
    if (!shown) return;
    stream.write(CLEAR_LINE);
    shown = false;
  };
  return {
    interactive,
    paceMs: interactive ? PACE_MS : 0,
    line(text = '') {
      clearProgress();
      stream.write(`${text}\n`);
    },
    progress(text) {
      if (!interactive) return;
      const now = performance.now();
      if (shown && now - lastDraw < REDRAW_EVERY_MS) return;
      lastDraw = now;
      // A line longer than the terminal wraps, and `\r` would then redraw only its last part.
      const width = Math.max(10, (stream.columns || 80) - 1);
      stream.write(CLEAR_LINE + text.slice(0, width));
      shown = true;
    },
    clearProgress,
    bold: style(1, 22),
    dim: style(2, 22),
    good: style(32, 39),
    bad: style(31, 39),
    accent: style(36, 39),
  };
}
