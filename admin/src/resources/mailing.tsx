// Lists, subscriptions with their proof of consent, suppressions, publications, conventions,
// the board and labels: the records staff keep, each a plain list, form and page.
import {
  BooleanField,
  BooleanInput,
  Create,
  Datagrid,
  DateField,
  DateInput,
  Edit,
  FunctionField,
  List,
  NullableBooleanInput,
  NumberInput,
  ReferenceField,
  ReferenceInput,
  AutocompleteInput,
  SelectField,
  SelectInput,
  Show,
  SimpleForm,
  SimpleShowLayout,
  TextField,
  TextInput,
  required,
} from "react-admin";

const paris = { timeZone: "Europe/Paris" };
const choices = (prefix: string, ids: string[]) => ids.map((id) => ({ id, name: `crm.${prefix}.${id}` }));

export const listKindChoices = choices("list_kind", ["newsletter", "invitations", "publications", "other"]);
export const legalBasisChoices = choices("legal_basis", ["consent", "legitimate_interest"]);
export const subscriptionStatusChoices = choices("subscription_status", ["pending", "subscribed", "unsubscribed"]);
export const suppressionReasonChoices = choices("suppression_reason", [
  "unsubscribed_all",
  "hard_bounce",
  "complaint",
  "erased",
  "manual",
]);
export const publicationKindChoices = choices("publication_kind", ["report", "survey_results", "guide", "motion", "other"]);
export const conventionStatusChoices = choices("convention_status", ["draft", "signed", "active", "expired", "terminated"]);
export const renewalChoices = choices("renewal", ["tacit", "explicit"]);
export const boardRoleChoices = choices("board_role", ["president", "vice_president", "treasurer", "secretary", "member"]);

export function MailingListList() {
  return (
    <List sort={{ field: "name", order: "ASC" }}>
      <Datagrid rowClick="edit" bulkActionButtons={false}>
        <TextField source="name" />
        <SelectField source="kind" choices={listKindChoices} />
        <BooleanField source="is_public" sortable={false} />
        <BooleanField source="double_opt_in" sortable={false} />
      </Datagrid>
    </List>
  );
}

function ListForm() {
  return (
    <SimpleForm>
      <TextInput source="name" validate={required()} fullWidth />
      <TextInput source="slug" validate={required()} helperText="minuscules-et-tirets" />
      <TextInput source="description" multiline fullWidth />
      <SelectInput source="kind" choices={listKindChoices} />
      <BooleanInput source="is_public" />
      <BooleanInput source="double_opt_in" />
    </SimpleForm>
  );
}

export const MailingListCreate = () => (
  <Create redirect="list">
    <ListForm />
  </Create>
);
export const MailingListEdit = () => (
  <Edit mutationMode="pessimistic" redirect="list">
    <ListForm />
  </Edit>
);

export function SubscriptionList() {
  return (
    <List
      sort={{ field: "created_at", order: "DESC" }}
      filters={[
        <ReferenceInput key="list" source="list_id" reference="lists" alwaysOn>
          <AutocompleteInput optionText="name" />
        </ReferenceInput>,
        <SelectInput key="status" source="status" choices={subscriptionStatusChoices} alwaysOn />,
      ]}
    >
      <Datagrid rowClick="show" bulkActionButtons={false}>
        <ReferenceField source="person_id" reference="people" sortable={false} />
        <ReferenceField source="list_id" reference="lists" sortable={false} link={false} />
        <SelectField source="status" choices={subscriptionStatusChoices} />
        <SelectField source="legal_basis" choices={legalBasisChoices} sortable={false} />
        <TextField source="source" sortable={false} />
        <DateField source="consented_at" showTime locales="fr-FR" options={paris} />
      </Datagrid>
    </List>
  );
}

