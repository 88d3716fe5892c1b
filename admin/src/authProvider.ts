// Staff sessions: the API sets an HttpOnly cookie at login and hands a CSRF token that every write
// sends back. The role decides what the app shows; the API enforces it again on every call.
import type { AuthProvider } from "react-admin";
import { api, csrf } from "./api";

export type Role = "admin" | "editor" | "viewer";

interface Me {
  id: string;
  email: string;
  name: string;
  role: Role;
  csrf_token: string;
}

const ME_KEY = "crm.me";
const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };
const ADMIN_ONLY = new Set(["staff", "audit-log", "settings", "fee-bands"]);
const READ_ACTIONS = new Set(["list", "show", "export", "read"]);
// Viewers read these; only admins change them (docs/roles.md).
const ADMIN_WRITES = new Set(["webhooks", "webhook-deliveries"]);

function remember(me: Me) {
  csrf.set(me.csrf_token);
  sessionStorage.setItem(ME_KEY, JSON.stringify(me));
}

function cached(): Me | null {
  const raw = sessionStorage.getItem(ME_KEY);
  return raw ? (JSON.parse(raw) as Me) : null;
}

function forget() {
  csrf.clear();
  sessionStorage.removeItem(ME_KEY);
}

export function mayDo(role: Role | undefined, resource: string, action: string): boolean {
  if (!role) return false;
  if (ADMIN_ONLY.has(resource)) return role === "admin";
  if (READ_ACTIONS.has(action)) return true;
  if (ADMIN_WRITES.has(resource)) return role === "admin";
  // The API keeps deletions to admins (docs/roles.md).
  if (action === "delete") return role === "admin";
  return RANK[role] >= RANK.editor;
}

export const authProvider: AuthProvider = {
  async login({ username, password }: { username: string; password: string }) {
    const me = await api<Me>("/api/v1/auth/login", {
      method: "POST",
      body: JSON.stringify({ email: username, password }),
    });
    remember(me);
  },

  async logout() {
    if (cached()) {
      await api("/api/v1/auth/logout", { method: "POST" }).catch(() => undefined);
    }
    forget();
  },

  async checkAuth() {
    if (cached()) return;
    // A reload keeps the cookie but not this tab's memory: ask who we are (and get the CSRF token).
    const me = await api<Me>("/api/v1/auth/me");
    remember(me);
  },

  async checkError(error: { status?: number }) {
    if (error?.status === 401) {
      forget();
      throw new Error("Votre session a expiré : reconnectez-vous.");
    }
  },

  async getIdentity() {
    const me = cached() ?? (await api<Me>("/api/v1/auth/me"));
    return { id: me.id, fullName: me.name || me.email, role: me.role, email: me.email };
  },

  async getPermissions() {
    return cached()?.role;
  },

  async canAccess({ resource, action }: { resource: string; action: string }) {
    return mayDo(cached()?.role, resource, action);
  },
};
