// Partner webhooks: the endpoints partners receive contact changes at, why one was disabled, and
// each delivery with the partner's answer. Admins register, re-enable, rotate the secret and replay;
// viewers read.
import { useState } from "react";
import {
  BooleanField,
  CheckboxGroupInput,
  Create,
  Datagrid,
  DateField,
  DeleteButton,
  FunctionField,
  List,
  NullableBooleanInput,
  ReferenceField,
  ReferenceInput,
  ReferenceManyField,
  AutocompleteInput,
  Show,
  SelectField,
  SimpleForm,
  SimpleShowLayout,
  TextField,
  TextInput,
  required,
  useCanAccess,
  useNotify,
  useRecordContext,
  useRefresh,
  useTranslate,
  Pagination,
} from "react-admin";
import { Alert, Box, Button, Card, CardContent, Stack, TextField as MuiTextField, Typography } from "@mui/material";
import { Link } from "react-router-dom";
import { api } from "../api";

const eventChoices = [
  { id: "contact.created", name: "crm.webhooks.event.contact.created" },
  { id: "contact.updated", name: "crm.webhooks.event.contact.updated" },
  { id: "contact.deleted", name: "crm.webhooks.event.contact.deleted" },
];

// The events in the staff's words (the partner codes against the identifiers, shown in the API).
function EventNames({ names }: { names: string[] }) {
  const translate = useTranslate();
  return <>{names.map((n) => translate(`crm.webhooks.event.${n}`, { _: n })).join(", ")}</>;
}

const statusChoices = ["queued", "leased", "sent", "failed", "skipped"].map((id) => ({
  id,
  name: `crm.webhooks.status.${id}`,
}));

const when = { locales: "fr-FR", options: { timeZone: "Europe/Paris", dateStyle: "short", timeStyle: "medium" } } as const;

const filters = [<NullableBooleanInput key="enabled" source="enabled" alwaysOn />];

export function WebhookList() {
  return (
    <List sort={{ field: "created_at", order: "DESC" }} filters={filters}>
      <Datagrid rowClick="show" bulkActionButtons={false}>
        <ReferenceField source="organisation_id" reference="organisations" link={false} sortable={false} />
        <TextField source="url" />
        <FunctionField source="event_types" sortable={false} render={(r) => <EventNames names={r.event_types} />} />
        <BooleanField source="enabled" />
        <TextField source="disabled_reason" sortable={false} />
        <DateField source="disabled_at" showTime {...when} />
      </Datagrid>
    </List>
  );
}

function SecretShown({ secret }: { secret: string }) {
  const translate = useTranslate();
  return (
    <Alert severity="warning" sx={{ my: 2 }} data-testid="webhook-secret">
      <Typography>{translate("crm.webhooks.secret_once")}</Typography>
      <Typography component="code" sx={{ fontFamily: "monospace", wordBreak: "break-all" }}>
        {secret}
      </Typography>
    </Alert>
  );
}

export function WebhookCreate() {
  const translate = useTranslate();
  const [created, setCreated] = useState<{ id: string; secret: string } | null>(null);
  if (created) {
    return (
      <Card sx={{ mt: 2 }}>
        <CardContent>
          <SecretShown secret={created.secret} />
          <Button component={Link} to={`/webhooks/${created.id}/show`} variant="contained">
            {translate("crm.webhooks.open")}
          </Button>
        </CardContent>
      </Card>
    );
  }
  return (
    <Create mutationOptions={{ onSuccess: (data: { id: string; secret: string }) => setCreated(data) }}>
      <SimpleForm defaultValues={{ event_types: ["contact.created", "contact.updated", "contact.deleted"] }}>
        <ReferenceInput source="organisation_id" reference="organisations" filter={{ is_partner: true }}>
          <AutocompleteInput optionText="name" validate={required()} />
        </ReferenceInput>
        <TextInput source="url" type="url" validate={required()} fullWidth helperText="crm.webhooks.url_help" />
        <CheckboxGroupInput source="event_types" choices={eventChoices} validate={required()} />
        <TextInput source="description" fullWidth />
      </SimpleForm>
    </Create>
  );
}