// The proof the GDPR asks for, as recorded: basis, source, when, and the exact text agreed to.
export function SubscriptionShow() {
  return (
    <Show>
      <SimpleShowLayout>
        <ReferenceField source="person_id" reference="people" />
        <ReferenceField source="list_id" reference="lists" link={false} />
        <SelectField source="status" choices={subscriptionStatusChoices} />
        <SelectField source="legal_basis" choices={legalBasisChoices} />
        <TextField source="source" />
        <DateField source="consented_at" showTime locales="fr-FR" options={paris} emptyText="—" />
        <DateField source="confirmed_at" showTime locales="fr-FR" options={paris} emptyText="—" />
        <TextField source="consent_text" emptyText="—" />
        <TextField source="consent_version" emptyText="—" />
        <DateField source="unsubscribed_at" showTime locales="fr-FR" options={paris} emptyText="—" />
        <TextField source="unsubscribe_reason" emptyText="—" />
      </SimpleShowLayout>
    </Show>
  );
}

export function SubscriptionCreate() {
  return (
    <Create redirect="show">
      <SimpleForm defaultValues={{ legal_basis: "legitimate_interest", source: "staff" }}>
        <ReferenceInput source="person_id" reference="people">
          <AutocompleteInput validate={required()} />
        </ReferenceInput>
        <ReferenceInput source="list_id" reference="lists">
          <AutocompleteInput optionText="name" validate={required()} />
        </ReferenceInput>
        <SelectInput source="legal_basis" choices={legalBasisChoices} validate={required()} />
        <TextInput source="source" />
        <TextInput source="consent_text" multiline fullWidth />
        <TextInput source="consent_version" />
      </SimpleForm>
    </Create>
  );
}

export function SuppressionList() {
  return (
    <List sort={{ field: "created_at", order: "DESC" }}>
      <Datagrid bulkActionButtons={false}>
        <SelectField source="reason" choices={suppressionReasonChoices} />
        <TextField source="note" sortable={false} />
        <FunctionField source="email_hash" sortable={false} render={(r: { email_hash: string }) => `${r.email_hash.slice(0, 12)}…`} />
        <DateField source="created_at" showTime locales="fr-FR" options={paris} />
      </Datagrid>
    </List>
  );
}

export function SuppressionCreate() {
  return (
    <Create redirect="list">
      <SimpleForm defaultValues={{ reason: "manual" }}>
        <TextInput source="email" type="email" validate={required()} />
        <SelectInput source="reason" choices={suppressionReasonChoices} />
        <TextInput source="note" multiline fullWidth />
      </SimpleForm>
    </Create>
  );
}

export function PublicationList() {
  return (
    <List sort={{ field: "published_on", order: "DESC" }}>
      <Datagrid rowClick="edit" bulkActionButtons={false}>
        <TextField source="title" />
        <SelectField source="kind" choices={publicationKindChoices} />
        <DateField source="published_on" locales="fr-FR" />
        <BooleanField source="is_public" sortable={false} />
      </Datagrid>
    </List>
  );
}

function PublicationForm() {
  return (
    <SimpleForm defaultValues={{ kind: "report" }}>
      <TextInput source="title" validate={required()} fullWidth />
      <SelectInput source="kind" choices={publicationKindChoices} validate={required()} />
      <DateInput source="published_on" validate={required()} />
      <TextInput source="url" fullWidth />
      <TextInput source="summary" multiline fullWidth />
      <TextInput source="cover_image_url" fullWidth />
      <BooleanInput source="is_public" />
    </SimpleForm>
  );
}

export const PublicationCreate = () => (
  <Create redirect="list">
    <PublicationForm />
  </Create>
);
export const PublicationEdit = () => (
  <Edit mutationMode="pessimistic" redirect="list">
    <PublicationForm />
  </Edit>
);

export function ConventionList() {
  return (
    <List sort={{ field: "ends_on", order: "ASC" }} filters={[<SelectInput key="status" source="status" choices={conventionStatusChoices} alwaysOn />]}>
      <Datagrid rowClick="edit" bulkActionButtons={false}>
        <TextField source="organisation_name" sortable={false} />
        <TextField source="title" />
        <SelectField source="status" choices={conventionStatusChoices} />
        <SelectField source="renewal" choices={renewalChoices} sortable={false} />
        <DateField source="ends_on" locales="fr-FR" />
        <DateField source="notice_deadline" locales="fr-FR" sortable={false} />
      </Datagrid>
    </List>
  );
}

