/**
 * A one-line progress bar on stderr, redrawn in place at most every 100 ms; drawn only when
 * stderr is a terminal, so logs, pipes and tests see nothing of it.
 */
export interface Progress {
  tick(): void;
  done(): void;
}

const WIDTH = 30;
const QUIET: Progress = { tick() {}, done() {} };

export function progressBar(
  label: string,
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (!stream.isTTY) return QUIET;
  const start = performance.now();
  let count = 0;
  let last = 0;
  const draw = () => {
    const filled = Math.round((count / total) * WIDTH);
    const secs = (performance.now() - start) / 1000;
    const rate = secs > 0 ? Math.round(count / secs) : 0;
    stream.write(
      `\r${label.padEnd(13)} [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${count}/${total}  ${rate}/s `,
    );
  };
  return {
    tick() {
      count++;
      const now = performance.now();
      if (now - last >= 100 || count === total) {
        last = now;
        draw();
      }
    },
    done() {
      draw();
      stream.write("\n");
    },
  };
}
