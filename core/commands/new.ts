/**
 * `hyperhook new <dir> --domain cpu|memory|io`: scaffold a policy package, ready to test and to
 * publish to JSR: `deno.json` (name, version, license, exports, tasks), `mod.ts` (a small working
 * policy), `mod_test.ts` (the test kit's checks and a test of its own), `workload.json`, a README
 * and a publishing workflow. It passes its own `deno task test` and `deno publish --dry-run` as
 * written.
 *
 * The package imports the framework as `jsr:@hyperhook/hyperhook@^<this version>`. Made from a
 * checkout, it also gets `"links": ["<the checkout>"]`, so that Deno resolves the framework from
 * the checkout, locally and offline.
 *
 * @module
 */

import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as sdk from "../policy/mod.ts";
import type { Domain } from "../protocol/definition.ts";
import { EXIT, parseFlags, UsageError } from "./common.ts";
import {
  denoJson,
  publishWorkflow,
  readme,
  type ScaffoldDomain,
  type TemplateContext,
  TEMPLATES,
  templateText,
} from "./_new_templates.ts";
import frameworkConfig from "../../deno.json" with { type: "json" };

/** Usage of `new`. */
export const NEW_USAGE = `hyperhook new <dir> [--domain cpu|memory|io] [--name @scope/name]
  <dir>          a new or empty folder for the package
  --domain D     the policy's domain (default cpu)
  --name N       the JSR package name (default @my-scope/<dir name>)`;

const DOMAINS: readonly Domain[] = ["cpu", "memory", "io"];

/** The SDK function each domain's policy is defined with. */
const DEFINE: Record<Domain, string> = {
  cpu: "defineCpuPolicy",
  memory: "defineMemoryPolicy",
  io: "defineIoPolicy",
  placement: "definePlacementPolicy",
};

/**
 * The domains whose policy SDK this version of hyperhook has (and so can scaffold).
 *
 * @example
 * ```ts
 * import { scaffoldDomains } from "./new.ts";
 *
 * console.assert(scaffoldDomains().includes("cpu"));
 * ```
 *
 * @returns The domains, in the order cpu, memory, io.
 */
export function scaffoldDomains(): Domain[] {
  return DOMAINS.filter((domain) =>
    typeof (sdk as Record<string, unknown>)[DEFINE[domain]] === "function"
  );
}

/** Scope 2–20 characters and name 2–58, lowercase letters, digits and hyphens (JSR's rules). */
const PACKAGE_NAME = /^@([a-z0-9][a-z0-9-]{1,19})\/([a-z0-9][a-z0-9-]{1,57})$/;

/** Options of {@linkcode scaffoldPolicy}. */
export interface ScaffoldOptions {
  /** The policy's domain (default `cpu`). */
  domain?: Domain;
  /** The JSR package name (default `@my-scope/<folder name>`). */
  name?: string;
  /**
   * The hyperhook checkout to link, or null for none. Default: this checkout when hyperhook runs
   * from one (from files rather than from JSR).
   */
  link?: string | null;
}

/** What {@linkcode scaffoldPolicy} wrote. */
export interface ScaffoldResult {
  /** The package's folder, absolute. */
  dir: string;
  /** The package name. */
  name: string;
  /** The domain. */
  domain: Domain;
  /** The files written, relative to `dir`. */
  files: string[];
  /** The linked checkout, if any. */
  link: string | undefined;
}

