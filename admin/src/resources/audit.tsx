import { Datagrid, DateField, FunctionField, List, SelectInput, TextField, TextInput } from "react-admin";

const filters = [
  <SelectInput
    key="action"
    source="action"
    choices={["create", "update", "delete", "login", "export", "send"].map((id) => ({ id, name: id }))}
  />,
  <TextInput key="entity_type" source="entity_type" />,
];

export function AuditList() {
  return (
    <List filters={filters} sort={{ field: "occurred_at", order: "DESC" }} perPage={50}>
      <Datagrid bulkActionButtons={false} rowClick={false}>
        <DateField source="occurred_at" showTime locales="fr-FR" options={{ timeZone: "Europe/Paris" }} />
        <TextField source="action" />
        <TextField source="entity_type" />
        <TextField source="actor_type" sortable={false} />
        <FunctionField
          source="changes"
          sortable={false}
          render={(r: { changes?: Record<string, unknown> | null }) =>
            r.changes ? Object.keys(r.changes).join(", ") : ""
          }
        />
      </Datagrid>
    </List>
  );
}
