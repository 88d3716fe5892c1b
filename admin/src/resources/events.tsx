import { useCallback, useEffect, useState } from "react";
import {
  BooleanInput,
  Datagrid,
  DateField,
  DateTimeInput,
  List,
  NullableBooleanInput,
  NumberField,
  NumberInput,
  SelectField,
  SelectInput,
  Show,
  SimpleForm,
  SimpleShowLayout,
  TextField,
  TextInput,
  required,
  useCanAccess,
  useNotify,
  useRecordContext,
  useTranslate,
} from "react-admin";
import {
  Box,
  Button,
  Card,
  CardContent,
  Chip,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField as MuiTextField,
  Typography,
} from "@mui/material";
import { api, queryString } from "../api";
import { eventStatusChoices } from "../choices";
import { CreateKeepingDraft, EditKeepingDraft, KeepDraft } from "../KeepDraft";

export const eventKindChoices = ["ceremony", "congress", "general_assembly", "webinar", "workshop"].map((id) => ({
  id,
  name: `crm.event_kind.${id}`,
}));
const paris = { timeZone: "Europe/Paris" };

export function EventList() {
  return (
    <List
      filters={[<NullableBooleanInput key="upcoming" source="upcoming" alwaysOn />, <SelectInput key="kind" source="kind" choices={eventKindChoices} />]}
      sort={{ field: "starts_at", order: "ASC" }}
    >
      <Datagrid rowClick="show" bulkActionButtons={false}>
        <TextField source="title" />
        <SelectField source="kind" choices={eventKindChoices} />
        <DateField source="starts_at" showTime locales="fr-FR" options={{ ...paris, dateStyle: "full", timeStyle: "short" }} />
        <TextField source="venue_name" sortable={false} />
        <NumberField source="capacity" sortable={false} />
        <NumberField source="figures.yes" sortable={false} />
        <NumberField source="figures.waiting" sortable={false} />
        <SelectField source="status" choices={eventStatusChoices} />
      </Datagrid>
    </List>
  );
}

function EventForm() {
  return (
    <SimpleForm>
      <KeepDraft />
      <SelectInput source="kind" choices={eventKindChoices} validate={required()} />
      <TextInput source="title" validate={required()} fullWidth />
      <TextInput source="description" multiline fullWidth />
      <DateTimeInput source="starts_at" validate={required()} helperText="Heure de Paris" />
      <DateTimeInput source="ends_at" validate={required()} helperText="Heure de Paris" />
      <TextInput source="venue_name" />
      <TextInput source="address" multiline />
      <TextInput source="online_url" />
      <NumberInput source="capacity" min={0} helperText="Places, invités compris ; vide : sans limite" />
      <DateTimeInput source="registration_deadline" />
      <BooleanInput source="guests_allowed" />
    </SimpleForm>
  );
}

export function EventCreate() {
  return (
    <CreateKeepingDraft>
      <EventForm />
    </CreateKeepingDraft>
  );
}

export function EventEdit() {
  return (
    <EditKeepingDraft>
      <EventForm />
    </EditKeepingDraft>
  );
}

interface Invitation {
  id: string;
  first_name: string;
  last_name: string;
  email: string | null;
  status: "invited" | "yes" | "no" | "waiting";
  with_guest: boolean;
  checked_in_at: string | null;
}

