import { useState } from "react";
import {
  AutocompleteInput,
  Button,
  CheckboxGroupInput,
  Datagrid,
  DateField,
  FunctionField,
  List,
  ReferenceInput,
  SimpleForm,
  TextField,
  TextInput,
  Title,
  required,
  useNotify,
  useRecordContext,
  useRefresh,
  useTranslate,
} from "react-admin";
import { Alert, Box, Card, CardContent, Typography } from "@mui/material";
import { api } from "../api";

const scopeChoices = [
  { id: "contacts:read", name: "contacts:read" },
  { id: "contacts:write", name: "contacts:write" },
  { id: "events:read", name: "events:read" },
];

interface ApiClient {
  id: string;
  name: string;
  revoked_at: string | null;
  key?: string;
}

// The key exists in clear only in this answer: shown once, with a copy button, never stored here.
function KeyOnce({ apiKey }: { apiKey: string }) {
  const translate = useTranslate();
  const [copied, setCopied] = useState(false);
  return (
    <Alert severity="warning" sx={{ my: 2 }}>
      <Typography variant="body2">{translate("crm.api_clients.key_once")}</Typography>
      <Box component="code" sx={{ display: "block", my: 1, wordBreak: "break-all" }} data-testid="api-key">
        {apiKey}
      </Box>
      <Button
        label={copied ? "crm.api_clients.copied" : "crm.api_clients.copy"}
        onClick={() => navigator.clipboard.writeText(apiKey).then(() => setCopied(true))}
      />
    </Alert>
  );
}

function ClientActions({ onKey }: { onKey: (key: string) => void }) {
  const record = useRecordContext<ApiClient>();
  const notify = useNotify();
  const refresh = useRefresh();
  if (!record || record.revoked_at) return null;
  const act = async (path: string, body: object) => {
    try {
      const answer = await api<ApiClient>(`/api/v1/api-clients/${record.id}/${path}`, {
        method: "POST",
        body: JSON.stringify(body),
      });
      if (answer.key) onKey(answer.key);
      refresh();
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  return (
    <Box sx={{ display: "flex", gap: 1 }}>
      <Button label="crm.api_clients.rotate" onClick={(e) => { e.stopPropagation(); act("rotate", { overlap_hours: 168 }); }} />
      <Button
        label="crm.api_clients.revoke"
        color="error"
        onClick={(e) => {
          e.stopPropagation();
          if (window.confirm(record.name)) act("revoke", {});
        }}
      />
    </Box>
  );
}

export function ApiClientList() {
  const [key, setKey] = useState<string | null>(null);
  return (
    <>
      {key && <KeyOnce apiKey={key} />}
      <List sort={{ field: "created_at", order: "DESC" }}>
        <Datagrid bulkActionButtons={false} rowClick={false}>
          <TextField source="name" />
          <TextField source="organisation_name" sortable={false} />
          <FunctionField source="scopes" sortable={false} render={(r: { scopes: string[] }) => r.scopes.join(", ")} />
          <DateField source="last_used_at" showTime locales="fr-FR" options={{ timeZone: "Europe/Paris" }} />
          <TextField source="last_used_from" sortable={false} />
          <DateField source="revoked_at" showTime locales="fr-FR" sortable={false} />
          <ClientActions onKey={setKey} />
        </Datagrid>
      </List>
    </>
  );
}

export function ApiClientCreate() {
  const [key, setKey] = useState<string | null>(null);
  const notify = useNotify();
  const translate = useTranslate();
  const save = async (values: Record<string, unknown>) => {
    try {
      const answer = await api<ApiClient>("/api/v1/api-clients", { method: "POST", body: JSON.stringify(values) });
      setKey(answer.key ?? null);
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  return (
    <Card sx={{ mt: 2 }}>
      <Title title={translate("crm.api_clients.create")} />
      <CardContent>
        {key ? (
          <KeyOnce apiKey={key} />
        ) : (
          <SimpleForm onSubmit={save} defaultValues={{ scopes: ["contacts:read"] }}>
            <ReferenceInput source="organisation_id" reference="organisations">
              <AutocompleteInput optionText="name" validate={required()} />
            </ReferenceInput>
            <TextInput source="name" validate={required()} />
            <CheckboxGroupInput source="scopes" choices={scopeChoices} validate={required()} />
          </SimpleForm>
        )}
      </CardContent>
    </Card>
  );
}
