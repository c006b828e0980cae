// The library page in a real browser (Debian's Chromium driven by
// playwright-core) against a real `nomtag serve`, database and files:
// log in through the printed link, create a library, scan it, change its
// mode, accept "N files need reconciliation. Run now?", watch the pending
// badge reach zero, then read the files' tags on disk with mutagen; add
// files long enough to analyse, Analyze, Generate the calibration and check
// its per-head histograms and p5/p95 against the API; remove the library
// through its confirmation and check no file changed.
// Screenshots of each view go to SHOT_DIR. The server and the browser are
// stopped in `finally`, whatever fails.
//
// Usage: node page_test.mjs NOMTAG PLUGINS_YAML SHOT_DIR
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
  await card.getByText("5 files in 1 folder ·").waitFor();
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

  // Analysis: three files long enough for the descriptors (5 s at least),
  // each its own pitch and level; the five short ones fail with a reason.
  mkdirSync(join(music, "long"));
  const long = [["f.flac", 110, 0.2], ["g.mp3", 880, 0.5], ["h.ogg", 3520, 0.9]];
  for (const [f, freq, vol] of long) {
    const ext = f.split(".")[1];
    run("ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", `sine=frequency=${freq}:duration=6`,
      "-af", `volume=${vol}`, "-c:a", codecs[ext], join(music, "long", f)]);
  }
  await card.getByRole("button", { name: "Scan" }).click();
  await card.getByText(/Last scan: done — 8 files seen/).waitFor({ timeout: 60000 });
  await card.getByText("8 files in 2 folders ·").waitFor();
  await card.getByRole("button", { name: "Analyze" }).click();
  await card.getByText(/Last analyze: done — 3 analysed, 5 failed/).waitFor({ timeout: 120000 });
  await card.getByTestId("analysed-count").filter({ hasText: "3 analysed" }).waitFor();

  // Generate the calibration: the prompt for the library it affects, then
  // the heads drawn from the scores the server holds.
  const cal = page.locator("section.calibration");
  await cal.getByRole("button", { name: "Generate from the analysed scores" }).click();
  await prompt.getByText(/\d+ files need reconciliation\. Run now\?/).waitFor({ timeout: 60000 });
  await prompt.getByRole("button", { name: "Later" }).click();
  await cal.getByTestId("calibration-hash").waitFor();
  const token = readFileSync(join(work, "config", "nomtag", "serve-token"), "utf8").trim();
  const heads = await (await fetch(`${server.base}/api/web/calibration/heads`, {
    headers: { Authorization: `Bearer ${token}` },
  })).json();
  assert.ok(heads.active && heads.labels.length > 0, JSON.stringify(heads));
  assert.equal(await cal.getByTestId("calibration-hash").textContent(), heads.hash);
  const figures = cal.locator("figure.head");
  await figures.first().waitFor();
  assert.equal(await figures.count(), heads.labels.length);
  for (const head of heads.labels) {
    const fig = cal.locator(`figure[data-head="${head.model}/${head.label}"]`);
    assert.equal(await fig.getByTestId("p5").textContent(), head.p5.toFixed(3));
    assert.equal(await fig.getByTestId("p95").textContent(), head.p95.toFixed(3));
    assert.equal(await fig.getByTestId("converged").textContent(), "converged");
    // The picture: one bar per bin, as tall as its count (the tallest is
    // the full height less the margin), the p5 and p95 lines where they lie.
    const bars = fig.locator("svg[role=img] rect.bar");
    assert.equal(await bars.count(), head.histogram.length);
    const heights = await bars.evaluateAll((rs) => rs.map((r) => Number(r.getAttribute("height"))));
    const top = Math.max(...head.histogram);
    heights.forEach((h, i) => assert.ok(Math.abs(h - (head.histogram[i] / top) * 56) < 1e-6, `${head.label} bin ${i}`));
    assert.equal(head.histogram.reduce((a, b) => a + b, 0), 3);
    // Where the p5 line is drawn on screen: at p5 of the picture's width.
    const box = await fig.locator("svg").boundingBox();
    const line = await fig.locator("line.p5").boundingBox();
    assert.ok(Math.abs(line.x + line.width / 2 - (box.x + head.p5 * box.width)) < 2,
      `${head.label}: p5 line at ${line.x} in ${JSON.stringify(box)}`);
    assert.equal(await fig.locator("svg").getAttribute("aria-label"),
      `${head.model} ${head.label}: ${head.n} scores, p5 ${head.p5.toFixed(3)}, p95 ${head.p95.toFixed(3)}`);
  }
  await cal.screenshot({ path: join(shotDir, "6-calibration.png") });

  // Remove the library: a confirmation first ("Keep it" keeps it), then
  // the card goes and every file stays byte for byte.
  const allFiles = [...files.map((f) => join(music, f)), ...long.map(([f]) => join(music, "long", f))];
  const digest = () => allFiles.map((f) => createHash("sha256").update(readFileSync(f)).digest("hex"));
  const before = digest();
  await card.getByRole("button", { name: "Remove" }).click();
  const confirm = page.getByRole("dialog", { name: "Remove library" });
  await confirm.getByText(/No file under .* is touched or deleted/).waitFor();
  await page.screenshot({ path: join(shotDir, "7-remove-confirm.png") });
  await confirm.getByRole("button", { name: "Keep it" }).click();
  await page.reload();
  await card.waitFor();
  await card.getByRole("button", { name: "Remove" }).click();
  await confirm.getByRole("button", { name: "Remove", exact: true }).click();
  await page.getByText("No libraries yet").waitFor();
  assert.deepEqual(digest(), before, "removing a library changes no file");
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
