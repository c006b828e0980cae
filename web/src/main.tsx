// The library management page: one card per library (root, counts,
// write-mode and pending badges, Scan / Analyze / Reconcile with live
// progress, the failures, Remove with a confirmation), Add / Edit forms
// with the write-mode dropdown, the "N files need reconciliation. Run
// now?" prompt, and the calibration (per head p5/p95, convergence and a
// histogram of the scores; Generate and Apply).
import { render } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import {
  adoptTokenFromLocation, api, ApiError, CalibrationAnswer, CalibrationHeads, hasToken, HeadCalibration, Job, Library,
  MODES, WriteMode,
} from "./api";

// A prompt waiting for an answer: "N files need reconciliation. Run now?"
interface Prompt {
  libraryId: number;
  name: string;
  count: number;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function Dialog(props: { open: boolean; label: string; onClose: () => void; children: preact.ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-label={props.label} onClose={props.onClose} onCancel={props.onClose}>
      {props.open && props.children}
    </dialog>
  );
}

function ModeSelect(props: { id: string; value: WriteMode; onChange: (m: WriteMode) => void }) {
  const help = MODES.find((m) => m.value === props.value)?.help;
  return (
    <div class="field">
      <label for={props.id}>Write mode</label>
      <select id={props.id} value={props.value} aria-describedby={`${props.id}-help`}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value as WriteMode)}>
        {MODES.map((m) => <option value={m.value}>{m.label}</option>)}
      </select>
      <p class="help" id={`${props.id}-help`}>{help}</p>
    </div>
  );
}

function AddForm(props: { onDone: (lib: Library | null) => void; onError: (m: string) => void }) {
  const [name, setName] = useState("");
  const [root, setRoot] = useState("");
  const [mode, setMode] = useState<WriteMode>("full");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      props.onDone(await api.create({ name, root, file_write_mode: mode }));
    } catch (err) {
      props.onError(message(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit}>
      <h2>Add a library</h2>
      <div class="field">
        <label for="add-name">Name</label>
        <input id="add-name" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </div>
      <div class="field">
        <label for="add-root">Folder (absolute path on the server)</label>
        <input id="add-root" required value={root} onInput={(e) => setRoot((e.target as HTMLInputElement).value)} />
      </div>
      <ModeSelect id="add-mode" value={mode} onChange={setMode} />
      <div class="actions">
        <button type="button" onClick={() => props.onDone(null)}>Cancel</button>
        <button type="submit" class="primary" disabled={busy}>Add</button>
      </div>
    </form>
  );
}

function EditForm(props: {
  lib: Library;
  onDone: (prompt: Prompt | null) => void;
  onError: (m: string) => void;
}) {
  const { lib } = props;
  const [mode, setMode] = useState<WriteMode>(lib.file_write_mode);
  const [keepMtime, setKeepMtime] = useState(lib.keep_mtime);
  const [copyOnly, setCopyOnly] = useState(lib.write_strategy === "copy");
  const [breakLinks, setBreakLinks] = useState(lib.hardlinks === "break");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      let affected = 0;
      const optionsChanged = keepMtime !== lib.keep_mtime || copyOnly !== (lib.write_strategy === "copy") ||
        breakLinks !== (lib.hardlinks === "break");
      if (optionsChanged) {
        const r = await api.update(lib.id, {
          keep_mtime: keepMtime, write_strategy: copyOnly ? "copy" : "auto", hardlinks: breakLinks ? "break" : "keep",
        });
        affected = r.affected_file_count;
      }
      if (mode !== lib.file_write_mode) {
        const r = await api.setWriteMode(lib.id, mode);
        affected = r.requires_reconciliation ? r.affected_file_count : 0;
      }
      props.onDone(affected > 0 ? { libraryId: lib.id, name: lib.name, count: affected } : null);
    } catch (err) {
      props.onError(message(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit}>
      <h2>Edit “{lib.name}”</h2>
      <ModeSelect id="edit-mode" value={mode} onChange={setMode} />
      <div class="check">
        <input type="checkbox" id="edit-mtime" checked={keepMtime} onChange={(e) => setKeepMtime((e.target as HTMLInputElement).checked)} />
        <label for="edit-mtime">Keep each file's modification time</label>
      </div>
      <div class="check">
        <input type="checkbox" id="edit-copy" checked={copyOnly} onChange={(e) => setCopyOnly((e.target as HTMLInputElement).checked)} />
        <label for="edit-copy">Always write a copy and rename it (never patch in place)</label>
      </div>
      <div class="check">
        <input type="checkbox" id="edit-links" checked={breakLinks} onChange={(e) => setBreakLinks((e.target as HTMLInputElement).checked)} />
        <label for="edit-links">Allow a write to detach a hard-linked name</label>
      </div>
      <div class="actions">
        <button type="button" onClick={() => props.onDone(null)}>Cancel</button>
        <button type="submit" class="primary" disabled={busy}>Save</button>
      </div>
    </form>
  );
}

