/**
 * How the demo speaks: numbered steps, the commands a person would type with
 * what they printed, and checks that say whether each step did what it says.
 * Everything printed is also kept for the report file.
 */
import * as fs from 'fs';

export interface Check {
  readonly what: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export class Narrator {
  private readonly lines: string[] = [];
  private readonly checks: { step: string; check: Check }[] = [];
  private step = '';

  constructor(private readonly echo: (text: string) => void = text => process.stdout.write(text)) {}

  /** Starts a numbered step of the scenario. */
  section(title: string, why?: string): void {
    this.step = title;
    this.block('heading', `## ${title}\n`);
    if (why) this.block('text', `${why}\n`);
  }

  say(text: string): void {
    this.block('text', `${text.replace(/^\n+/, '')}\n`);
  }

  /** Shows a command and what it printed, indented like a terminal (a Markdown code block in the report). */
  command(commandLine: string, output: string): void {
    const lines = [
      `    $ ${commandLine}`,
      ...output
        .replace(/\s+$/, '')
        .split('\n')
        .filter(l => l !== '')
        .map(l => `    ${l}`),
    ];
    this.block('code', `${lines.join('\n')}\n`);
  }

  /** Records a check: each step's claim, confirmed through the emulator's AWS APIs. A Markdown list item in the report. */
  check(what: string, ok: boolean, detail?: string): boolean {
    this.checks.push({ step: this.step, check: { what, ok, detail } });
    this.block('check', `- ${ok ? 'ok  ' : 'FAIL'}  ${what}${detail && !ok ? ` (${detail})` : ''}\n`);
    return ok;
  }

  get failures(): { step: string; check: Check }[] {
    return this.checks.filter(c => !c.check.ok);
  }

  get checkCount(): number {
    return this.checks.length;
  }

  writeReport(file: string, header: string): void {
    const summary =
      this.failures.length === 0
        ? `All ${this.checks.length} checks passed.`
        : `${this.failures.length} of ${this.checks.length} checks FAILED:\n\n` +
          this.failures.map(f => `- ${f.step}: ${f.check.what}`).join('\n');
    fs.writeFileSync(file, `${header}\n\n${summary}\n\n${this.lines.join('')}`);
  }

  /**
   * Emits one block. Markdown joins lines that touch into one paragraph, so every block is set apart by a blank line,
   * except consecutive checks, which form one list.
   */
  private block(kind: 'heading' | 'text' | 'code' | 'check', text: string): void {
    const separate = this.lastKind !== undefined && !(kind === 'check' && this.lastKind === 'check');
    this.lastKind = kind;
    this.emit(separate ? `\n${text}` : text);
  }
  private lastKind?: 'heading' | 'text' | 'code' | 'check';

  private emit(text: string): void {
    this.lines.push(text);
    this.echo(text);
  }
}