function ConventionForm() {
  return (
    <SimpleForm defaultValues={{ status: "draft", renewal: "explicit", notice_period_days: 0 }}>
      <ReferenceInput source="organisation_id" reference="organisations">
        <AutocompleteInput optionText="name" validate={required()} />
      </ReferenceInput>
      <TextInput source="title" validate={required()} fullWidth />
      <SelectInput source="status" choices={conventionStatusChoices} />
      <DateInput source="signed_on" />
      <DateInput source="starts_on" />
      <DateInput source="ends_on" />
      <SelectInput source="renewal" choices={renewalChoices} />
      <NumberInput source="notice_period_days" min={0} max={3650} />
      <NumberInput source="renewal_term_months" min={1} max={240} />
      <TextInput source="document_url" fullWidth />
      <TextInput source="commitments" multiline fullWidth />
    </SimpleForm>
  );
}

export const ConventionCreate = () => (
  <Create redirect="list">
    <ConventionForm />
  </Create>
);
export const ConventionEdit = () => (
  <Edit mutationMode="pessimistic" redirect="list">
    <ConventionForm />
  </Edit>
);

export function MandateList() {
  return (
    <List
      sort={{ field: "term_end", order: "ASC" }}
      filters={[
        <NullableBooleanInput key="current" source="current" alwaysOn />,
        <SelectInput key="role" source="role" choices={boardRoleChoices} />,
      ]}
      filterDefaultValues={{ current: true }}
    >
      <Datagrid rowClick="edit" bulkActionButtons={false}>
        <TextField source="person_name" sortable={false} />
        <TextField source="organisation_name" sortable={false} />
        <SelectField source="role" choices={boardRoleChoices} />
        <DateField source="term_start" locales="fr-FR" />
        <DateField source="term_end" locales="fr-FR" />
      </Datagrid>
    </List>
  );
}

function MandateForm() {
  return (
    <SimpleForm defaultValues={{ role: "member" }}>
      <ReferenceInput source="person_id" reference="people">
        <AutocompleteInput validate={required()} />
      </ReferenceInput>
      <ReferenceInput source="organisation_id" reference="organisations">
        <AutocompleteInput optionText="name" validate={required()} />
      </ReferenceInput>
      <SelectInput source="role" choices={boardRoleChoices} />
      <DateInput source="term_start" validate={required()} />
      <DateInput source="term_end" />
    </SimpleForm>
  );
}

export const MandateCreate = () => (
  <Create redirect="list">
    <MandateForm />
  </Create>
);
export const MandateEdit = () => (
  <Edit mutationMode="pessimistic" redirect="list">
    <MandateForm />
  </Edit>
);

export function LabelList() {
  return (
    <List
      sort={{ field: "year", order: "DESC" }}
      filters={[<NumberInput key="year" source="year" min={2000} max={2100} alwaysOn />, <NumberInput key="level" source="level" min={1} max={5} />]}
    >
      <Datagrid rowClick="edit" bulkActionButtons={false}>
        <TextField source="organisation_name" sortable={false} />
        <TextField source="year" />
        <FunctionField source="level" render={(r: { level: number }) => "@".repeat(r.level)} />
        <BooleanField source="green" sortable={false} />
      </Datagrid>
    </List>
  );
}

function LabelForm() {
  return (
    <SimpleForm defaultValues={{ year: new Date().getFullYear(), level: 1, green: false }}>
      <ReferenceInput source="organisation_id" reference="organisations">
        <AutocompleteInput optionText="name" validate={required()} />
      </ReferenceInput>
      <NumberInput source="year" min={2000} max={2100} validate={required()} />
      <NumberInput source="level" min={1} max={5} validate={required()} />
      <BooleanInput source="green" />
    </SimpleForm>
  );
}

export const LabelCreate = () => (
  <Create redirect="list">
    <LabelForm />
  </Create>
);
export const LabelEdit = () => (
  <Edit mutationMode="pessimistic" redirect="list">
    <LabelForm />
  </Edit>
);