function Progress(props: { job: Job; onCancel: () => void }) {
  const { job } = props;
  const verb: Record<string, string> = { scan: "Scanning", analyze: "Analysing", reconcile: "Reconciling" };
  const label = `${verb[job.kind] ?? job.kind}: ${job.done}${job.total ? ` of ${job.total}` : ""}`;
  return (
    <div class="progress" role="status" aria-live="polite">
      <span>{label}{job.failed ? `, ${job.failed} failed` : ""}{job.cancel_requested ? " (stopping)" : ""}</span>
      {job.total > 0 ? <progress max={job.total} value={job.done} aria-label={label} /> : <progress aria-label={label} />}
      {job.cancellable && !job.cancel_requested && <button type="button" onClick={props.onCancel}>Stop</button>}
    </div>
  );
}

function LibraryCard(props: {
  lib: Library;
  onEdit: () => void;
  onRemove: () => void;
  onChanged: () => void;
  onError: (m: string) => void;
}) {
  const { lib } = props;
  const [job, setJob] = useState<Job | null>(lib.running_jobs[0] ?? null);
  const [failures, setFailures] = useState<Library["failures"]>(undefined);
  const [lastJob, setLastJob] = useState<Job | null>(null);

  // A job started elsewhere (the prompt, another tab, a 409) shows up in
  // the library's running_jobs: follow it.
  useEffect(() => {
    const running = lib.running_jobs[0];
    if (running && (!job || job.id !== running.id)) setJob(running);
  }, [lib]);

  useEffect(() => {
    if (!job || job.state !== "running") return;
    const timer = window.setTimeout(async () => {
      try {
        const next = await api.job(job.id);
        if (next.state === "running") {
          setJob(next);
        } else {
          setJob(null);
          setLastJob(next);
          if (next.state === "failed") props.onError(`${next.kind} failed: ${next.error}`);
          props.onChanged();
        }
      } catch (err) {
        props.onError(message(err));
      }
    }, 500);
    return () => window.clearTimeout(timer);
  }, [job]);

  const start = async (kind: "scan" | "analyze" | "reconcile") => {
    try {
      const r = kind === "scan" ? await api.scan(lib.id)
        : kind === "analyze" ? await api.analyze(lib.id) : await api.reconcile(lib.id);
      setJob(r.job);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        setJob((err.data as { job: Job }).job);  // follow the running one
      } else {
        props.onError(message(err));
      }
    }
  };
  const showFailures = async (open: boolean) => {
    if (!open) return;
    try {
      setFailures((await api.library(lib.id)).failures ?? []);
    } catch (err) {
      props.onError(message(err));
    }
  };
  // The job this card saw finish, or the one the server last finished on
  // this library (it may have ended before the card looked), whichever is
  // newer.
  const ended = lastJob && (!lib.last_job || lastJob.id >= lib.last_job.id) ? lastJob : lib.last_job;
  const c = lib.counts;
  return (
    <article class="card" aria-labelledby={`lib-${lib.id}-name`} data-library={lib.name}>
      <header>
        <h2 id={`lib-${lib.id}-name`}>{lib.name}</h2>
        <span class={`badge mode-${lib.file_write_mode}`} title="write mode">{lib.file_write_mode}</span>
        <span class={`badge ${c.pending ? "pending" : "clean"}`} data-testid="pending-badge"
          aria-label={`${c.pending} files pending`}>{c.pending} pending</span>
      </header>
      <p class="root"><code>{lib.root}</code></p>
      <p class="counts">
        {c.files} files{c.folders !== undefined ? ` in ${c.folders} folder${c.folders === 1 ? "" : "s"}` : ""} · {c.missing} missing · {c.in_progress} being written · {c.failed} failed
        {c.analysed !== undefined &&
          <> · <span data-testid="analysed-count">{c.analysed - (c.analysis_failed ?? 0)} analysed</span>
            {c.analysis_failed ? `, ${c.analysis_failed} could not be` : ""}</>}
      </p>
      {job && <Progress job={job} onCancel={() => api.cancel(job.id).then(setJob, (e) => props.onError(message(e)))} />}
      {ended && !job && (
        <p class="last-job" role="status">
          Last {ended.kind}: {ended.state}
          {ended.kind === "reconcile" && ended.result
            ? ` — ${String(ended.result.processed)} processed, ${String(ended.result.failed)} failed, ${String(ended.result.remaining)} remaining`
            : ""}
          {ended.kind === "scan" && ended.result ? ` — ${String(ended.result.seen)} files seen` : ""}
          {ended.kind === "analyze" ? ` — ${ended.done - ended.failed} analysed, ${ended.failed} failed` : ""}
        </p>
      )}
      <div class="actions">
        <button type="button" onClick={() => start("scan")} disabled={job?.kind === "scan"}>Scan</button>
        <button type="button" onClick={() => start("analyze")} disabled={job?.kind === "analyze"}>Analyze</button>
        <button type="button" class="primary" onClick={() => start("reconcile")} disabled={job?.kind === "reconcile"}>
          Reconcile{c.pending ? ` (${c.pending})` : ""}
        </button>
        <button type="button" onClick={props.onEdit}>Edit</button>
        <button type="button" onClick={props.onRemove}>Remove</button>
      </div>
      {c.failed > 0 && (
        <details onToggle={(e) => showFailures((e.target as HTMLDetailsElement).open)}>
          <summary>{c.failed} file{c.failed === 1 ? "" : "s"} not written — why</summary>
          {failures === undefined ? <p>Loading…</p> : (
            <ul class="failures">
              {failures.map((f) => (
                <li>
                  <code>{f.path}</code>: {f.error}
                  {f.hard_links && <em> (hard-linked: allow it in Edit, “detach a hard-linked name”)</em>}
                </li>
              ))}
            </ul>
          )}
        </details>
      )}
    </article>
  );
}

