// react-admin's dataProvider over the API's conventions: /api/v1/<resource>,
// {items, total, limit, offset} pages, sort=field|-field, q= and field=value filters, PATCH with the
// fields that changed only.
import type { DataProvider, Identifier } from "react-admin";
import { api, queryString } from "./api";

const BASE = "/api/v1";

// Records are whatever the API answers; react-admin types them per resource at the call site.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Rec = any;

interface Page<T> {
  items: T[];
  total: number;
}

function changed(data: Record<string, unknown>, previous: Record<string, unknown> | undefined) {
  if (!previous) return data;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (JSON.stringify(value) !== JSON.stringify(previous[key])) out[key] = value;
  }
  return out;
}

// Forms leave "" in emptied optional inputs; the API wants null to clear, and nothing for unset.
function cleaned(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) out[key] = value === "" ? null : value;
  return out;
}

// Resources the API serves under another's path (the Atlaas's moderation queue and theme tree).
const PATHS: Record<string, string> = {
  "atlaas-proposals": "actions/proposals",
  "atlaas-themes": "actions/themes",
};

async function getList(resource: string, params: {
  pagination?: { page: number; perPage: number };
  sort?: { field: string; order: string };
  filter?: Record<string, unknown>;
}) {
  const { page = 1, perPage = 25 } = params.pagination ?? {};
  const query: Record<string, unknown> = {
    limit: perPage,
    offset: (page - 1) * perPage,
    ...params.filter,
  };
  if (params.sort?.field && params.sort.field !== "id") {
    query.sort = params.sort.order === "DESC" ? `-${params.sort.field}` : params.sort.field;
  }
  const answer = await api<Page<Rec> | Rec[]>(`${BASE}/${PATHS[resource] ?? resource}${queryString(query)}`);
  // The theme tree comes whole, as a plain array.
  return Array.isArray(answer) ? { data: answer, total: answer.length } : { data: answer.items, total: answer.total };
}

// Lists the API serves under their owner (/organisations/{id}/events), read-only, for a tab of the
// owner's page: `<ReferenceManyField reference="member-events" target="organisation_id">`. The
// records' own id is the field named here.
const NESTED: Record<string, { owner: string; path: string; id: string }> = {
  "member-events": { owner: "organisations", path: "events", id: "invitation_id" },
  "member-campaigns": { owner: "organisations", path: "campaigns", id: "id" },
};

async function getNested(resource: string, ownerId: Identifier, pagination?: { page: number; perPage: number }) {
  const nested = NESTED[resource];
  const { page = 1, perPage = 25 } = pagination ?? {};
  const query = queryString({ limit: perPage, offset: (page - 1) * perPage });
  const result = await api<Page<Rec>>(`${BASE}/${nested.owner}/${ownerId}/${nested.path}${query}`);
  return { data: result.items.map((item) => ({ ...item, id: item[nested.id] })), total: result.total };
}

export const dataProvider: DataProvider = {
  getList: (resource, params) => getList(resource, params),

  getOne: async (resource, params) => ({
    data: await api<Rec>(`${BASE}/${resource}/${params.id}`),
  }),

  getMany: async (resource, params) => ({
    data: await Promise.all(params.ids.map((id: Identifier) => api<Rec>(`${BASE}/${resource}/${id}`))),
  }),

  getManyReference: (resource, params) =>
    NESTED[resource]
      ? getNested(resource, params.id, params.pagination)
      : getList(resource, { ...params, filter: { ...params.filter, [params.target]: params.id } }),

  create: async (resource, params) => ({
    data: await api<Rec>(`${BASE}/${resource}`, {
      method: "POST",
      body: JSON.stringify(cleaned(params.data)),
    }),
  }),

  update: async (resource, params) => ({
    data: await api<Rec>(`${BASE}/${resource}/${params.id}`, {
      method: "PATCH",
      body: JSON.stringify(cleaned(changed(params.data, params.previousData))),
    }),
  }),

  updateMany: async (resource, params) => {
    await Promise.all(
      params.ids.map((id: Identifier) =>
        api(`${BASE}/${resource}/${id}`, { method: "PATCH", body: JSON.stringify(cleaned(params.data)) }),
      ),
    );
    return { data: params.ids };
  },

  delete: async (resource, params) => {
    await api(`${BASE}/${resource}/${params.id}`, { method: "DELETE" });
    return { data: params.previousData as Rec };
  },

  deleteMany: async (resource, params) => {
    for (const id of params.ids) await api(`${BASE}/${resource}/${id}`, { method: "DELETE" });
    return { data: params.ids };
  },
};
