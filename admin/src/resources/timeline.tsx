// A member's whole story from GET /organisations/{id}/timeline, newest first, a page at a time.
import { useEffect, useState } from "react";
import { useRecordContext, useTranslate } from "react-admin";
import { Button, List, ListItem, ListItemText, Typography } from "@mui/material";
import { Link } from "react-router-dom";
import { api } from "../api";

interface Entry {
  at: string;
  kind: string;
  record_id: string;
  person_id: string | null;
  person_name: string | null;
  data: Record<string, unknown>;
}

const PAGE = 50;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-/i;
// Words the API sends as codes, in the reader's words; ids and yes/no flags say nothing here.
const WORDS: Record<string, string> = {
  elected: "crm.position_kind.elected",
  staff: "crm.position_kind.staff",
  invoiced: "crm.dues_status.invoiced",
  paid: "crm.dues_status.paid",
  waived: "crm.dues_status.waived",
  create: "crm.timeline.created",
  update: "crm.timeline.updated",
  delete: "crm.timeline.deleted",
};

function describe(entry: Entry, translate: (key: string) => string): string {
  const values = Object.values(entry.data)
    .filter((v) => v !== null && v !== "" && typeof v !== "object" && typeof v !== "boolean")
    .map(String)
    .filter((v) => !UUID.test(v))
    .map((v) => (WORDS[v] ? translate(WORDS[v]) : v));
  return [entry.person_name, ...values].filter(Boolean).join(" · ");
}

export function Timeline() {
  const record = useRecordContext();
  const translate = useTranslate();
  const [entries, setEntries] = useState<Entry[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [offset, setOffset] = useState(0);
  useEffect(() => {
    if (!record) return;
    api<{ items: Entry[]; total: number }>(
      `/api/v1/organisations/${record.id}/timeline?limit=${PAGE}&offset=${offset}`,
    ).then((page) => {
      setEntries((old) => (offset === 0 ? page.items : [...old, ...page.items]));
      setTotal(page.total);
    });
  }, [record, offset]);
  if (total === 0) return <Typography color="text.secondary">{translate("crm.dashboard.nothing")}</Typography>;
  return (
    <>
      <List dense aria-label={translate("resources.organisations.tabs.timeline")} data-testid="timeline">
        {entries.map((entry, i) => (
          <ListItem key={`${entry.kind}-${entry.record_id}-${i}`}>
            <ListItemText
              primary={
                entry.person_id ? (
                  <Link to={`/people/${entry.person_id}/show`}>
                    {translate(`crm.timeline.${entry.kind}`, { _: entry.kind })}
                  </Link>
                ) : (
                  translate(`crm.timeline.${entry.kind}`, { _: entry.kind })
                )
              }
              secondary={`${new Date(entry.at).toLocaleDateString("fr-FR", { dateStyle: "long", timeZone: "Europe/Paris" })} — ${describe(entry, translate)}`}
            />
          </ListItem>
        ))}
      </List>
      {total !== null && entries.length < total && (
        <Button onClick={() => setOffset(offset + PAGE)}>{translate("crm.timeline.more")}</Button>
      )}
    </>
  );
}