// One head's histogram as a picture: a bar per bin over [0, 1] (stretched
// to the width, so x is the score), the p5 and p95 of the calibration as
// lines.
function Histogram(props: { head: HeadCalibration }) {
  const { head } = props;
  const w = 200, h = 60;
  const bins = head.histogram.length;
  const top = Math.max(1, ...head.histogram);
  const summary = `${head.model} ${head.label}: ${head.n} scores, p5 ${head.p5.toFixed(3)}, p95 ${head.p95.toFixed(3)}`;
  return (
    <svg class="histogram" viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" role="img" aria-label={summary} data-testid="histogram">
      {head.histogram.map((n, i) => {
        const bh = (n / top) * (h - 4);
        return <rect class="bar" x={(i * w) / bins + 0.5} y={h - bh} width={w / bins - 1} height={bh}><title>{n}</title></rect>;
      })}
      <line class="p5" x1={head.p5 * w} x2={head.p5 * w} y1={0} y2={h} vector-effect="non-scaling-stroke" />
      <line class="p95" x1={head.p95 * w} x2={head.p95 * w} y1={0} y2={h} vector-effect="non-scaling-stroke" />
    </svg>
  );
}

function Heads(props: { heads: CalibrationHeads }) {
  const { heads } = props;
  if (heads.labels.length === 0) return <p>No analysed scores yet: analyse a library, then generate.</p>;
  return (
    <div class="heads">
      {heads.labels.map((head) => (
        <figure class="head" data-head={`${head.model}/${head.label}`}>
          <Histogram head={head} />
          <figcaption>
            <strong>{head.label}</strong> <span class="model">{head.model}</span><br />
            p5 <span data-testid="p5">{head.p5.toFixed(3)}</span> · p95 <span data-testid="p95">{head.p95.toFixed(3)}</span>
            {" "}· n {head.n} · <span data-testid="converged">{head.converged ? "converged" : "not converged"}</span>
          </figcaption>
        </figure>
      ))}
    </div>
  );
}

