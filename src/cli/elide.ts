// Long runs of one kind of line (align-test's "Failed random size", up to 3 × 10^6 of them)
// shown as their first few and a count, so that a terminal is not flooded; --all-lines
// keeps the real program's output.

/** A line's kind: its text up to the first comma ("Failed random size"), or the whole line. */
const kindOf = (line: string) => {
  const c = line.indexOf(',');
  return c < 0 ? line : line.slice(0, c);
};

const NOTE = '… and ';

export const isElisionNote = (line: string) => line.startsWith(NOTE);

function note(n: number, kind: string): string {
  return `${NOTE}${n.toLocaleString('en-US')} more "${kind}" line${n === 1 ? '' : 's'} (--all-lines prints every one)`;
}

/** Streams lines, passing on the first `keep` of each run of one kind and counting the rest. */
export class RepeatElider {
  private kind = '';
  private run = 0;
  constructor(private readonly keep: number) {}

  push(line: string, emit: (l: string) => void): void {
    const k = kindOf(line);
    if (k !== this.kind) {
      this.flush(emit);
      this.kind = k;
    }
    this.run++;
    if (this.run <= this.keep) emit(line);
  }

  /** End of a run: say how many lines were not shown. */
  flush(emit: (l: string) => void): void {
    if (this.run > this.keep) emit(note(this.run - this.keep, this.kind));
    this.run = 0;
    this.kind = '';
  }
}

export function elideRepeats(lines: readonly string[], keep: number): string[] {
  const out: string[] = [];
  const e = new RepeatElider(keep);
  const emit = (l: string) => out.push(l);
  for (const l of lines) e.push(l, emit);
  e.flush(emit);
  return out;
}
