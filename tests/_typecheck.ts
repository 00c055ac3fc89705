/**
 * Type-checks JavaScript that runs outside the kernel's module graph (the sandboxes' bootstraps,
 * the helper threads' code, kept as strings): written to a temporary file under `// @ts-check`,
 * then `deno check`ed with strict options. Implicit `any` is allowed (it is JavaScript); anything
 * else the checker finds (a wrong call, a property that does not exist, a possibly-null value) is
 * returned.
 *
 * @module
 */

/** What a check found: empty when the code is clean. */
export async function typeErrors(
  code: string,
  options: { name: string; kind: "module" | "commonjs"; worker?: boolean },
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-typecheck-" });
  try {
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({
        compilerOptions: { strict: true, noImplicitAny: false, noImplicitThis: false },
      }),
    );
    const header = "// @ts-check\n" +
      (options.worker === true ? '/// <reference lib="deno.worker" />\n' : "");
    const file = `${dir}/${options.name}.${options.kind === "commonjs" ? "cjs" : "js"}`;
    await Deno.writeTextFile(file, header + code);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", file],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stderr) + new TextDecoder().decode(output.stdout);
    return output.code === 0 ? "" : text;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
