// Calls to the gateway's public API. The key lives in this tab's sessionStorage only, and is
// sent only as the bearer header: never in a URL, a cookie, or a log line.

const SESSION = "nextmodel.dashboard.session";

export function session() {
  try {
    const value = JSON.parse(sessionStorage.getItem(SESSION));
    return value && typeof value.key === "string" ? value : null;
  } catch {
    return null;
  }
}

export function saveSession(value) {
  sessionStorage.setItem(SESSION, JSON.stringify(value));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION);
}

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code || null;
  }
}

function url(path, params) {
  const target = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params || {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== "") target.searchParams.append(name, item);
    }
  }
  return target;
}

// Was the signed-in key itself refused (revoked, expired, rotated)? The admin key is checked by
// /admin/v1 only; the /v1 routes that authenticate project keys refuse it, which is no sign-out.
function keyRefused(path, failure) {
  if (session()?.role === "admin") return path.startsWith("/admin/");
  return ["invalid_api_key", "missing_api_key"].includes(failure.code);
}

// One request. `key` overrides the signed-in key (the sign-in form uses it to probe).
export async function request(path, { method = "GET", params, body, key } = {}) {
  const bearer = key ?? session()?.key;
  const headers = { accept: "application/json" };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(url(path, params), {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
  });
  if (!response.ok) {
    let error = null;
    try {
      error = (await response.json()).error;
    } catch {
      // not JSON: keep the status alone
    }
    const failure = new ApiError(response.status, error);
    if (key === undefined && response.status === 401 && keyRefused(path, failure)) {
      window.dispatchEvent(new CustomEvent("nextmodel:signed-out", { detail: failure }));
    }
    throw failure;
  }
  return response;
}

export async function getJSON(path, params) {
  return (await request(path, { params })).json();
}

export async function sendJSON(method, path, body) {
  return (await request(path, { method, body })).json();
}

// GET /v1/usage with the dashboard's filters; empty values are left out.
export function usage(params) {
  return getJSON("/v1/usage", params);
}

// Rows of GET /v1/usage/export?format=jsonl (one receipt per line).
export async function exportRows(params) {
  const text = await (await request("/v1/usage/export", { params: { ...params, format: "jsonl" } })).text();
  return text.split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line));
}

// Save a response as a file: fetch with the bearer header, then hand the browser a blob.
export async function download(path, params, filename) {
  const blob = await (await request(path, { params })).blob();
  saveBlob(blob, filename);
}

export function saveBlob(blob, filename) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 30_000);
}
