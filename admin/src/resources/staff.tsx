import {
  BooleanField,
  BooleanInput,
  Create,
  Datagrid,
  DateField,
  Edit,
  List,
  SelectField,
  SelectInput,
  SimpleForm,
  TextField,
  TextInput,
  required,
} from "react-admin";
import { roleChoices } from "../choices";

export function StaffList() {
  return (
    <List sort={{ field: "name", order: "ASC" }}>
      <Datagrid rowClick="edit" bulkActionButtons={false}>
        <TextField source="name" />
        <TextField source="email" />
        <SelectField source="role" choices={roleChoices} />
        <BooleanField source="is_active" sortable={false} />
        <BooleanField source="has_password" sortable={false} />
        <DateField source="last_login_at" showTime locales="fr-FR" options={{ timeZone: "Europe/Paris" }} />
      </Datagrid>
    </List>
  );
}

export function StaffInvite() {
  return (
    <Create redirect="list">
      <SimpleForm defaultValues={{ role: "viewer" }}>
        <TextInput source="email" type="email" validate={required()} />
        <TextInput source="name" />
        <SelectInput source="role" choices={roleChoices} validate={required()} />
      </SimpleForm>
    </Create>
  );
}

export function StaffEdit() {
  return (
    <Edit mutationMode="pessimistic" redirect="list">
      <SimpleForm>
        <TextField source="email" />
        <TextInput source="name" />
        <SelectInput source="role" choices={roleChoices} />
        <BooleanInput source="is_active" />
      </SimpleForm>
    </Edit>
  );
}