/** The checkout this module belongs to, when it runs from files with the framework's deno.json. */
function thisCheckout(): string | undefined {
  const url = new URL("../../", import.meta.url);
  if (url.protocol !== "file:") return undefined;
  const root = fileURLToPath(url).replace(/\/$/, "");
  try {
    const config = JSON.parse(Deno.readTextFileSync(join(root, "deno.json"))) as { name?: unknown };
    return config.name === frameworkConfig.name ? root : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes a policy package into `dir` (created if needed; it must be empty).
 *
 * @example
 * ```ts ignore
 * import { scaffoldPolicy } from "./new.ts";
 *
 * const made = await scaffoldPolicy("my-policy", { domain: "cpu", name: "@me/my-policy" });
 * console.log(made.files); // deno.json, mod.ts, mod_test.ts, workload.json, README.md, ...
 * ```
 *
 * @param dir The package's folder.
 * @param options Domain, package name, checkout to link.
 * @returns What was written.
 * @throws {UsageError} For an unknown domain, an invalid package name, or a folder that is not
 *   empty or is a file.
 */
export async function scaffoldPolicy(
  dir: string,
  options: ScaffoldOptions = {},
): Promise<ScaffoldResult> {
  const asked = options.domain ?? "cpu";
  if (!DOMAINS.includes(asked)) {
    throw new UsageError(
      `--domain: expected one of ${DOMAINS.join(", ")}, got ${JSON.stringify(asked)}`,
    );
  }
  const domain = asked as ScaffoldDomain;
  const available = scaffoldDomains();
  if (!available.includes(domain)) {
    throw new UsageError(
      `--domain ${domain}: this version of hyperhook has no ${domain} policy SDK yet; expected one of ${
        available.join(", ")
      }`,
    );
  }
  const target = resolve(dir);
  const fromFolder = options.name === undefined;
  const name = options.name ?? `@my-scope/${basename(target)}`;
  const match = PACKAGE_NAME.exec(name);
  if (match === null) {
    throw new UsageError(
      `Package name ${JSON.stringify(name)}${fromFolder ? " (from the folder's name)" : ""}: ` +
        `expected @scope/name in lowercase letters, digits and hyphens (scope 2 to 20 characters, ` +
        `name 2 to 58), such as @me/my-policy${fromFolder ? "; choose one with --name" : ""}`,
    );
  }
  await ensureEmptyFolder(target);
  const link = options.link === undefined ? thisCheckout() : options.link ?? undefined;
  const context: TemplateContext = {
    packageName: name,
    policyName: match[2]!,
    range: `^${frameworkConfig.version}`,
    link,
  };
  const template = TEMPLATES[domain];
  const files: [string, string][] = [
    ["deno.json", denoJson(domain, context)],
    ["mod.ts", await templateText(domain, "mod.ts", context)],
    ["mod_test.ts", await templateText(domain, "mod_test.ts", context)],
    ["workload.json", JSON.stringify(template.workload(context), null, 2) + "\n"],
    ["README.md", readme(domain, context)],
    [".github/workflows/publish.yml", publishWorkflow()],
  ];
  for (const [file, text] of files) {
    const path = join(target, file);
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, text, { createNew: true });
  }
  return { dir: target, name, domain, files: files.map(([file]) => file), link };
}

async function ensureEmptyFolder(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      await Deno.mkdir(path, { recursive: true });
      return;
    }
    throw new UsageError(`Folder ${path}: cannot read it (${(error as Error).message})`);
  }
  if (!info.isDirectory) {
    throw new UsageError(`${path} is a file: expected a new or empty folder for the package`);
  }
  for await (const entry of Deno.readDir(path)) {
    throw new UsageError(
      `Folder ${path} is not empty (it has ${entry.name}): expected a new or empty folder, so ` +
        `that nothing is overwritten`,
    );
  }
}

/**
 * Runs the `new` subcommand; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { newCommand } from "./new.ts";
 *
 * Deno.exit(await newCommand(["my-policy", "--domain", "memory"]));
 * ```
 *
 * @param args The arguments after `new`.
 * @returns 0, or 2 for bad input (thrown as a `UsageError`).
 */
export async function newCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    domain: { type: "string" },
    name: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(NEW_USAGE);
    return EXIT.OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `new: expected one folder, got ${positionals.length === 0 ? "none" : positionals.join(" ")}`,
    );
  }
  const made = await scaffoldPolicy(resolve(userCwd(), positionals[0]!), {
    domain: (values.domain as Domain | undefined) ?? "cpu",
    name: values.name as string | undefined,
  });
  const shown = relativeOrAbsolute(made.dir);
  console.log(`Created ${made.name}, a ${made.domain} policy package, in ${shown}:`);
  for (const file of made.files) console.log(`  ${file}`);
  if (made.link !== undefined) {
    console.log(`It resolves @hyperhook/hyperhook from ${made.link} ("links" in deno.json).`);
  }
  console.log(`Next:
  cd ${shown}
  deno task test          # the hyperhook checks and the policy's own test
  deno task sim           # run it on workload.json
  deno task compare       # side by side with a built-in policy
  deno publish --dry-run  # ready for JSR`);
  return EXIT.OK;
}

/**
 * Where the user stands: `deno task new` runs in the checkout's folder and passes the folder it
 * was started from as INIT_CWD, so that `deno task new ../dir` means the user's `../dir`. Only
 * there: a process started in another folder may have inherited an unrelated INIT_CWD.
 */
function userCwd(): string {
  const cwd = Deno.cwd(), init = Deno.env.get("INIT_CWD");
  return init && cwd === thisCheckout() ? resolve(init) : cwd;
}

/** The folder as the user would type it from where they stand: relative when near, else absolute. */
function relativeOrAbsolute(path: string): string {
  const shown = relative(userCwd(), path);
  return shown === "" ? "." : shown.startsWith("../../..") ? path : shown;
}
