// The Atlaas: actions staff create, edit and publish, and the moderation queue of what members'
// contacts proposed through their signed link, each proposal with the changes it would make.
import {
  ArrayInput,
  AutocompleteArrayInput,
  Button,
  Create,
  Datagrid,
  DateField,
  Edit,
  FunctionField,
  List,
  NumberInput,
  ReferenceArrayInput,
  SelectArrayInput,
  SelectField,
  SelectInput,
  SimpleForm,
  SimpleFormIterator,
  TextField,
  TextInput,
  required,
  useGetList,
  useNotify,
  useRecordContext,
  useRefresh,
  useTranslate,
} from "react-admin";
import { api } from "../api";

const statusChoices = [
  { id: "draft", name: "crm.atlaas.status.draft" },
  { id: "published", name: "crm.atlaas.status.published" },
];
const proposalStatusChoices = [
  { id: "pending", name: "crm.atlaas.proposal.pending" },
  { id: "accepted", name: "crm.atlaas.proposal.accepted" },
  { id: "rejected", name: "crm.atlaas.proposal.rejected" },
];

const actionFilters = [
  <TextInput key="q" source="q" alwaysOn />,
  <SelectInput key="status" source="status" choices={statusChoices} alwaysOn />,
];

export function ActionList() {
  // The API ranks by relevance (or newest year first): no column sort.
  return (
    <List filters={actionFilters} sort={{ field: "id", order: "ASC" }}>
      <Datagrid rowClick="edit" bulkActionButtons={false}>
        <TextField source="title" sortable={false} />
        <TextField source="year" sortable={false} />
        <TextField source="city" sortable={false} />
        <SelectField source="status" choices={statusChoices} sortable={false} />
      </Datagrid>
    </List>
  );
}

function ThemesInput() {
  // Services (level 4) by their path in the tree: what an action is filed under.
  const { data = [] } = useGetList("atlaas-themes", { pagination: { page: 1, perPage: 500 } });
  const byId = new Map(data.map((t) => [t.id, t]));
  const path = (id: string): string => {
    const theme = byId.get(id);
    if (!theme) return "";
    return theme.parent_id ? `${path(theme.parent_id)} › ${theme.name}` : theme.name;
  };
  const choices = data
    .filter((t) => t.level === 4)
    .map((t) => ({ id: t.id, name: path(t.id) }))
    .sort((a, b) => a.name.localeCompare(b.name, "fr"));
  return <SelectArrayInput source="theme_ids" choices={choices} fullWidth />;
}

function ActionForm() {
  return (
    <SimpleForm defaultValues={{ status: "draft", places: [{ insee_code: "" }] }}>
      <TextInput source="title" validate={required()} fullWidth />
      <TextInput source="subtitle" fullWidth />
      <NumberInput source="year" validate={required()} />
      <SelectInput source="status" choices={statusChoices} />
      <ArrayInput source="places" validate={required()}>
        <SimpleFormIterator inline>
          <TextInput source="insee_code" validate={required()} />
          <NumberInput source="latitude" />
          <NumberInput source="longitude" />
        </SimpleFormIterator>
      </ArrayInput>
      <ReferenceArrayInput source="organisation_ids" reference="organisations">
        <AutocompleteArrayInput validate={required()} fullWidth />
      </ReferenceArrayInput>
      <ThemesInput />
      <TextInput source="synthesis" multiline fullWidth />
      <TextInput source="actions_carried_out" multiline fullWidth />
      <TextInput source="results" multiline fullWidth />
      <TextInput source="recommendations" multiline fullWidth />
    </SimpleForm>
  );
}

// The record read has named places; the API takes codes and coordinates only.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const writable = (data: any) => ({
  ...data,
  places: (data.places ?? []).map((p: { insee_code: string; latitude?: number; longitude?: number }) => ({
    insee_code: p.insee_code,
    latitude: p.latitude ?? null,
    longitude: p.longitude ?? null,
  })),
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const editable = (data: any) => {
  const out = writable(data);
  for (const key of ["id", "status", "published_at", "themes", "organisations", "people", "url", "created_at", "updated_at"]) {
    delete out[key];
  }
  return out;
};

export const ActionCreate = () => (
  <Create redirect="edit" transform={writable}>
    <ActionForm />
  </Create>
);

export const ActionEdit = () => (
  <Edit mutationMode="pessimistic" redirect={false} transform={editable}>
    <ActionForm />
  </Edit>
);

function Changes() {
  const record = useRecordContext();
  const translate = useTranslate();
  if (!record) return null;
  // What an office reader expects: lists as "a, b", nothing as a dash, never raw JSON.
  const show = (value: unknown): string =>
    value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0)
      ? "—"
      : Array.isArray(value)
        ? value.map(show).join(", ")
        : typeof value === "object"
          ? Object.values(value as Record<string, unknown>).map(show).join(" · ")
          : String(value);
  return (
    <table style={{ borderSpacing: "12px 4px" }}>
      <thead>
        <tr>
          <th>{translate("crm.atlaas.field")}</th>
          <th>{translate("crm.atlaas.before")}</th>
          <th>{translate("crm.atlaas.after")}</th>
        </tr>
      </thead>
      <tbody>
        {record.changes.map((c: { field: string; before: unknown; after: unknown }) => (
          <tr key={c.field}>
            <td>{translate(`resources.actions.fields.${c.field}`, { _: c.field })}</td>
            <td style={{ background: "#ffe3e3", whiteSpace: "pre-wrap" }}>{show(c.before)}</td>
            <td style={{ background: "#e3fcec", whiteSpace: "pre-wrap" }}>{show(c.after)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ReviewButtons() {
  const record = useRecordContext();
  const notify = useNotify();
  const refresh = useRefresh();
  if (!record || record.status !== "pending") return null;
  const review = async (verb: "accept" | "reject") => {
    try {
      await api(`/api/v1/actions/proposals/${record.id}/${verb}`, { method: "POST", body: JSON.stringify({}) });
      notify(`crm.atlaas.${verb}ed`, { type: "info" });
      refresh();
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  return (
    <>
      <Button label="crm.atlaas.accept" onClick={() => review("accept")} />
      <Button label="crm.atlaas.reject" onClick={() => review("reject")} />
    </>
  );
}

export function ProposalList() {
  return (
    <List
      resource="atlaas-proposals"
      filters={[<SelectInput key="status" source="status" choices={proposalStatusChoices} alwaysOn />]}
      filterDefaultValues={{ status: "pending" }}
      sort={{ field: "id", order: "ASC" }}
    >
      <Datagrid expand={<Changes />} bulkActionButtons={false} rowClick="expand">
        <DateField source="created_at" showTime locales="fr-FR" sortable={false} />
        <FunctionField source="values.title" render={(r) => r.values?.title} sortable={false} />
        <SelectField source="status" choices={proposalStatusChoices} sortable={false} />
        <FunctionField label="" render={() => <ReviewButtons />} />
      </Datagrid>
    </List>
  );
}
