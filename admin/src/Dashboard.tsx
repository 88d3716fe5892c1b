import { lazy, Suspense, useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { Title, useTranslate, Loading } from "react-admin";
import {
  Box,
  Card,
  CardContent,
  CardHeader,
  LinearProgress,
  List,
  ListItem,
  ListItemText,
  Typography,
} from "@mui/material";
import { api } from "./api";

interface DashboardData {
  members_by_status: Record<string, number>;
  members_by_region: { region_code: string | null; region_name: string; count: number }[];
  dues_unpaid: { year: number; count: number; amount: string };
  conventions_ending: { id: string; title: string; partner_name: string; ends_on: string; notice_deadline: string | null }[];
  mandates_ending: { id: string; person_id: string; person_name: string; organisation_name: string; role: string; term_end: string }[];
  next_events: { id: string; title: string; starts_at: string; capacity: number | null; answers: Record<string, number> }[];
  recent_campaigns: { id: string; name: string; status: string; audience_count: number | null; deliveries: Record<string, number> }[];
  imports_running: { id: string; filename: string; status: string; total: number; processed: number }[];
}

// The charts library is most of a chart's weight: it loads after the figures, which show at once.
const StatusPie = lazy(() => import("./charts").then((m) => ({ default: m.StatusPie })));
const RegionBars = lazy(() => import("./charts").then((m) => ({ default: m.RegionBars })));
const day = (iso: string) => new Date(iso).toLocaleDateString("fr-FR", { dateStyle: "long", timeZone: "Europe/Paris" });
const moment = (iso: string) =>
  new Date(iso).toLocaleString("fr-FR", { dateStyle: "full", timeStyle: "short", timeZone: "Europe/Paris" });
const n = (value: number | null | undefined) => (value ?? 0).toLocaleString("fr-FR");
const euros = (amount: string) => Number(amount).toLocaleString("fr-FR", { style: "currency", currency: "EUR" });

function Panel({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Card component="section" aria-label={title} sx={{ flex: "1 1 340px", minWidth: 300 }}>
      <CardHeader title={title} titleTypographyProps={{ variant: "h6", component: "h2" }} />
      <CardContent>{children}</CardContent>
    </Card>
  );
}

export function Dashboard() {
  const translate = useTranslate();
  const [data, setData] = useState<DashboardData | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    // The charts' code downloads while the figures are asked for, not after they arrive.
    void import("./charts");
    api<DashboardData>("/api/v1/dashboard").then(setData, (e: Error) => setError(e.message));
  }, []);
  if (error) return <Typography color="error">{error}</Typography>;
  if (!data) return <Loading />;
  const nothing = <Typography color="text.secondary">{translate("crm.dashboard.nothing")}</Typography>;
  const statuses = Object.entries(data.members_by_status)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => ({ name: translate(`crm.membership.${status}`), value: n }));
  return (
    <Box sx={{ display: "flex", flexWrap: "wrap", gap: 2, mt: 2 }}>
      <Title title="crm.dashboard.title" />
      <Panel title={translate("crm.dashboard.members_by_status")}>
        <Suspense fallback={<Box sx={{ height: 220 }} />}>
          <StatusPie statuses={statuses} />
        </Suspense>
        <List dense>
          {statuses.map((s) => (
            <ListItem key={s.name}>
              <ListItemText primary={`${s.name} : ${s.value.toLocaleString("fr-FR")}`} />
            </ListItem>
          ))}
        </List>
      </Panel>
      <Panel title={translate("crm.dashboard.members_by_region")}>
        <Suspense fallback={<Box sx={{ height: Math.max(200, data.members_by_region.length * 24) }} />}>
          <RegionBars regions={data.members_by_region} />
        </Suspense>
      </Panel>
      <Panel title={translate("crm.dashboard.dues_unpaid", { year: data.dues_unpaid.year })}>
        <Typography variant="h4" component="p">
          {euros(data.dues_unpaid.amount)}
        </Typography>
        <Typography>{data.dues_unpaid.count.toLocaleString("fr-FR")} cotisations</Typography>
      </Panel>
      <Panel title={translate("crm.dashboard.conventions_ending")}>
        {data.conventions_ending.length === 0 ? nothing : (
          <List dense>
            {data.conventions_ending.map((c) => (
              <ListItem key={c.id}>
                <ListItemText
                  primary={`${c.partner_name} — ${c.title}`}
                  secondary={`Échéance ${day(c.ends_on)}${c.notice_deadline && c.notice_deadline !== c.ends_on ? ` · préavis avant le ${day(c.notice_deadline)}` : ""}`}
                />
              </ListItem>
            ))}
          </List>
        )}
      </Panel>
      <Panel title={translate("crm.dashboard.mandates_ending")}>
        {data.mandates_ending.length === 0 ? nothing : (
          <List dense>
            {data.mandates_ending.map((m) => (
              <ListItem key={m.id} component={Link} to={`/people/${m.person_id}/show`}>
                <ListItemText primary={`${m.person_name} (${m.organisation_name})`} secondary={`Fin ${day(m.term_end)}`} />
              </ListItem>
            ))}
          </List>
        )}
      </Panel>
      <Panel title={translate("crm.dashboard.next_events")}>
        {data.next_events.length === 0 ? nothing : (
          <List dense>
            {data.next_events.map((e) => (
              <ListItem key={e.id}>
                <ListItemText
                  primary={e.title}
                  secondary={`${moment(e.starts_at)} · oui ${n(e.answers.yes)} · non ${n(e.answers.no)} · sans réponse ${n(e.answers.invited)} · attente ${n(e.answers.waiting)}${e.capacity ? ` · ${n(e.capacity)} places` : ""}`}
                />
              </ListItem>
            ))}
          </List>
        )}
      </Panel>
      <Panel title={translate("crm.dashboard.recent_campaigns")}>
        {data.recent_campaigns.length === 0 ? nothing : (
          <List dense>
            {data.recent_campaigns.map((c) => (
              <ListItem key={c.id}>
                <ListItemText
                  primary={`${c.name} (${translate(`crm.campaign_status.${c.status}`)})`}
                  secondary={`envoyés ${n(c.deliveries.sent)} / ${n(c.audience_count)} · échecs ${n((c.deliveries.failed ?? 0) + (c.deliveries.bounced ?? 0))}`}
                />
              </ListItem>
            ))}
          </List>
        )}
      </Panel>
      <Panel title={translate("crm.dashboard.imports_running")}>
        {data.imports_running.length === 0 ? nothing : (
          <List dense>
            {data.imports_running.map((i) => (
              <ListItem key={i.id}>
                <ListItemText
                  primary={`${i.filename} (${translate(`crm.import_status.${i.status}`)})`}
                  secondary={
                    <LinearProgress
                      variant="determinate"
                      value={i.total ? (100 * i.processed) / i.total : 0}
                      aria-label={`${i.processed} / ${i.total}`}
                    />
                  }
                />
              </ListItem>
            ))}
          </List>
        )}
      </Panel>
    </Box>
  );
}
