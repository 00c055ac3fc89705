/**
 * A quick parser for the ordinary command line, private to the commands: long flags with their
 * values (`--cpu rr`, `--cpu=rr`, `--watch`) and positionals. It gives what node:util's
 * `parseArgs` (strict, positionals allowed) gives for such a line, and leaves everything else to
 * it (returns undefined): an unknown flag, a short one, a value that is missing or starts with
 * "-", a flag given twice, `--`. So every error is still parseArgs' own, and a plain command line
 * starts no Node compatibility layer.
 *
 * @module
 */

/** An option as parseArgs declares it. */
interface FlagOption {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  default?: unknown;
}

/** What parseArgs returns for `args`, when the line is an ordinary one; else undefined. */
export function quickFlags(
  args: string[],
  options: Record<string, FlagOption>,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } | undefined {
  // Defaults (given even for an absent flag) and multiple values are parseArgs' to handle.
  for (const name in options) {
    if (options[name]!.default !== undefined || options[name]!.multiple === true) return undefined;
  }
  // parseArgs' values have no prototype.
  const values: Record<string, string | boolean | undefined> = Object.create(null);
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith("--") || arg === "--") return undefined;
    const equals = arg.indexOf("=");
    const name = equals < 0 ? arg.slice(2) : arg.slice(2, equals);
    const option = Object.hasOwn(options, name) ? options[name]! : undefined;
    if (
      option === undefined || Object.hasOwn(values, name)
    ) {
      return undefined;
    }
    if (option.type === "boolean") {
      if (equals >= 0) return undefined;
      values[name] = true;
    } else if (equals >= 0) {
      values[name] = arg.slice(equals + 1);
    } else {
      const value = args[i + 1];
      if (value === undefined || value.startsWith("-")) return undefined;
      values[name] = value;
      i++;
    }
  }
  return { values, positionals };
}
