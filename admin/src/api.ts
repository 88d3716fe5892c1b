// One way to call the JSON API: same-origin cookie session, the CSRF token on every write, and
// problem+json answers turned into react-admin's HttpError with the fields it names, so forms
// show each error beside its field.
import { HttpError } from "react-admin";

const CSRF_KEY = "crm.csrf";

export const csrf = {
  get: (): string | null => sessionStorage.getItem(CSRF_KEY),
  set: (token: string) => sessionStorage.setItem(CSRF_KEY, token),
  clear: () => sessionStorage.removeItem(CSRF_KEY),
};

export interface Problem {
  title?: string;
  detail?: string;
  status?: number;
  errors?: { field: string; detail: string }[];
}

// Pydantic names body fields "body.x" or "x"; list items "items.0.x". The form knows "x".
function formField(field: string): string {
  return field.replace(/^body\./, "");
}

export function problemToHttpError(status: number, problem: Problem | null): HttpError {
  const message = problem?.detail || problem?.title || `Erreur ${status}`;
  const errors: Record<string, string> = {};
  for (const e of problem?.errors ?? []) {
    errors[formField(e.field)] = e.detail;
  }
  return new HttpError(message, status, { ...problem, errors });
}

export async function api<T = unknown>(path: string, init: RequestInit = {}): Promise<T> {
  const method = (init.method ?? "GET").toUpperCase();
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  if (init.body && !(init.body instanceof FormData) && !headers.has("Content-Type")) {
    headers.set("Content-Type", "application/json");
  }
  if (method !== "GET" && method !== "HEAD") {
    const token = csrf.get();
    if (token) headers.set("X-CSRF-Token", token);
  }
  let response: Response;
  try {
    response = await fetch(path, { ...init, method, headers, credentials: "same-origin" });
  } catch {
    throw new HttpError("Le serveur ne répond pas : vérifiez la connexion et réessayez.", 0);
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get("Content-Type") ?? "";
  const body = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    throw problemToHttpError(response.status, typeof body === "object" ? (body as Problem) : null);
  }
  return body as T;
}

export function queryString(params: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) {
      for (const v of value) search.append(key, String(v));
    } else {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