function Calibration(props: { onPrompts: (p: Prompt[]) => void; onError: (m: string) => void; onChanged: () => void }) {
  const [state, setState] = useState<CalibrationAnswer | null>(null);
  const [heads, setHeads] = useState<CalibrationHeads | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [text, setText] = useState("");
  const load = useCallback(() => {
    api.calibration().then(setState, (e) => props.onError(message(e)));
    api.calibrationHeads().then(setHeads, (e) => props.onError(message(e)));
  }, []);
  useEffect(() => { load(); }, [load]);
  const after = (answer: Pick<CalibrationAnswer, "libraries">) => {
    load();
    props.onChanged();
    props.onPrompts(answer.libraries.filter((l) => l.requires_reconciliation)
      .map((l) => ({ libraryId: l.library_id, name: l.name, count: l.affected_file_count })));
  };
  useEffect(() => {
    if (!job || job.state !== "running") return;
    const timer = window.setTimeout(async () => {
      try {
        const next = await api.job(job.id);
        setJob(next);
        if (next.state === "failed") props.onError(`generating the calibration failed: ${next.error}`);
        if (next.state === "done" && next.result) after(next.result as Pick<CalibrationAnswer, "libraries">);
      } catch (err) {
        props.onError(message(err));
      }
    }, 300);
    return () => window.clearTimeout(timer);
  }, [job]);
  const generate = async () => {
    try {
      setJob((await api.generateCalibration()).job);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) setJob((err.data as { job: Job }).job);
      else props.onError(message(err));
    }
  };
  const apply = async (e: Event) => {
    e.preventDefault();
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      props.onError("the calibration is not valid JSON");
      return;
    }
    try {
      after(await api.applyCalibration(doc));
    } catch (err) {
      props.onError(message(err));
    }
  };
  return (
    <section aria-labelledby="cal-title" class="calibration">
      <h2 id="cal-title">Calibration</h2>
      <p>{state === null ? "Loading…" : state.active
        ? <>Active calibration <code data-testid="calibration-hash">{state.hash}</code>: mood tiers are written where the mode allows.</>
        : "No active calibration: mood tiers are not written in any mode."}</p>
      {heads && <Heads heads={heads} />}
      <div class="actions">
        <button type="button" class="primary" onClick={generate} disabled={job?.state === "running"}>
          Generate from the analysed scores
        </button>
        {job && <span role="status">{job.state === "running" ? "Generating…" : `Generation ${job.state}`}</span>}
      </div>
      <form onSubmit={apply}>
        <div class="field">
          <label for="cal-doc">Calibration document (JSON)</label>
          <textarea id="cal-doc" rows={4} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        </div>
        <div class="actions">
          <button type="submit">Apply</button>
          {state?.active && <button type="button" onClick={() => api.clearCalibration().then(after, (e) => props.onError(message(e)))}>Clear</button>}
        </div>
      </form>
    </section>
  );
}

