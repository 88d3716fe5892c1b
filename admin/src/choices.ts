import { useEffect, useState } from "react";
import { api } from "./api";

export const kindChoices = [
  "commune",
  "epci",
  "departement",
  "region",
  "association",
  "company",
  "state_agency",
  "other",
].map((id) => ({ id, name: `crm.kind.${id}` }));

export const membershipChoices = ["prospect", "active", "lapsed", "resigned"].map((id) => ({
  id,
  name: `crm.membership.${id}`,
}));

export const positionKindChoices = ["elected", "staff"].map((id) => ({ id, name: `crm.position_kind.${id}` }));

// One list of French words per status the API sends, so no raw status reaches a page.
export const statusChoices = (kind: string, ids: string[]) => ids.map((id) => ({ id, name: `crm.${kind}.${id}` }));
export const eventStatusChoices = statusChoices("event_status", ["scheduled", "cancelled"]);
export const deliveryStatusChoices = statusChoices("delivery_status", [
  "queued",
  "leased",
  "sent",
  "failed",
  "bounced",
  "unsubscribed",
  "cancelled",
]);
export const importStatusChoices = statusChoices("import_status", ["checking", "checked", "applying", "applied", "failed"]);
export const importKindChoices = statusChoices("import_kind", ["organisations", "people"]);

export const roleChoices = ["viewer", "editor", "admin"].map((id) => ({ id, name: `crm.role.${id}` }));

export interface GeoArea {
  code: string;
  name: string;
  region_code?: string;
}

const cache = new Map<string, Promise<GeoArea[]>>();

// Régions and départements change only with a migration: one request per page load.
export function useGeo(kind: "regions" | "departements"): { id: string; name: string }[] {
  const [areas, setAreas] = useState<GeoArea[]>([]);
  useEffect(() => {
    if (!cache.has(kind)) cache.set(kind, api<GeoArea[]>(`/api/v1/geo/${kind}`).catch(() => []));
    let live = true;
    cache.get(kind)!.then((list) => live && setAreas(list));
    return () => {
      live = false;
    };
  }, [kind]);
  return areas.map((a) => ({ id: a.code, name: `${a.name} (${a.code})` }));
}
