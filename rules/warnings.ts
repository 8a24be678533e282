/**
 * Things a valid rule may mean but probably should not: warnings, not errors (saving still works).
 *
 * A template inside a shell's `-c` script (`["/bin/sh", "-c", "echo \"{{fields.s}}\""]`) puts the event's text into
 * the script itself, so a title with a quote, `$(…)` or `;` in it runs as shell code. The `command` action takes an
 * argv precisely so that this is not needed: the script reads the value as "$1" and the value goes in its own
 * argument, where no shell parses it.
 */
import type { CommandAction, Rule } from './schema.js';
import type { RuleIssue } from './schema.js';

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'fish', 'csh', 'tcsh', 'busybox']);
const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
/** "-c", and combined short options that include c ("-lc", "-ec", "-xc"). */
const isDashC = (a: string) => /^-[a-z]*c[a-z]*$/.test(a);

export function ruleWarnings(rule: Rule): RuleIssue[] {
  const warnings: RuleIssue[] = [];
  rule.then.forEach((action, i) => {
    if (!('command' in action)) return;
    const argv = (action as CommandAction).command.argv;
    // The shell may come through env ("/usr/bin/env bash -c …").
    let s = 0;
    if (base(argv[0] ?? '') === 'env') s = argv.findIndex((a, k) => k > 0 && !a.startsWith('-') && !a.includes('='));
    if (s < 0 || !SHELLS.has(base(argv[s] ?? ''))) return;
    const c = argv.findIndex((a, k) => k > s && isDashC(a));
    if (c < 0) return;
    const script = c + 1;
    // Output ({{ }}) and tags ({% echo title %}, {% liquid … %}) both write the event's text into the script.
    if (!/\{\{|\{%/.test(argv[script] ?? '')) return;
    warnings.push({
      ruleId: rule.id,
      path: `$.then[${i}].command.argv[${script}]`,
      message:
        `a template inside the shell's -c script runs whatever the event's text says (a quote, $(…) or ; in it becomes shell code); ` +
        `pass the value as its own argument instead: ["${argv[s]}", "-c", "echo \\"$1\\"", "sh", "{{ fields.x }}"], where the script reads it as "$1"`,
    });
  });
  return warnings;
}
