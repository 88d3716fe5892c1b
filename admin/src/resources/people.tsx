import {
  Create,
  CreateButton,
  Datagrid,
  DateField,
  Edit,
  EditButton,
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
import { positionKindChoices } from "../choices";
import { draftKey, KeepDraft, useSavedWithDraft } from "../KeepDraft";

const filters = [
  <SearchInput key="q" source="q" alwaysOn />,
  <SelectInput key="kind" source="kind" choices={positionKindChoices} />,
  <TextInput key="tag" source="tag" />,
];

const csvExport = () => {
  window.location.assign("/api/v1/people/export.csv");
};

function ListActions() {
  const { canAccess } = useCanAccess({ resource: "people", action: "create" });
  return (
    <TopToolbar>
      {canAccess && <CreateButton />}
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

function PersonForm({ storageKey }: { storageKey: string }) {
  return (
    <SimpleForm>
      <KeepDraft storageKey={storageKey} />
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
  const key = draftKey("people");
  const created = useSavedWithDraft("people", "created");
  return (
    <Create redirect="show" mutationOptions={{ onSuccess: created }}>
      <PersonForm storageKey={key} />
    </Create>
  );
}

function EditForm() {
  const record = useRecordContext();
  return <PersonForm storageKey={draftKey("people", record?.id)} />;
}

export function PersonEdit() {
  const updated = useSavedWithDraft("people", "updated");
  return (
    <Edit mutationMode="pessimistic" mutationOptions={{ onSuccess: updated }}>
      <EditForm />
    </Edit>
  );
}

function ShowActions() {
  const { canAccess } = useCanAccess({ resource: "people", action: "edit" });
  return <TopToolbar>{canAccess && <EditButton />}</TopToolbar>;
}

export function PersonShow() {
  return (
    <Show actions={<ShowActions />}>
      <SimpleShowLayout>
        <TextField source="first_name" />
        <TextField source="last_name" />
        <TextField source="email" emptyText="—" />
        <TextField source="phone" emptyText="—" />
        <TextField source="language" />
        <TextField source="notes" emptyText="—" />
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