// What admins do to an endpoint; each answer comes back from the API before the screen changes.
function EndpointActions() {
  const record = useRecordContext();
  const translate = useTranslate();
  const notify = useNotify();
  const refresh = useRefresh();
  const { canAccess: mayAct } = useCanAccess({ resource: "webhooks", action: "edit" });
  const [since, setSince] = useState("");
  const [reason, setReason] = useState("");
  const [secret, setSecret] = useState<string | null>(null);
  if (!record || !mayAct) return null;
  const act = async (path: string, body: object = {}, done = "crm.webhooks.done") => {
    try {
      const answer = await api<{ secret?: string; replayed?: number }>(`/api/v1/webhooks/${record.id}/${path}`, {
        method: "POST",
        body: JSON.stringify(body),
      });
      if (answer?.secret) setSecret(answer.secret);
      notify(done, { type: "info", messageArgs: { smart_count: answer?.replayed ?? 0 } });
      refresh();
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  return (
    <Card sx={{ mb: 2 }}>
      <CardContent>
        {secret && <SecretShown secret={secret} />}
        <Stack direction={{ xs: "column", md: "row" }} spacing={2} alignItems="center" flexWrap="wrap" useFlexGap>
          {record.enabled ? (
            <>
              <MuiTextField
                size="small"
                label={translate("crm.webhooks.disable_reason")}
                value={reason}
                onChange={(e) => setReason(e.target.value)}
              />
              <Button variant="outlined" color="warning" disabled={!reason.trim()} onClick={() => act("disable", { reason })}>
                {translate("crm.webhooks.disable")}
              </Button>
            </>
          ) : (
            <Button variant="contained" onClick={() => act("enable")}>
              {translate("crm.webhooks.enable")}
            </Button>
          )}
          <Button variant="outlined" onClick={() => act("rotate-secret", {}, "crm.webhooks.rotated")}>
            {translate("crm.webhooks.rotate")}
          </Button>
          <MuiTextField
            size="small"
            type="datetime-local"
            label={translate("crm.webhooks.replay_since")}
            InputLabelProps={{ shrink: true }}
            value={since}
            onChange={(e) => setSince(e.target.value)}
          />
          <Button
            variant="outlined"
            disabled={!since}
            onClick={() => act("replay", { since: new Date(since).toISOString() }, "crm.webhooks.replayed")}
          >
            {translate("crm.webhooks.replay_failed")}
          </Button>
          <DeleteButton mutationMode="pessimistic" redirect="list" />
        </Stack>
      </CardContent>
    </Card>
  );
}

function ReplayOne() {
  const record = useRecordContext();
  const translate = useTranslate();
  const notify = useNotify();
  const refresh = useRefresh();
  const { canAccess: mayAct } = useCanAccess({ resource: "webhooks", action: "edit" });
  if (!record || !mayAct || record.status === "queued" || record.status === "leased") return null;
  const replay = async (event: React.MouseEvent) => {
    event.stopPropagation();
    try {
      await api(`/api/v1/webhook-deliveries/${record.id}/replay`, { method: "POST" });
      notify("crm.webhooks.replayed_one", { type: "info" });
      refresh();
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  return (
    <Button size="small" onClick={replay}>
      {translate("crm.webhooks.replay")}
    </Button>
  );
}

function DisabledReason() {
  const record = useRecordContext();
  const translate = useTranslate();
  if (!record || record.enabled) return null;
  return (
    <Alert severity="error" sx={{ mb: 2 }} data-testid="webhook-disabled-reason">
      {translate("crm.webhooks.disabled_since", {
        day: new Date(record.disabled_at).toLocaleString("fr-FR", { timeZone: "Europe/Paris" }),
      })}{" "}
      {record.disabled_reason}
    </Alert>
  );
}

export function WebhookShow() {
  return (
    <Show>
      <Box sx={{ p: 2 }}>
        <DisabledReason />
        <EndpointActions />
      </Box>
      <SimpleShowLayout>
        <ReferenceField source="organisation_id" reference="organisations" link="show" />
        <TextField source="url" />
        <FunctionField source="event_types" render={(r) => <EventNames names={r.event_types} />} />
        <TextField source="description" emptyText="—" />
        <BooleanField source="enabled" />
        <DateField source="failing_since" showTime emptyText="—" {...when} />
        <TextField source="secret_hint" />
        <DateField source="previous_secret_expires_at" showTime emptyText="—" {...when} />
        <ReferenceManyField
          reference="webhook-deliveries"
          target="endpoint_id"
          sort={{ field: "created_at", order: "DESC" }}
          perPage={25}
          pagination={<Pagination />}
          label="crm.webhooks.deliveries"
        >
          <Datagrid bulkActionButtons={false} rowClick={false} data-testid="webhook-deliveries">
            <DateField source="created_at" showTime {...when} />
            <FunctionField source="event_type" render={(r) => <EventNames names={[r.event_type]} />} />
            <TextField source="message_id" />
            <SelectField source="status" choices={statusChoices} />
            <TextField source="attempts" />
            <TextField source="response" sortable={false} emptyText="—" />
            <DateField source="next_attempt_at" showTime {...when} />
            <ReplayOne />
          </Datagrid>
        </ReferenceManyField>
      </SimpleShowLayout>
    </Show>
  );
}
