import { useEffect, useState } from "react";
import { Box, Card, CardContent, Table, TableBody, TableCell, TableHead, TableRow, Typography } from "@mui/material";
import {
  BooleanField,
  BooleanInput,
  Button,
  Datagrid,
  DateField,
  FunctionField,
  List,
  SelectField,
  SelectInput,
  TextField,
  useCanAccess,
  useNotify,
  useRecordContext,
  useRefresh,
  useTranslate,
} from "react-admin";
import { api } from "../api";

export const bounceKindChoices = [
  { id: "hard", name: "crm.bounces.kind.hard" },
  { id: "soft", name: "crm.bounces.kind.soft" },
  { id: "complaint", name: "crm.bounces.kind.complaint" },
];

const filters = [
  <SelectInput key="kind" source="kind" choices={bounceKindChoices} />,
  <BooleanInput key="reviewed" source="reviewed" />,
];

interface Rate {
  campaign_id: string;
  campaign_name: string;
  sent: number;
  hard_bounces: number;
  soft_bounces: number;
  complaints: number;
  hard_bounce_rate: number;
  soft_bounce_rate: number;
  complaint_rate: number;
}

const percent = (value: number) => `${(value * 100).toLocaleString("fr-FR", { maximumFractionDigits: 2 })} %`;

// Rates per campaign above the list: a hard-bounce rate past 2 % or complaints past 0.3 % are what
// mailbox providers act on, so they are the figures staff watch.
function Rates() {
  const translate = useTranslate();
  const [rates, setRates] = useState<Rate[] | null>(null);
  useEffect(() => {
    api<{ items: Rate[] }>("/api/v1/bounces/rates?limit=10")
      .then((page) => setRates(page.items))
      .catch(() => setRates([]));
  }, []);
  if (!rates || rates.length === 0) return null;
  return (
    <Card variant="outlined" sx={{ mb: 2 }}>
      <CardContent>
        <Typography variant="h6">{translate("crm.bounces.rates")}</Typography>
        <Table size="small">
          <TableHead>
            <TableRow>
              <TableCell>{translate("crm.bounces.campaign")}</TableCell>
              <TableCell align="right">{translate("crm.bounces.sent")}</TableCell>
              <TableCell align="right">{translate("crm.bounces.kind.hard")}</TableCell>
              <TableCell align="right">{translate("crm.bounces.kind.soft")}</TableCell>
              <TableCell align="right">{translate("crm.bounces.kind.complaint")}</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {rates.map((r) => (
              <TableRow key={r.campaign_id}>
                <TableCell>{r.campaign_name}</TableCell>
                <TableCell align="right">{r.sent}</TableCell>
                <TableCell align="right">{`${r.hard_bounces} (${percent(r.hard_bounce_rate)})`}</TableCell>
                <TableCell align="right">{`${r.soft_bounces} (${percent(r.soft_bounce_rate)})`}</TableCell>
                <TableCell align="right">{`${r.complaints} (${percent(r.complaint_rate)})`}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </CardContent>
    </Card>
  );
}

function ReviewButton() {
  const record = useRecordContext();
  const notify = useNotify();
  const refresh = useRefresh();
  const { canAccess } = useCanAccess({ resource: "bounces", action: "edit" });
  if (!record || !canAccess) return null;
  const toggle = async () => {
    try {
      await api(`/api/v1/bounces/${record.id}`, { method: "PATCH", body: JSON.stringify({ reviewed: !record.reviewed }) });
      refresh();
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  return <Button label={record.reviewed ? "crm.bounces.unreview" : "crm.bounces.review"} onClick={toggle} />;
}

interface DkimKey {
  id: string;
  selector: string;
  domain: string;
  dns_name: string;
  dns_txt: string;
}

// For operators who send straight to the internet: make a key pair and publish its TXT record,
// then turn CRM_DELIVERABILITY_DKIM_ENABLED on. Admins only (the API refuses the others).
function Dkim() {
  const translate = useTranslate();
  const notify = useNotify();
  const { canAccess } = useCanAccess({ resource: "audit-log", action: "list" });
  const [keys, setKeys] = useState<DkimKey[]>([]);
  const load = () =>
    api<{ items: DkimKey[] }>("/api/v1/dkim-keys?limit=1")
      .then((p) => setKeys(p.items))
      .catch(() => setKeys([]));
  useEffect(() => {
    if (canAccess) load();
  }, [canAccess]);
  if (!canAccess) return null;
  const generate = async () => {
    try {
      await api("/api/v1/dkim-keys", { method: "POST", body: JSON.stringify({}) });
      await load();
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  return (
    <Card variant="outlined" sx={{ mb: 2 }}>
      <CardContent>
        <Typography variant="h6">{translate("crm.dkim.title")}</Typography>
        <Typography variant="body2" sx={{ mb: 1 }}>
          {translate("crm.dkim.help")}
        </Typography>
        {keys.map((k) => (
          <Box key={k.id} sx={{ fontFamily: "monospace", fontSize: 13, wordBreak: "break-all", mb: 1 }}>
            <div>{k.dns_name} TXT</div>
            <div>"{k.dns_txt}"</div>
          </Box>
        ))}
        <Button label={keys.length ? "crm.dkim.regenerate" : "crm.dkim.generate"} onClick={generate} />
      </CardContent>
    </Card>
  );
}

export function BounceList() {
  return (
    <Box>
      <Rates />
      <Dkim />
      <List filters={filters} filterDefaultValues={{ reviewed: false }} sort={{ field: "received_at", order: "DESC" }}>
        <Datagrid bulkActionButtons={false} rowClick={false}>
          <DateField source="received_at" showTime locales="fr-FR" />
          <SelectField source="kind" choices={bounceKindChoices} />
          <TextField source="status" emptyText="—" />
          <TextField source="diagnostic" emptyText="—" />
          <FunctionField
            source="person_id"
            render={(r: { person_id?: string }) => (r.person_id ? <a href={`#/people/${r.person_id}/show`}>↗</a> : "—")}
          />
          <BooleanField source="suppressed" />
          <BooleanField source="reviewed" />
          <ReviewButton />
        </Datagrid>
      </List>
    </Box>
  );
}
