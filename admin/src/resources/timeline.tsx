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

function describe(entry: Entry): string {
  const values = Object.entries(entry.data)
    .filter(([, v]) => v !== null && v !== "" && typeof v !== "object")
    .map(([, v]) => String(v));
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
              secondary={`${new Date(entry.at).toLocaleDateString("fr-FR", { dateStyle: "long", timeZone: "Europe/Paris" })} — ${describe(entry)}`}
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
