import { useState } from "react";
import { Box, Button, Card } from "@mui/material";
import {
  AutocompleteInput,
  BooleanInput,
  DateInput,
  Form,
  HttpError,
  ReferenceInput,
  SaveButton,
  useNotify,
  useRefresh,
  useTranslate,
  CreateButton,
  Datagrid,
  DateField,
  ExportButton,
  FunctionField,
  List,
  Pagination,
  ReferenceManyField,
  SearchInput,
  SelectField,
  SelectInput,
  Show,
  SimpleForm,
  SimpleShowLayout,
  TextField,
  TextInput,
  TopToolbar,
  BooleanField,
  required,
  useCanAccess,
  useRecordContext,
} from "react-admin";
import { api } from "../api";
import { positionKindChoices } from "../choices";
import { CreateKeepingDraft, EditKeepingDraft, KeepDraft } from "../KeepDraft";
import { PersonalData } from "./privacy";

const filters = [
  <SearchInput key="q" source="q" alwaysOn />,
  <SelectInput key="kind" source="kind" choices={positionKindChoices} />,
  <TextInput key="tag" source="tag" />,
];

const csvExport = () => {
  window.location.assign("/api/v1/people/export.csv");
};

function ListActions() {
  return (
    <TopToolbar>
      <CreateButton />
      <ExportButton exporter={csvExport} />
    </TopToolbar>
  );
}

interface CurrentPosition {
  title: string;
  organisation_name: string;
}

export function PersonList() {
  return (
    <List filters={filters} actions={<ListActions />} perPage={25}>
      <Datagrid rowClick="show" bulkActionButtons={false}>
        <TextField source="last_name" />
        <TextField source="first_name" />
        <TextField source="email" />
        <FunctionField
          source="positions"
          sortable={false}
          render={(r: { positions?: CurrentPosition[] }) =>
            (r.positions ?? []).map((p) => `${p.title} — ${p.organisation_name}`).join(" ; ")
          }
        />
      </Datagrid>
    </List>
  );
}

function PersonForm() {
  return (
    <SimpleForm>
      <KeepDraft />
      <TextInput source="first_name" validate={required()} />
      <TextInput source="last_name" validate={required()} />
      <TextInput source="email" type="email" />
      <TextInput source="phone" />
      <TextInput source="language" defaultValue="fr" />
      <TextInput source="notes" multiline />
    </SimpleForm>
  );
}

export function PersonCreate() {
  return (
    <CreateKeepingDraft>
      <PersonForm />
    </CreateKeepingDraft>
  );
}

export function PersonEdit() {
  return (
    <EditKeepingDraft>
      <PersonForm />
    </EditKeepingDraft>
  );
}

// A job change in one step: the new position starts and the current ones end on the same day.
function JobChange() {
  const record = useRecordContext();
  const translate = useTranslate();
  const notify = useNotify();
  const refresh = useRefresh();
  const { canAccess } = useCanAccess({ resource: "people", action: "edit" });
  const [open, setOpen] = useState(false);
  if (!record || !canAccess) return null;
  const save = async (values: Record<string, unknown>) => {
    try {
      await api(`/api/v1/people/${record.id}/job-change`, {
        method: "POST",
        body: JSON.stringify({ ...values, end_current: values.keep_current ? [] : "all", keep_current: undefined }),
      });
      notify("crm.people.job_changed", { type: "info" });
      setOpen(false);
      refresh();
    } catch (error) {
      const problem = error as HttpError;
      notify(problem.message, { type: "error" });
      return (problem.body as { errors?: Record<string, string> })?.errors;
    }
  };
  return (
    <Box sx={{ my: 2 }}>
      {!open ? (
        <Button variant="outlined" onClick={() => setOpen(true)}>
          {translate("crm.people.job_change")}
        </Button>
      ) : (
        <Card variant="outlined">
          <Form onSubmit={save} defaultValues={{ kind: "elected", on: new Date().toISOString().slice(0, 10) }}>
            <Box sx={{ p: 2, display: "flex", gap: 2, flexWrap: "wrap", alignItems: "center" }}>
              <ReferenceInput source="organisation_id" reference="organisations">
                <AutocompleteInput optionText="name" validate={required()} label="resources.positions.fields.organisation_name" />
              </ReferenceInput>
              <TextInput source="title" validate={required()} label="resources.positions.fields.title" />
              <SelectInput source="kind" choices={positionKindChoices} label="resources.positions.fields.kind" />
              <DateInput source="on" validate={required()} label="crm.people.on" />
              <BooleanInput source="keep_current" label="crm.people.keep_current" />
              <SaveButton alwaysEnable />
              <Button onClick={() => setOpen(false)}>{translate("ra.action.cancel")}</Button>
            </Box>
          </Form>
        </Card>
      )}
    </Box>
  );
}

export function PersonShow() {
  return (
    <Show>
      <SimpleShowLayout>
        <TextField source="first_name" />
        <TextField source="last_name" />
        <TextField source="email" emptyText="—" />
        <TextField source="phone" emptyText="—" />
        <TextField source="language" />
        <TextField source="notes" emptyText="—" />
        <JobChange />
        <PersonalData />
        <ReferenceManyField
          reference="positions"
          target="person_id"
          label="resources.positions.name"
          sort={{ field: "started_on", order: "DESC" }}
          pagination={<Pagination />}
        >
          <Datagrid
            rowClick={(_id, _res, record) => `/organisations/${record.organisation_id}/show`}
            bulkActionButtons={false}
          >
            <TextField source="title" label="resources.positions.fields.title" />
            <TextField source="organisation_name" label="resources.positions.fields.organisation_name" />
            <SelectField source="kind" choices={positionKindChoices} label="resources.positions.fields.kind" />
            <DateField source="started_on" locales="fr-FR" label="resources.positions.fields.started_on" />
            <DateField source="ended_on" locales="fr-FR" label="resources.positions.fields.ended_on" />
            <BooleanField source="is_current" label="resources.positions.fields.is_current" />
          </Datagrid>
        </ReferenceManyField>
      </SimpleShowLayout>
    </Show>
  );
}
