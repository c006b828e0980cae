// Bundles the page into OUTDIR (argument): index.html, app.js, app.css.
// Run by CMake at build time; the result is embedded into nomtag.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2];
if (!outdir) {
  console.error("usage: node build.mjs OUTDIR");
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: [join(here, "src/main.tsx")],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  jsx: "automatic",
  jsxImportSource: "preact",
  outfile: join(outdir, "app.js"),
  logLevel: "warning",
});
copyFileSync(join(here, "src/index.html"), join(outdir, "index.html"));
copyFileSync(join(here, "src/app.css"), join(outdir, "app.css"));