// The check-in desk: big buttons for a tablet at the door, a search by name, one tap per person.
function CheckInDesk() {
  const record = useRecordContext();
  const translate = useTranslate();
  const notify = useNotify();
  const { canAccess: mayCheckIn } = useCanAccess({ resource: "events", action: "edit" });
  const [q, setQ] = useState("");
  const [rows, setRows] = useState<Invitation[]>([]);
  const [total, setTotal] = useState(0);
  const load = useCallback(() => {
    if (!record) return;
    api<{ items: Invitation[]; total: number }>(
      `/api/v1/events/${record.id}/invitations${queryString({ q, limit: 100 })}`,
    ).then(
      (page) => {
        setRows(page.items);
        setTotal(page.total);
      },
      (error: Error) => notify(error.message, { type: "error" }),
    );
  }, [record, q, notify]);
  useEffect(() => {
    const timer = setTimeout(load, 250);
    return () => clearTimeout(timer);
  }, [load]);
  const toggle = async (row: Invitation) => {
    try {
      await api(`/api/v1/events/${record!.id}/invitations/${row.id}/check-in`, {
        method: row.checked_in_at ? "DELETE" : "POST",
      });
      load();
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  if (!record) return null;
  return (
    <Card sx={{ mt: 2 }}>
      <CardContent>
        <Stack direction="row" spacing={2} alignItems="center" sx={{ mb: 2 }} flexWrap="wrap">
          <Typography variant="h6" component="h2">
            {translate("crm.events.invitees")} ({total})
          </Typography>
          <MuiTextField
            label={translate("crm.events.search")}
            value={q}
            onChange={(e) => setQ(e.target.value)}
            size="small"
          />
          <Button href={`/api/v1/events/${record.id}/participants.csv`} variant="outlined">
            {translate("crm.events.export")}
          </Button>
        </Stack>
        <Table size="small" aria-label={translate("crm.events.invitees")}>
          <TableHead>
            <TableRow>
              <TableCell>{translate("resources.people.fields.last_name")}</TableCell>
              <TableCell>{translate("resources.people.fields.first_name")}</TableCell>
              <TableCell>{translate("crm.events.answer")}</TableCell>
              <TableCell>{translate("crm.events.presence")}</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {rows.map((row) => (
              <TableRow key={row.id}>
                <TableCell>{row.last_name}</TableCell>
                <TableCell>{row.first_name}</TableCell>
                <TableCell>
                  <Chip size="small" label={translate(`crm.invitation.${row.status}`)} />
                  {row.with_guest && ` + ${translate("crm.events.guest")}`}
                </TableCell>
                <TableCell>
                  <Button
                    variant={row.checked_in_at ? "contained" : "outlined"}
                    color={row.checked_in_at ? "success" : "primary"}
                    disabled={!mayCheckIn}
                    onClick={() => toggle(row)}
                    sx={{ minWidth: 140, minHeight: 44 }}
                    aria-pressed={Boolean(row.checked_in_at)}
                    aria-label={`${translate(row.checked_in_at ? "crm.events.present" : "crm.events.check_in")} ${row.first_name} ${row.last_name}`}
                  >
                    {row.checked_in_at
                      ? `${translate("crm.events.present")} ${new Date(row.checked_in_at).toLocaleTimeString("fr-FR", { ...paris, timeStyle: "short" })}`
                      : translate("crm.events.check_in")}
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </CardContent>
    </Card>
  );
}

function Figures() {
  const record = useRecordContext();
  const translate = useTranslate();
  if (!record) return null;
  const f = record.figures as Record<string, number>;
  return (
    <Box sx={{ display: "flex", gap: 1, flexWrap: "wrap" }}>
      {["invited", "opened", "yes", "no", "waiting", "attended", "seats_taken"].map((key) => (
        <Chip key={key} label={`${translate(`crm.figures.${key}`)} : ${f[key] ?? 0}`} />
      ))}
      {record.capacity !== null && <Chip color="primary" label={`${translate("resources.events.fields.capacity")} : ${record.capacity}`} />}
    </Box>
  );
}

export function EventShow() {
  return (
    <Show>
      <SimpleShowLayout>
        <TextField source="title" />
        <SelectField source="kind" choices={eventKindChoices} />
        <DateField source="starts_at" showTime locales="fr-FR" options={{ ...paris, dateStyle: "full", timeStyle: "short" }} />
        <DateField source="ends_at" showTime locales="fr-FR" options={{ ...paris, dateStyle: "full", timeStyle: "short" }} />
        <TextField source="venue_name" emptyText="—" />
        <TextField source="address" emptyText="—" />
        <SelectField source="status" choices={eventStatusChoices} />
        <Figures />
      </SimpleShowLayout>
      <CheckInDesk />
    </Show>
  );
}
