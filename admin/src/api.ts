// One way to call the JSON API: same-origin cookie session, the CSRF token on every write, and
// problem+json answers turned into react-admin's HttpError with the fields it names, so forms
// show each error beside its field.
import { HttpError } from "react-admin";
import { i18nProvider } from "./i18n";

const CSRF_KEY = "crm.csrf";

export const csrf = {
  get: (): string | null => sessionStorage.getItem(CSRF_KEY),
  set: (token: string) => sessionStorage.setItem(CSRF_KEY, token),
  clear: () => sessionStorage.removeItem(CSRF_KEY),
};

type Params = Record<string, unknown>;

export interface Problem {
  title?: string;
  detail?: string;
  status?: number;
  code?: string;
  errors?: { field: string; detail: string; code?: string; params?: Params }[];
  [extra: string]: unknown;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

// A problem's words in the staff's language (admin/src/problems.ts), from its stable code; the
// API's English text when the code is not worded there. Days read as French days, roles in words.
export function problemText(code: string | null | undefined, params: Params | null | undefined, fallback: string): string {
  if (!code) return fallback;
  const values: Params = {};
  for (const [key, value] of Object.entries(params ?? {})) {
    if (typeof value === "string" && ISO_DAY.test(value)) {
      values[key] = new Date(`${value}T00:00:00Z`).toLocaleDateString("fr-FR", { timeZone: "UTC" });
    } else if (key === "role" && typeof value === "string") {
      const words = code === "role_too_low" ? "crm.role" : "crm.board_role";
      values[key] = i18nProvider.translate(`${words}.${value}`, { _: value });
    } else if (key === "kind" && typeof value === "string") {
      values[key] = i18nProvider.translate(`crm.position_kind.${value}`, { _: value });
    } else if (key === "expected" && typeof value === "string") {
      values[key] = value.replace(/'/g, "");
    } else {
      values[key] = value;
    }
  }
  const text = i18nProvider.translate(`crm.problems.${code}`, { ...values, _: fallback });
  return typeof values.line === "number" && code !== "duplicate_line"
    ? i18nProvider.translate("crm.problems.at_line", { line: values.line, reason: text, _: text })
    : text;
}

// Pydantic names body fields "body.x" or "x"; list items "items.0.x". The form knows "x".
function formField(field: string): string {
  return field.replace(/^body\./, "");
}

export function problemToHttpError(status: number, problem: Problem | null): HttpError {
  const errors: Record<string, string> = {};
  // Every error in order, for a page that lists them (several may name the same field).
  const fieldErrors: { field: string; detail: string }[] = [];
  for (const e of problem?.errors ?? []) {
    const text = problemText(e.code, e.params, e.detail);
    errors[formField(e.field)] = text;
    fieldErrors.push({ field: formField(e.field), detail: text });
  }
  const fieldTexts = Object.values(errors);
  // One field at fault: its own words say more than "invalid input" or "conflict".
  const message =
    fieldTexts.length === 1 && problem?.code === "conflict"
      ? fieldTexts[0]
      : problemText(problem?.code, problem as Params, problem?.detail || problem?.title || `Erreur ${status}`);
  return new HttpError(message, status, { ...problem, errors, fieldErrors });
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