function App() {
  const [libs, setLibs] = useState<Library[] | null>(null);
  const [errors, setErrors] = useState<string[]>([]);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<Library | null>(null);
  const [removing, setRemoving] = useState<Library | null>(null);
  const [prompts, setPrompts] = useState<Prompt[]>([]);

  const onError = useCallback((m: string) => setErrors((e) => [...e.slice(-4), m]), []);
  const reload = useCallback(async () => {
    try {
      setLibs((await api.libraries()).libraries);
    } catch (err) {
      onError(message(err));
    }
  }, []);
  useEffect(() => { reload(); }, [reload]);

  const prompt = prompts[0];
  const answer = async (run: boolean) => {
    setPrompts((p) => p.slice(1));
    if (!run || !prompt) return;
    try {
      await api.reconcile(prompt.libraryId);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) onError(message(err));
    }
    await reload();
  };

  return (
    <main>
      <header class="top">
        <h1>nomtag libraries</h1>
        <button type="button" class="primary" onClick={() => setAdding(true)}>Add library</button>
      </header>
      {errors.length > 0 && (
        <div class="errors" role="alert">
          <ul>{errors.map((e) => <li>{e}</li>)}</ul>
          <button type="button" onClick={() => setErrors([])}>Dismiss</button>
        </div>
      )}
      {libs === null ? <p>Loading…</p> : libs.length === 0 ? <p>No libraries yet: add one.</p> : (
        <div class="cards">
          {libs.map((l) => (
            <LibraryCard key={l.id} lib={l} onEdit={() => setEditing(l)} onRemove={() => setRemoving(l)}
              onChanged={reload} onError={onError} />
          ))}
        </div>
      )}
      <Calibration onPrompts={setPrompts} onError={onError} onChanged={reload} />
      <Dialog open={adding} label="Add a library" onClose={() => setAdding(false)}>
        <AddForm onError={onError} onDone={(lib) => { setAdding(false); if (lib) reload(); }} />
      </Dialog>
      <Dialog open={editing !== null} label="Edit library" onClose={() => setEditing(null)}>
        {editing && <EditForm lib={editing} onError={onError}
          onDone={(p) => { setEditing(null); if (p) setPrompts([p]); reload(); }} />}
      </Dialog>
      <Dialog open={removing !== null} label="Remove library" onClose={() => setRemoving(null)}>
        {removing && (
          <div role="document">
            <h2>Remove “{removing.name}”?</h2>
            <p id="remove-text">
              Its {removing.counts.files} files, their tags and analyses leave the database. No file under{" "}
              <code>{removing.root}</code> is touched or deleted.
            </p>
            <div class="actions">
              <button type="button" autofocus onClick={() => setRemoving(null)}>Keep it</button>
              <button type="button" class="danger" onClick={async () => {
                const lib = removing;
                setRemoving(null);
                try {
                  await api.remove(lib.id);
                } catch (err) {
                  onError(message(err));
                }
                await reload();
              }}>Remove</button>
            </div>
          </div>
        )}
      </Dialog>
      <Dialog open={!!prompt} label="Reconciliation needed" onClose={() => answer(false)}>
        {prompt && (
          <div role="document">
            <h2>{prompt.name}</h2>
            <p id="prompt-text">{prompt.count} file{prompt.count === 1 ? "" : "s"} need reconciliation. Run now?</p>
            <div class="actions">
              <button type="button" onClick={() => answer(false)}>Later</button>
              <button type="button" class="primary" autofocus onClick={() => answer(true)}>Run now</button>
            </div>
          </div>
        )}
      </Dialog>
    </main>
  );
}

adoptTokenFromLocation();
const root = document.getElementById("app")!;
if (!hasToken()) {
  root.innerHTML = "";
  render(
    <main><h1>nomtag</h1><p role="alert">Open the login link that <code>nomtag serve</code> printed to use this page.</p></main>,
    root,
  );
} else {
  root.innerHTML = "";
  render(<App />, root);
}
