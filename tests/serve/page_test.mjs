// The library page in a real browser (Debian's Chromium driven by
// playwright-core) against a real `nomtag serve`, database and files:
// log in through the printed link, create a library, scan it, change its
// mode, accept "N files need reconciliation. Run now?", watch the pending
// badge reach zero, then read the files' tags on disk with mutagen.
// Screenshots of each view go to SHOT_DIR. The server and the browser are
// stopped in `finally`, whatever fails.
//
// Usage: node page_test.mjs NOMTAG PLUGINS_YAML SHOT_DIR
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const [nomtag, config, shotDir] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
// playwright-core lives in web/node_modules (npm ci there).
const require = createRequire(join(here, "../../web/package.json"));
const { chromium } = require("playwright-core");

const work = mkdtempSync(join(tmpdir(), "nomtag-page-"));
const music = join(work, "music");
const db = join(work, "nomtag.db");
const env = { ...process.env, HOME: work, XDG_CONFIG_HOME: join(work, "config") };
const files = ["a.mp3", "b.flac", "c.ogg", "d.m4a", "e.opus"];
const codecs = { mp3: "libmp3lame", flac: "flac", ogg: "libvorbis", m4a: "aac", opus: "libopus" };

function run(cmd, args) {
  const r = spawnSync(cmd, args, { env, encoding: "utf8" });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function startServer() {
  const proc = spawn(nomtag, ["--config", config, "--db", db, "serve", "--listen", "127.0.0.1:0"], {
    env, stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout });
    const timer = setTimeout(() => reject(new Error("serve printed no login link")), 60000);
    lines.on("line", (line) => {
      const m = /open (http:\/\/127\.0\.0\.1:\d+)\/login\?code=([0-9a-f]+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, base: m[1], login: `${m[1]}/login?code=${m[2]}` });
      }
    });
    proc.on("exit", (code) => reject(new Error(`serve exited with ${code}`)));
  });
}

let server = null;
let browser = null;
let page = null;
try {
  mkdirSync(music, { recursive: true });
  mkdirSync(shotDir, { recursive: true });
  for (const f of files) {
    const ext = f.split(".")[1];
    run("ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
      "-c:a", codecs[ext], "-metadata", "title=Their title", join(music, f)]);
  }
  server = await startServer();
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage({ viewport: { width: 420, height: 900 } });  // narrow
  page.on("pageerror", (e) => { throw e; });
  await page.goto(server.login);
  assert.equal(new URL(page.url()).hash, "", "the token leaves the address bar");
  await page.getByRole("heading", { name: "nomtag libraries" }).waitFor();
  await page.getByText("No libraries yet").waitFor();

  // Add a library (mode none), through the form and its labels.
  await page.getByRole("button", { name: "Add library" }).click();
  await page.getByLabel("Name").fill("music");
  await page.getByLabel("Folder (absolute path on the server)").fill(join(work, "nowhere"));
  await page.getByLabel("Write mode").selectOption("none");
  await page.getByText("No nom tags in the files").waitFor();
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await page.getByRole("alert").getByText("not a folder").waitFor();  // the server's error, shown
  await page.screenshot({ path: join(shotDir, "1-add-error.png") });
  await page.getByLabel("Folder (absolute path on the server)").fill(music);
  await page.getByRole("button", { name: "Add", exact: true }).click();
  const card = page.locator("article[data-library=music]");
  await card.waitFor();
  await page.getByRole("button", { name: "Dismiss" }).click();

  // Scan, with its progress, then the tags come into the database.
  await card.getByRole("button", { name: "Scan" }).click();
  await card.getByText(/Last scan: done — 5 files seen/).waitFor({ timeout: 60000 });
  const tags = files.map((f, i) => JSON.stringify({ path: f, tags: { bpm: 120 + i, "genre-rock": 0.5 } }));
  writeFileSync(join(work, "tags.jsonl"), tags.join("\n") + "\n");
  run(nomtag, ["--config", config, "--db", db, "tags", "import", "music", join(work, "tags.jsonl")]);
  await page.reload();
  await card.getByText("5 files ·").waitFor();
  await page.screenshot({ path: join(shotDir, "2-library-card.png"), fullPage: true });

  // Change the mode: the prompt, then reconciliation on "Run now".
  await card.getByRole("button", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: "Edit library" });
  await edit.getByLabel("Write mode").selectOption("full");
  await page.screenshot({ path: join(shotDir, "3-edit.png") });
  await edit.getByRole("button", { name: "Save" }).click();
  const prompt = page.getByRole("dialog", { name: "Reconciliation needed" });
  await prompt.getByText("5 files need reconciliation. Run now?").waitFor();
  await page.screenshot({ path: join(shotDir, "4-prompt.png") });
  await prompt.getByRole("button", { name: "Run now" }).click();
  await card.getByTestId("pending-badge").filter({ hasText: "0 pending" }).waitFor({ timeout: 120000 });
  await card.getByText(/Last reconcile: done — 5 processed, 0 failed, 0 remaining/).waitFor();
  assert.equal(await card.locator(".badge.mode-full").textContent(), "full");
  await page.screenshot({ path: join(shotDir, "5-reconciled.png"), fullPage: true });

  // The files on disk, read by mutagen.
  const check = `
import json, sys, mutagen
out = {}
for p in sys.argv[1:]:
    f = mutagen.File(p)
    keys = {}
    for k, v in (f.tags or {}).items():
        k = str(k)
        if k.startswith("TXXX:nom:"): keys[k[9:]] = [str(x) for x in v.text]
        elif k.startswith("----:com.apple.iTunes:nom."): keys[k[26:]] = [bytes(x).decode() for x in v]
        elif k.lower().startswith("nom:"): keys[k[4:].lower()] = list(v)
    out[p.rsplit("/", 1)[1]] = keys
print(json.dumps(out))`;
  const onDisk = JSON.parse(run("/usr/bin/python3", ["-c", check, ...files.map((f) => join(music, f))]));
  files.forEach((f, i) => {
    assert.deepEqual(onDisk[f], { bpm: [String(120 + i)], "genre-rock": ["0.5"] }, f);
  });
  console.log("1 passed, 0 failed");
} catch (e) {
  console.error(e);
  if (page) await page.screenshot({ path: join(shotDir, "failure.png"), fullPage: true }).catch(() => {});
  console.log("0 passed, 1 failed");
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) {
    server.proc.kill("SIGTERM");
    await new Promise((r) => { server.proc.on("exit", r); setTimeout(r, 30000); });
    if (server.proc.exitCode === null) server.proc.kill("SIGKILL");
  }
  rmSync(work, { recursive: true, force: true });
}
