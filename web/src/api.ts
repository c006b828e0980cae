// The server's API as typed calls. Every call sends the access token;
// every failure becomes an ApiError carrying the server's own words.

export type WriteMode = "none" | "minimal" | "full";

export const MODES: { value: WriteMode; label: string; help: string }[] = [
  { value: "none", label: "none", help: "No nom tags in the files: the namespace is cleared." },
  { value: "minimal", label: "minimal", help: "Only the mood tiers (strict, regular, loose); needs a calibration." },
  { value: "full", label: "full", help: "Every tag the database holds for the file." },
];

export interface Counts {
  files: number;
  missing: number;
  pending: number;
  in_progress: number;
  failed: number;
  held_by_hard_links: number;
  folders?: number; // absent when the storage plugin predates ABI 1.5
  // The first inference plugin's (absent without one), as `nomtag status`
  // counts: analysed = files with a current result, failed ones included.
  analysed?: number;
  analysis_due?: number;
  analysis_failed?: number;
}

export interface Failure {
  path: string;
  error: string;
  hard_links: boolean;
}

export interface Job {
  id: number;
  kind: string;
  library_id: number;
  state: "running" | "done" | "failed" | "cancelled";
  cancel_requested: boolean;
  cancellable: boolean;
  done: number;
  total: number;
  failed: number;
  last_errors: { path: string; error: string }[];
  error: string;
  result: Record<string, unknown> | null;
}

export interface Library {
  id: number;
  name: string;
  root: string;
  file_write_mode: WriteMode;
  keep_mtime: boolean;
  write_strategy: "auto" | "copy";
  hardlinks: "keep" | "break";
  counts: Counts;
  failures?: Failure[];
  running_jobs: Job[];
  last_job: Job | null;  // the newest finished job on this library
}

export interface WriteModeAnswer {
  file_write_mode: WriteMode;
  requires_reconciliation: boolean;
  affected_file_count: number;
}

export interface CalibrationAnswer {
  active: boolean;
  hash: string;
  libraries: {
    library_id: number;
    name: string;
    requires_reconciliation: boolean;
    affected_file_count: number;
  }[];
}

export interface HeadCalibration {
  model: string;
  label: string;
  p5: number;
  p95: number;
  n: number;
  converged: boolean;
  histogram: number[];  // counts of raw scores in equal bins over [0, 1]
}

export interface CalibrationHeads {
  active: boolean;
  hash: string;
  scores: number;
  bins: number;
  labels: HeadCalibration[];
}

export class ApiError extends Error {
  constructor(public status: number, message: string, public data: unknown = null) {
    super(message);
  }
}

const TOKEN_KEY = "nomtag-token";

// Takes the token from the login link's fragment (#token=...), keeps it,
// and drops it from the address bar.
export function adoptTokenFromLocation(): void {
  const match = /^#token=([0-9a-f]+)$/.exec(window.location.hash);
  if (match) {
    localStorage.setItem(TOKEN_KEY, match[1]);
    history.replaceState(null, "", "/");
  }
}

export function hasToken(): boolean {
  return !!localStorage.getItem(TOKEN_KEY);
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${localStorage.getItem(TOKEN_KEY) ?? ""}`,
  };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, `cannot reach the server (${String(e)})`);
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(response.status, `the server answered ${response.status} with no JSON`);
  }
  if (!response.ok) {
    const detail = (data as { detail?: string } | null)?.detail ?? `HTTP ${response.status}`;
    throw new ApiError(response.status, detail, data);
  }
  return data as T;
}

const lib = (id: number) => `/api/web/libraries/${id}`;

export const api = {
  libraries: () => call<{ libraries: Library[] }>("GET", "/api/web/libraries"),
  library: (id: number) => call<Library>("GET", lib(id)),
  create: (body: { name: string; root: string; file_write_mode: WriteMode }) =>
    call<Library>("POST", "/api/web/libraries", body),
  update: (id: number, body: Partial<Pick<Library, "keep_mtime" | "write_strategy" | "hardlinks">>) =>
    call<Library & WriteModeAnswer>("PATCH", lib(id), body),
  setWriteMode: (id: number, mode: WriteMode) =>
    call<WriteModeAnswer>("PATCH", `${lib(id)}/write-mode`, { file_write_mode: mode }),
  remove: (id: number) => call<{ removed: number; name: string }>("DELETE", lib(id)),
  scan: (id: number) => call<{ job: Job }>("POST", `${lib(id)}/scan`),
  analyze: (id: number) => call<{ job: Job }>("POST", `${lib(id)}/analyze`),
  reconcile: (id: number) =>
    call<{ job: Job; pending_count: number }>("POST", `${lib(id)}/reconcile-tags`),
  job: (id: number) => call<Job>("GET", `/api/web/jobs/${id}`),
  cancel: (id: number) => call<Job>("POST", `/api/web/jobs/${id}/cancel`),
  calibration: () => call<CalibrationAnswer>("GET", "/api/web/calibration"),
  applyCalibration: (calibration: unknown) =>
    call<CalibrationAnswer>("PUT", "/api/web/calibration", { calibration }),
  calibrationHeads: () => call<CalibrationHeads>("GET", "/api/web/calibration/heads"),
  generateCalibration: () => call<{ job: Job }>("POST", "/api/web/calibration/generate"),
  clearCalibration: () => call<CalibrationAnswer>("DELETE", "/api/web/calibration"),
};
